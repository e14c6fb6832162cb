// HA as k3s runs it with an external datastore: a 3-member etcd cluster on loopback and two
// `kts server` processes on it (A advertises 127.0.0.1, B 127.0.0.2, different ports, no
// node of their own; a hollow node in the test process runs the pods). Checked with the real
// kubectl: B loads A's CA from the datastore (a wrong token is refused), both serve the same
// objects, A's kubeconfig and A's service-account tokens work on B, one leader per Lease, the
// `kubernetes` endpoints list both; after SIGKILL of A, B takes both Leases, the endpoints
// drop A and a Deployment scale-up is acted on; with one etcd member killed the cluster keeps
// working. Every process is ended by pid and every temp dir removed.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type HollowNodes, startHollowNodes } from '../src/hollow/index.js';
import { Kubectl } from './helpers/kubectl.js';

const ROOT = join(import.meta.dirname, '..');
const ETCD = '/usr/bin/etcd';
const TOKEN = 'hatest.0123456789abcdef';
// Short Leases so a takeover fits the test (upstream defaults are 15 s / 10 s / 2 s).
const LEADER_FLAGS = [
  '--leader-elect-lease-duration=6s',
  '--leader-elect-renew-deadline=4s',
  '--leader-elect-retry-period=1s',
];

function listenPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
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
  throw new Error(`timed out waiting for ${what}${last === undefined ? '' : `: ${String(last)}`}`);
}

/** A child process with its output kept, ended by pid. */
class Proc {
  out = '';
  err = '';
  readonly child: ChildProcess;
  readonly exit: Promise<number | null>;

  constructor(cmd: string, args: string[]) {
    this.child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (d: Buffer) => {
      this.out += d.toString();
    });
    this.child.stderr?.on('data', (d: Buffer) => {
      this.err = (this.err + d.toString()).slice(-200_000);
    });
    this.exit = new Promise((r) => this.child.once('exit', (code) => r(code)));
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async waitOut(text: string, timeoutMs: number): Promise<void> {
    await until(`"${text}"`, timeoutMs, async () => {
      if (this.out.includes(text)) return true;
      if (!this.alive) throw new Error(`exited\nstdout:\n${this.out}\nstderr:\n${this.err.slice(-3000)}`);
      return undefined;
    }).catch((e: Error) => {
      throw new Error(`${e.message}\nstdout:\n${this.out}\nstderr:\n${this.err.slice(-3000)}`);
    });
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    if (!this.alive) return;
    this.child.kill(signal);
    const t = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exit;
    clearTimeout(t);
  }
}

interface Member {
  name: string;
  client: string;
  peer: string;
  dir: string;
  proc?: Proc;
}

async function healthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
    return res.ok && String(((await res.json()) as { health?: unknown }).health) === 'true';
  } catch {
    return false;
  }
}

