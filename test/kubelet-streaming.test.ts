// Streaming through the API server to the kubelet's HTTPS server, driven with the real
// kubectl: `logs` (whole, --tail, -f following a new line), `exec` (output, exit codes,
// stdin), `attach`, `run -i --rm` (the output of a command that exits before the attach
// reaches it comes from the logs) and the errors kubectl users see. One in-process API
// server and one kubelet on the process runtime whose server listens on a free loopback
// port the Node advertises.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import https from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Pod } from '../src/api/generated/types/core-v1.js';
import { NODES, PODS } from '../src/client/resources.js';
import type { RestClient } from '../src/client/rest-client.js';
import type { Kubelet } from '../src/kubelet/kubelet.js';
import type { TestApiServer } from './helpers/apiserver.js';
import type { Kubectl } from './helpers/kubectl.js';
import { type ProcessNode, startProcessNode } from './helpers/kubelet-node.js';
import { type KubectlChild, startKubectl } from './helpers/kubectl-child.js';
import { untilWithin } from './helpers/wait.js';

const NODE = 'kubelet-streaming-node';
let api: TestApiServer;
let kubectl: Kubectl;
let client: RestClient;
let kubelet: Kubelet;
let node: ProcessNode | undefined;
const children = new Set<ChildProcess>();

const until = untilWithin(15_000);

function pod(name: string, script: string, extra: Partial<NonNullable<Pod['spec']>> = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: {
      nodeName: NODE,
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'main', image: 'kts.local/busybox:latest', command: ['sh', '-c', script] }],
      ...extra,
    },
  };
}

async function running(name: string): Promise<void> {
  await until(`${name} Running`, async () => {
    const p = await client.resource(PODS).get('default', name);
    return p.status?.phase === 'Running' ? true : undefined;
  });
}

/** `kubectl run -i --rm` of `command` on the node. */
function runArgs(name: string, command: string[]): string[] {
  return [
    'run',
    name,
    '-i',
    '--rm',
    '--restart=Never',
    '--image=kts.local/busybox:latest',
    '--image-pull-policy=IfNotPresent',
    `--overrides=${JSON.stringify({ spec: { nodeName: NODE, terminationGracePeriodSeconds: 1 } })}`,
    '--',
    ...command,
  ];
}

/** kubectl with the kubeconfig of the test API server, as a child process. */
function spawnKubectl(args: string[]): KubectlChild {
  return startKubectl(kubectl, api.server.kubeconfigPath, args, children);
}

// The container prints two lines, then one more each time `trigger` appears in its
// working directory (an exec creates it), so `logs -f` has something new to stream.
const WEB_SCRIPT =
  'echo hello; echo world; while sleep 0.2; do if [ -f trigger ]; then rm trigger; echo streamed; fi; done';

