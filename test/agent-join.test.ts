// `kts agent` joins a `kts server` end to end, as a user does it on two machines: the server
// (a child process on the host, listening on a test LAN bridge) prints a join token; the
// agent runs in its own network namespace on that LAN with the token, discovers the cluster,
// bootstraps its kubelet's client certificate through a CSR that the controllers approve
// and sign, registers its node and runs a pod the real kubectl then reads the logs of
// (API server → agent kubelet). A wrong token fails fast with a clear message, and a
// restarted agent reuses its kubelet.kubeconfig instead of asking for a second certificate.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Kubectl } from './helpers/kubectl.js';
import { createTestLan, type LanHost, type TestLan } from './helpers/netns-lan.js';

const ROOT = join(import.meta.dirname, '..');
const AGENT_NODE = 'kts-agent-2';

/** A kts child process (server or agent) and its output so far. */
class KtsProcess {
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (d: Buffer) => {
      this.stdout += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** Resolves once stdout contains `text`; rejects if the process exits or time runs out. */
  async waitFor(text: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => {
      exited = true;
    });
    while (!this.stdout.includes(text)) {
      if (exited || Date.now() > deadline)
        throw new Error(
          `no "${text}" from ${this.name}\nstdout:\n${this.stdout}\nstderr:\n${this.stderr.slice(-3000)}`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGTERM, then the exit code (SIGKILL after `graceMs`). */
  async stop(graceMs = 15_000): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const KTS = [process.execPath, '--import', 'tsx', 'src/cli/main.ts'];

/** Pids of processes whose command line mentions `needle` (a data dir). */
function processesMentioning(needle: string): number[] {
  const r = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .filter((l) => l.includes(needle) && !l.includes('ps -eo'))
    .map((l) => Number(l.trim().split(/\s+/)[0]))
    .filter((p) => !Number.isNaN(p));
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${last !== undefined ? `: ${String(last)}` : ''}`);
}

const SKIP =
  process.getuid?.() !== 0
    ? 'needs root (network namespaces)'
    : spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status !== 0
      ? 'kubectl is not installed'
      : false;

describe('kts agent joins kts server', { skip: SKIP }, () => {
  let lan: TestLan | undefined;
  let node2: LanHost;
  let serverDir = '';
  let agentDir = '';
  let server: KtsProcess | undefined;
  let agent: KtsProcess | undefined;
  let kubectl: Kubectl;
  let serverURL = '';
  let joinToken = '';

  const startAgent = (token: string, dataDir: string): KtsProcess =>
    new KtsProcess(
      'kts agent',
      node2.spawn(
        [
          ...KTS,
          'agent',
          '--server',
          serverURL,
          '--token',
          token,
          '--runtime',
          'process',
          '--node-name',
          AGENT_NODE,
          '--data-dir',
          dataDir,
          '--disable-proxy',
        ],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
      ),
    );

  before(async () => {
    serverDir = mkdtempSync(join(tmpdir(), 'kts-join-server-'));
    agentDir = mkdtempSync(join(tmpdir(), 'kts-join-agent-'));
    lan = await createTestLan('192.168.244');
    node2 = await lan.addHost('node2', 2);
    const port = await freePort(lan.hostAddress);
    serverURL = `https://${lan.hostAddress}:${port}`;
    server = new KtsProcess(
      'kts server',
      spawn(
        KTS[0] ?? 'node',
        [
          ...KTS.slice(1),
          'server',
          '--data-dir',
          serverDir,
          '--https-port',
          String(port),
          '--bind-address',
          lan.hostAddress,
          '--advertise-address',
          lan.hostAddress,
          '--runtime',
          'process',
          '--node-name',
          'kts-server-1',
          '--disable',
          'proxy',
          '--disable',
          'dns',
          '--kubelet-port',
          '0',
        ],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
      ),
    );
    await server.waitFor('export KUBECONFIG=', 90_000);
    kubectl = new Kubectl(join(serverDir, 'kubeconfig.yaml'));
    joinToken = readFileSync(join(serverDir, 'agent-token'), 'utf8').trim();
  });

  after(async () => {
    await agent?.stop();
    await server?.stop();
    for (const dir of [agentDir, serverDir])
      for (const pid of processesMentioning(dir)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    await lan?.remove();
    kubectl?.cleanup();
    for (const dir of [agentDir, serverDir]) if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('prints the join command with the token it keeps in DATA_DIR/agent-token', () => {
    assert.match(joinToken, /^K10[0-9a-f]{64}::[a-z0-9]{6}\.[a-z0-9]{16}$/);
    assert.ok(
      server?.stdout.includes(`join more nodes with: kts agent --server ${serverURL} --token ${joinToken}`),
      server?.stdout,
    );
  });

  it('rejects a wrong token with a clear message and a non-zero exit', async () => {
    const id = joinToken.split('::')[1]?.split('.')[0] ?? '';
    const cases = [
      { token: `${id}.0000000000000000`, message: /failed to verify JWS signature/ },
      { token: `K10${'0'.repeat(64)}::${joinToken.split('::')[1]}`, message: /cluster CA .* is invalid/ },
      { token: 'abcdef.0123456789abcdef', message: /token id "abcdef" is invalid for this cluster/ },
    ];
    // In parallel: each is a separate agent process that gives up on its own.
    await Promise.all(
      cases.map(async (c) => {
        const dir = mkdtempSync(join(tmpdir(), 'kts-join-bad-'));
        try {
          const bad = startAgent(c.token, dir);
          let timer: NodeJS.Timeout | undefined;
          const code = await Promise.race([
            bad.exited,
            new Promise<'timeout'>((r) => {
              timer = setTimeout(() => r('timeout'), 30_000);
            }),
          ]);
          clearTimeout(timer);
          if (code === 'timeout') await bad.stop(1000);
          assert.equal(code, 1, `${c.token}: ${bad.stdout}${bad.stderr}`);
          assert.match(bad.stderr, c.message);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }),
    );
  });

  it('retries an unreachable server until SIGTERM, then exits', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kts-join-unreachable-'));
    const url = serverURL;
    try {
      serverURL = `https://${lan?.hostAddress}:1`;
      const lost = startAgent(joinToken, dir);
      await lost.waitFor('discovery failed', 30_000);
      assert.match(lost.stdout, /retrying in 1 s \(is the server reachable\?\)/);
      const code = await lost.stop(5000);
      assert.equal(code, 1, lost.stdout + lost.stderr);
      assert.match(lost.stderr, /kts agent: interrupted before the node joined/);
    } finally {
      serverURL = url;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('registers the agent node, which becomes Ready', async () => {
    agent = startAgent(joinToken, agentDir);
    await agent.waitFor(`kubelet registered node ${AGENT_NODE}`, 90_000);
    await until('the agent node Ready', 60_000, async () => {
      const out = await kubectl.ok([
        'get',
        'node',
        AGENT_NODE,
        '-o',
        'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
      ]);
      return out.trim() === 'True' ? true : undefined;
    });
    const ip = await kubectl.ok([
      'get',
      'node',
      AGENT_NODE,
      '-o',
      'jsonpath={.status.addresses[?(@.type=="InternalIP")].address}',
    ]);
    assert.equal(ip.trim(), node2.address);
  });

  it("shows the node's client CSR Approved,Issued, requested by the bootstrap token", async () => {
    const id = joinToken.split('::')[1]?.split('.')[0] ?? '';
    const out = await kubectl.ok(['get', 'csr']);
    const rows = out.trim().split('\n');
    assert.match(rows[0] ?? '', /^NAME\s+AGE\s+SIGNERNAME\s+REQUESTOR\s+REQUESTEDDURATION\s+CONDITION$/);
    const mine = rows.filter((r) => r.includes(`system:bootstrap:${id}`));
    // Exactly one: a year-long certificate is not renewed for months.
    assert.equal(rows.length, 2, out);
    assert.equal(mine.length, 1, out);
    assert.match(
      mine[0] ?? '',
      new RegExp(
        `^node-csr-\\S+\\s+\\S+\\s+kubernetes\\.io/kube-apiserver-client-kubelet\\s+system:bootstrap:${id}\\s+<none>\\s+Approved,Issued$`,
      ),
    );
  });

  it('runs a pod on the agent node and serves its logs through the API server', async () => {
    await kubectl.ok(['apply', '-f', '-'], {
      stdin: `apiVersion: v1
kind: Pod
metadata: {name: on-agent, namespace: default}
spec:
  nodeName: ${AGENT_NODE}
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: kts.local/busybox:latest
    command: [sh, -c, 'echo hello from ${AGENT_NODE}; exec sleep 3600']
`,
    });
    await until('pod on-agent Running', 60_000, async () => {
      const phase = await kubectl.ok(['get', 'pod', 'on-agent', '-o', 'jsonpath={.status.phase}']);
      return phase === 'Running' ? true : undefined;
    });
    const logs = await until('logs of on-agent', 20_000, async () => {
      const out = await kubectl.ok(['logs', 'on-agent']);
      return out.includes('hello') ? out : undefined;
    });
    assert.equal(logs, `hello from ${AGENT_NODE}\n`);
  });

  it('restarts on its saved kubelet.kubeconfig without a second CSR', async () => {
    assert.ok(agent);
    const code = await agent.stop();
    assert.equal(code, 0, agent.stderr.slice(-2000));
    assert.match(agent.stdout, /kts agent: node certificate issued for system:node:kts-agent-2\n/);
    assert.doesNotMatch(agent.stdout, /renewed/);
    assert.match(agent.stdout, /kts agent: stopped/);
    agent = startAgent(joinToken, agentDir);
    await agent.waitFor('reusing the node certificate', 60_000);
    await agent.waitFor(`kubelet registered node ${AGENT_NODE}`, 60_000);
    const csrs = await kubectl.ok(['get', 'csr', '-o', 'name']);
    assert.equal(csrs.trim().split('\n').length, 1, csrs);
    await until('the agent node Ready again', 60_000, async () => {
      const out = await kubectl.ok([
        'get',
        'node',
        AGENT_NODE,
        '-o',
        'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
      ]);
      return out.trim() === 'True' ? true : undefined;
    });
  });
});