/** GET with a bearer token against a server, trusting the given CA; the status code. */
function bearerStatus(url: string, caPem: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/api/v1/namespaces/default/pods`, {
      ca: caPem,
      headers: { authorization: `Bearer ${token}` },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('kts server HA on a 3-member etcd cluster', { timeout: 240_000 }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'kts-ha-'));
  const members: Member[] = [];
  let a: Proc;
  let b: Proc;
  let urlA = '';
  let urlB = '';
  let kA: Kubectl;
  let kB: Kubectl;
  let hollow: HollowNodes | undefined;
  const dirA = join(tmp, 'a');
  const dirB = join(tmp, 'b');

  const serverArgs = (dir: string, port: number, advertise: string, endpoint: string[], token = TOKEN) => [
    '--import',
    'tsx',
    'src/cli/main.ts',
    'server',
    `--data-dir=${dir}`,
    `--https-port=${port}`,
    `--advertise-address=${advertise}`,
    ...endpoint.flatMap((e) => ['--datastore-endpoint', e]),
    `--token=${token}`,
    '--disable-agent',
    '--disable=proxy',
    '--disable=dns',
    ...LEADER_FLAGS,
  ];

  before(async () => {
    for (let i = 0; i < 3; i++) {
      members.push({
        name: `m${i}`,
        client: `http://127.0.0.1:${await listenPort()}`,
        peer: `http://127.0.0.1:${await listenPort()}`,
        dir: join(tmp, `etcd-${i}`),
      });
    }
    const cluster = members.map((m) => `${m.name}=${m.peer}`).join(',');
    for (const m of members) {
      m.proc = new Proc(ETCD, [
        `--name=${m.name}`,
        `--data-dir=${m.dir}`,
        `--listen-client-urls=${m.client}`,
        `--advertise-client-urls=${m.client}`,
        `--listen-peer-urls=${m.peer}`,
        `--initial-advertise-peer-urls=${m.peer}`,
        `--initial-cluster=${cluster}`,
        '--initial-cluster-state=new',
        '--initial-cluster-token=kts-ha-test',
        // The watch caches learn that a quiet prefix is current from progress notifications;
        // etcd's default (every 10 min) makes reads after writes elsewhere wait (see report).
        '--experimental-watch-progress-notify-interval=100ms',
        '--log-level=error',
        '--logger=zap',
      ]);
    }
    await until('etcd cluster health', 30_000, async () =>
      (await Promise.all(members.map((m) => healthy(m.client)))).every(Boolean) ? true : undefined,
    );
    const hosts = members.map((m) => m.client.slice('http://'.length));
    const portA = await listenPort();
    const portB = await listenPort();
    urlA = `https://127.0.0.1:${portA}`;
    urlB = `https://127.0.0.2:${portB}`;
    // A names the cluster as etcd://h1,h2,h3; B as k3s does (http:// list, flag repeated).
    a = new Proc(process.execPath, serverArgs(dirA, portA, '127.0.0.1', [`etcd://${hosts.join(',')}`]));
    await a.waitOut('export KUBECONFIG=', 90_000);
    await until('A leading both', 20_000, async () =>
      a.err.includes('started leading') && a.err.includes('became leader') ? true : undefined,
    );
    b = new Proc(
      process.execPath,
      serverArgs(dirB, portB, '127.0.0.2', [`http://${hosts[0]},http://${hosts[1]}`, `http://${hosts[2]}`]),
    );
    await b.waitOut('export KUBECONFIG=', 90_000);
    kA = new Kubectl(join(dirA, 'kubeconfig.yaml'));
    kB = new Kubectl(join(dirB, 'kubeconfig.yaml'));
  });

  after(async () => {
    if (process.env.KTS_HA_DEBUG) {
      writeFileSync(join(process.env.KTS_HA_DEBUG, 'a.log'), `${a?.out}\n${a?.err}`);
      writeFileSync(join(process.env.KTS_HA_DEBUG, 'b.log'), `${b?.out}\n${b?.err}`);
    }
    await hollow?.close({ deleteNodes: false }).catch(() => {});
    await a?.kill('SIGKILL');
    await b?.kill('SIGTERM');
    for (const m of members) await m.proc?.kill('SIGTERM');
    kA?.cleanup();
    kB?.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('shares the cluster CA through the datastore and refuses a wrong token', async () => {
    assert.match(a.out, /stored in the datastore/);
    assert.match(b.out, /loaded from the datastore/);
    const caA = readFileSync(join(dirA, 'tls', 'ca.crt'), 'utf8');
    assert.equal(readFileSync(join(dirB, 'tls', 'ca.crt'), 'utf8'), caA);
    assert.equal(
      readFileSync(join(dirB, 'tls', 'service-account.key'), 'utf8'),
      readFileSync(join(dirA, 'tls', 'service-account.key'), 'utf8'),
    );
    assert.match(readFileSync(join(dirA, 'token'), 'utf8'), /^K10[0-9a-f]{64}::hatest.0123456789abcdef\n$/);
    const hosts = members.map((m) => m.client.slice('http://'.length));
    const bad = new Proc(
      process.execPath,
      serverArgs(join(tmp, 'c'), await listenPort(), '127.0.0.3', [`etcd://${hosts.join(',')}`], 'wrong'),
    );
    assert.equal(await bad.exit, 1);
    assert.match(bad.err, /bootstrap data already found and encrypted with different token/);
  });

  it('serves the same objects from both servers, with one set of credentials', async () => {
    await kA.ok(['create', 'configmap', 'shared', '--from-literal=k=v']);
    assert.equal((await kB.ok(['get', 'configmap', 'shared', '-o', 'jsonpath={.data.k}'])).trim(), 'v');
    // A's admin kubeconfig against B: B's serving cert and client CA come from the shared CA.
    assert.equal(
      (
        await kA.ok(['--server', urlB, 'get', 'configmap', 'shared', '-o', 'jsonpath={.metadata.name}'])
      ).trim(),
      'shared',
    );
    assert.match(
      await kB.ok(['--server', urlA, 'get', 'namespace', 'default', '-o', 'name']),
      /namespace\/default/,
    );
    // A service-account token issued by A is authenticated by B (403, not 401).
    const token = await until('a token for default/default', 30_000, async () => {
      const r = await kA.run(['create', 'token', 'default', '--duration=10m']);
      return r.code === 0 ? r.stdout.trim() : undefined;
    });
    const ca = readFileSync(join(dirA, 'tls', 'ca.crt'), 'utf8');
    assert.equal(await bearerStatus(urlB, ca, token), 403);
    assert.equal(await bearerStatus(urlB, ca, `${token}x`), 401);
  });

  it('has one leader per Lease and lists both servers in the kubernetes endpoints', async () => {
    for (const lease of ['kube-scheduler', 'kube-controller-manager']) {
      const holder = await kB.ok([
        'get',
        'lease',
        '-n',
        'kube-system',
        lease,
        '-o',
        'jsonpath={.spec.holderIdentity}',
      ]);
      assert.match(holder, /^.+_[0-9a-f-]{36}$/, lease);
    }
    assert.ok(!b.err.includes('started leading'), 'B must not lead the controller manager');
    assert.ok(!b.err.includes('became leader'), 'B must not lead the scheduler');
    const ids = await kB.ok([
      'get',
      'lease',
      '-n',
      'kube-system',
      '-l',
      'apiserver.kubernetes.io/identity=kube-apiserver',
      '-o',
      'name',
    ]);
    assert.equal(ids.trim().split('\n').length, 2, ids);
    const ips = await until('both servers in the endpoints', 20_000, async () => {
      const v = await kB.ok([
        'get',
        'endpoints',
        'kubernetes',
        '-o',
        'jsonpath={.subsets[*].addresses[*].ip}',
      ]);
      return v.split(' ').sort().join(' ') === '127.0.0.1 127.0.0.2' ? v : undefined;
    });
    assert.ok(ips);
  });

  it('survives SIGKILL of the leading server: B takes over and acts on a scale-up', async () => {
    hollow = await startHollowNodes({ kubeconfig: join(dirB, 'kubeconfig.yaml'), count: 1, zones: 0 });
    await kB.ok(['create', 'deployment', 'web', '--image=registry.k8s.io/pause:3.10', '--replicas=2']);
    const running = (n: number) => async () => {
      const phases = await kB.ok(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].status.phase}']);
      const ps = phases.split(' ').filter((p) => p !== '');
      return ps.length === n && ps.every((p) => p === 'Running') ? true : undefined;
    };
    await until('2 pods running', 30_000, running(2));

    const killedAt = Date.now();
    await a.kill('SIGKILL');
    await until('B leading both', 30_000, async () =>
      b.err.includes('started leading') && b.err.includes('became leader') ? true : undefined,
    );
    await until('the endpoints drop A', 30_000, async () => {
      const v = await kB.ok([
        'get',
        'endpoints',
        'kubernetes',
        '-o',
        'jsonpath={.subsets[*].addresses[*].ip}',
      ]);
      return v.trim() === '127.0.0.2' ? true : undefined;
    });
    await kB.ok(['scale', 'deployment', 'web', '--replicas=3']);
    await until('3 pods running', 30_000, running(3));
    assert.ok(Date.now() - killedAt < 60_000);
  });

  it('keeps working with one etcd member down', async () => {
    const victim = members[0];
    assert.ok(victim?.proc);
    await victim.proc.kill('SIGKILL');
    await until('a write through B', 30_000, async () => {
      const r = await kB.run(['create', 'configmap', 'after-etcd-loss', '--from-literal=k=v']);
      return r.code === 0 || r.stderr.includes('AlreadyExists') ? true : undefined;
    });
    await kB.ok(['scale', 'deployment', 'web', '--replicas=4']);
    await until('4 pods running', 30_000, async () => {
      const phases = await kB.ok(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].status.phase}']);
      const ps = phases.split(' ').filter((p) => p !== '');
      return ps.length === 4 && ps.every((p) => p === 'Running') ? true : undefined;
    });
  });
});