describe('kubelet streaming through the API server', { timeout: 60_000 }, () => {
  before(async () => {
    node = await startProcessNode('streaming', NODE);
    ({ api, kubectl, client, kubelet } = node);
    await client.resource(PODS).create('default', pod('web', WEB_SCRIPT));
    await running('web');
  });

  after(async () => {
    for (const c of children) if (c.pid !== undefined) process.kill(c.pid, 'SIGKILL');
    await client
      ?.resource(PODS)
      .delete('default', 'web', { gracePeriodSeconds: 0 })
      .catch(() => {});
    await node?.stop();
  });

  it('advertises the server port on the Node', async () => {
    const n = await client.resource(NODES).get('', NODE);
    assert.equal(n.status?.daemonEndpoints?.kubeletEndpoint?.Port, kubelet.serverPort);
    assert.deepEqual(n.status?.addresses?.[0], { type: 'InternalIP', address: '127.0.0.1' });
  });

  it('refuses kubelet clients without a cluster certificate', async () => {
    const get = (path: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = https.get(
          { host: '127.0.0.1', port: kubelet.serverPort, path, rejectUnauthorized: false },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.once('error', reject);
      });
    assert.equal(await get('/healthz'), 200);
    assert.equal(await get('/containerLogs/default/web/main'), 401);
  });

  it('kubectl logs shows the container output, and --tail', async () => {
    const all = await until('logs', async () => {
      const o = await kubectl.ok(['logs', 'web']);
      return o.includes('world') ? o : undefined;
    });
    assert.ok(all.startsWith('hello\nworld\n'), all);
    assert.equal(await kubectl.ok(['logs', 'web', '--tail=1']), 'world\n');
    assert.equal(await kubectl.ok(['logs', 'web', '-c', 'main', '--limit-bytes=3']), 'hel');
    assert.match(
      await kubectl.ok(['logs', 'web', '--timestamps', '--tail=1']),
      /^\d{4}-\d\d-\d\dT\S+Z world\n$/,
    );
  });

  it('kubectl logs -f streams a new line', async () => {
    const f = spawnKubectl(['logs', '-f', 'web']);
    await until('followed lines', async () => (f.out().includes('world') ? true : undefined));
    await kubectl.ok(['exec', 'web', '--', 'touch', 'trigger']);
    await until('streamed line', async () => (f.out().includes('streamed') ? true : undefined));
    assert.ok(f.out().startsWith('hello\nworld\n'), f.out());
    assert.equal(f.child.exitCode, null, 'a followed log stays open');
    if (f.child.pid !== undefined) process.kill(f.child.pid, 'SIGKILL');
  });

  it('kubectl exec prints output and returns exit codes', async () => {
    assert.equal(await kubectl.ok(['exec', 'web', '--', 'echo', 'hi']), 'hi\n');
    const r = await kubectl.run(['exec', 'web', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(r.code, 3);
    assert.equal(r.stdout, 'out\n');
    assert.match(r.stderr, /err\n/);
    assert.match(r.stderr, /command terminated with exit code 3/);
  });

  it('kubectl exec -i passes stdin', async () => {
    const r = await kubectl.run(['exec', '-i', 'web', '--', 'cat'], { stdin: 'one\ntwo\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'one\ntwo\n');
  });

  it('kubectl attach streams the container output', async () => {
    const a = spawnKubectl(['attach', 'web']);
    // Attach shows only output written after it connected: trigger until a line arrives.
    await until(
      'attached output',
      async () => {
        if (a.out().includes('streamed')) return true;
        await kubectl.ok(['exec', 'web', '--', 'touch', 'trigger']);
        await new Promise((r) => setTimeout(r, 400));
        return a.out().includes('streamed') ? true : undefined;
      },
      10_000,
    );
    if (a.child.pid !== undefined) process.kill(a.child.pid, 'SIGKILL');
  });

  it('kubectl exec -t runs the command on a terminal of the client size', async () => {
    // `script` gives kubectl a pseudo-terminal of 40x100, which reaches the process through resize.
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      let out = '';
      const child = spawn(
        'script',
        [
          '-qec',
          // The size arrives by a resize message shortly after the process starts: wait for it.
          'stty cols 100 rows 40; kubectl exec -it web -- sh -c \'for i in $(seq 50); do s=$(stty size); [ "$s" != "0 0" ] && break; sleep 0.1; done; echo "$s"; tty\'',
          '/dev/null',
        ],
        {
          env: {
            PATH: process.env.PATH ?? '/usr/bin:/bin',
            HOME: kubectl.home,
            KUBECACHEDIR: join(kubectl.home, 'cache'),
            KUBECONFIG: api.server.kubeconfigPath,
          },
          stdio: ['pipe', 'pipe', 'pipe'],
        },
      );
      children.add(child);
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
      });
      child.stderr?.resume();
      child.once('exit', (code) => {
        children.delete(child);
        resolve({ code, out });
      });
    });
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /40 100/);
    assert.match(r.out, /\/dev\/pts\//);
  });

  it('kubectl run -i --rm of a command that exits at once falls back to its logs', async () => {
    // The container may be gone before the attach reaches it: kubectl must then be refused
    // (and print the logs), never get an empty session. Several runs, as it is a race.
    for (const i of [1, 2, 3]) {
      const r = await kubectl.run(runArgs(`quick-${i}`, ['echo', `hi-${i}`]));
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^hi-${i}$`, 'm'), `run ${i}: ${r.stdout} / ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`pod "quick-${i}" deleted`));
      if (/couldn't attach/.test(r.stderr))
        assert.match(
          r.stderr,
          new RegExp(
            `unable to upgrade connection: container quick-${i} not found in pod quick-${i}_default`,
          ),
        );
    }
  });

  it('kubectl run -i --rm of a longer command prints its output through attach', async () => {
    const r = await kubectl.run(runArgs('slow', ['sh', '-c', 'sleep 1; echo hi']));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^hi$/m);
    assert.doesNotMatch(r.stderr, /couldn't attach/);
  });

  it('reports upstream errors for unknown containers and pods', async () => {
    const bad = await kubectl.run(['logs', 'web', '-c', 'nope']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /container nope is not valid for pod web/);
    const missing = await kubectl.run(['exec', 'ghost', '--', 'true']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /pods "ghost" not found/);
  });
});
