// Interactive attach on the cri runtime through the API server, the way people use it:
// `kubectl run -it --rm … -- sh` and `kubectl attach -it`, with the real kubectl on a
// pseudo-terminal (`script`), a kubelet serving on loopback and a private containerd.
// The bytes kubectl prints are checked: no stray NUL or other control bytes may reach the
// user's terminal, and the terminal's size reaches the shell. Pods are on a CNI bridge of
// the test's own; everything made is removed by name or pid.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Pod } from '../src/api/generated/types/core-v1.js';
import { NODES, PODS } from '../src/client/resources.js';
import type { RestClient } from '../src/client/rest-client.js';
import { Kubelet } from '../src/kubelet/kubelet.js';
import { readMachineInfo } from '../src/kubelet/node-status.js';
import {
  type ContainerdDaemon,
  cleanupContainerdRoot,
  containerdMissing,
  startContainerd,
} from '../src/kubelet/runtime/containerd-daemon.js';
import { CriRuntime } from '../src/kubelet/runtime/cri/cri-runtime.js';
import { ensureBuiltinImages } from '../src/kubelet/runtime/images/import.js';
import type { Kubectl } from './helpers/kubectl.js';
import { removeTestCgroups, startTestCluster, type TestCluster } from './helpers/kubelet-node.js';
import { until } from './helpers/wait.js';

const NODE = 'kubelet-cri-attach';
const BRIDGE = `ktsa${randomBytes(3).toString('hex')}`;
const CGROUP_ROOT = `/kts-cri-attach-${randomBytes(3).toString('hex')}`;
const PROMPT_HINT = "If you don't see a command prompt, try pressing enter.";
let cluster: TestCluster | undefined;
let kubectl: Kubectl;
let client: RestClient;
let daemon: ContainerdDaemon | undefined;
let runtime: CriRuntime | undefined;
let kubelet: Kubelet | undefined;
const children = new Set<ChildProcess>();

/** kubectl on a pseudo-terminal: its raw output, a way to type, and its exit code. */
interface Terminal {
  out: () => Buffer;
  type: (text: string) => void;
  exited: Promise<number | null>;
}

function onTerminal(args: string[], env: Record<string, string> = {}): Terminal {
  const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('script', ['-qec', `stty cols 80 rows 24; kubectl ${quoted}`, '/dev/null'], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: kubectl.home,
      KUBECACHEDIR: join(kubectl.home, 'cache'),
      KUBECONFIG: cluster?.api.server.kubeconfigPath ?? '',
      ...env,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.add(child);
  const chunks: Buffer[] = [];
  child.stdout?.on('data', (d: Buffer) => chunks.push(d));
  child.stderr?.on('data', (d: Buffer) => chunks.push(d));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      children.delete(child);
      resolve(code);
    }),
  );
  return { out: () => Buffer.concat(chunks), type: (text) => child.stdin?.write(text), exited };
}

/** Bytes a terminal session may legitimately carry: printable text, CR, LF, tab, ESC sequences. */
function strayControlBytes(b: Buffer): number[] {
  return [...b].filter((x) => x < 0x20 && x !== 0x0a && x !== 0x0d && x !== 0x09 && x !== 0x1b);
}

describe('interactive attach on the cri runtime', { timeout: 90_000 }, () => {
  before(async () => {
    if (process.getuid?.() !== 0) throw new Error('the cri attach tests need root (containerd)');
    const missing = containerdMissing();
    if (missing !== undefined) throw new Error(missing);
    cluster = await startTestCluster('kubelet-cri-attach', { rootCA: true });
    ({ kubectl, client } = cluster);
    daemon = await startContainerd({ rootDir: join(cluster.dir, 'containerd') });
    await ensureBuiltinImages({ socket: daemon.socket });
    runtime = new CriRuntime({ endpoint: daemon.endpoint });
    kubelet = new Kubelet({
      client,
      nodeName: NODE,
      runtime,
      dataDir: join(cluster.dir, 'kubelet'),
      machine: { ...readMachineInfo(join(cluster.dir, 'kubelet')), internalIP: '127.0.0.1' },
      cgroupRoot: CGROUP_ROOT,
      relistMs: 300,
      statusUpdateMs: 500,
      server: { port: 0, address: '127.0.0.1' },
      network: {
        cniConfDir: daemon.cniConfDir,
        clusterCIDR: '10.98.0.0/16',
        serviceCIDR: '10.96.0.0/16',
        bridgeName: BRIDGE,
        masquerade: false,
      },
    });
    await kubelet.start();
    await client
      .resource(NODES)
      .patch('', NODE, 'merge', { spec: { podCIDR: '10.98.3.0/24', podCIDRs: ['10.98.3.0/24'] } });
    await kubectl.ok(['wait', '--for=condition=Ready', `node/${NODE}`, '--timeout=30s']);
  });

  after(async () => {
    for (const c of children) if (c.pid !== undefined) process.kill(c.pid, 'SIGKILL');
    try {
      await kubelet?.stop();
      if (runtime !== undefined) {
        for (const s of await runtime.listPodSandbox().catch(() => [])) {
          await runtime.stopPodSandbox(s.id).catch(() => {});
          await runtime.removePodSandbox(s.id).catch(() => {});
        }
        await runtime.close();
      }
      await daemon?.stop();
    } finally {
      if (cluster !== undefined) cleanupContainerdRoot(join(cluster.dir, 'containerd'));
      removeTestCgroups(CGROUP_ROOT);
      spawnSync('ip', ['link', 'del', BRIDGE]);
      await cluster?.stop();
    }
  });

  it('kubectl run -it --rm: a shell session whose output has no NUL byte', async () => {
    const overrides = JSON.stringify({
      spec: { nodeName: NODE, terminationGracePeriodSeconds: 1 },
    });
    const t = onTerminal([
      'run',
      'shell',
      '-it',
      '--rm',
      '--restart=Never',
      '--image=kts.local/busybox:latest',
      '--image-pull-policy=IfNotPresent',
      `--overrides=${overrides}`,
      '--',
      'sh',
    ]);
    await until('the prompt hint', async () => (t.out().toString().includes(PROMPT_HINT) ? true : undefined));
    t.type('\n');
    // The shell answers the newline with a prompt once kubectl is attached.
    await until('a prompt after the hint', async () =>
      /# /.test(t.out().toString().split(PROMPT_HINT)[1] ?? '') ? true : undefined,
    );
    await new Promise((r) => setTimeout(r, 300));
    // The terminal's size reached the shell (kubectl sends it as soon as it is attached).
    t.type('echo marker-$((40+2)) $(stty size)\n');
    await until('the command output', async () =>
      t.out().toString().includes('marker-42 24 80') ? true : undefined,
    );
    t.type('exit\n');
    const code = await t.exited;
    const out = t.out();
    assert.equal(out.indexOf(0), -1, `NUL in kubectl's output: ${JSON.stringify(out.toString('latin1'))}`);
    assert.deepEqual(strayControlBytes(out), []);
    assert.equal(code, 0, out.toString());
    assert.match(out.toString(), /pod "shell" deleted/);
  });

  it('kubectl debug -i with piped input shows what the shell printed', async () => {
    await client.resource(PODS).create('default', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'debug-target', namespace: 'default' },
      spec: {
        nodeName: NODE,
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'main',
            image: 'kts.local/busybox:latest',
            imagePullPolicy: 'IfNotPresent',
            command: ['sleep', '3600'],
          },
        ],
      },
    } satisfies Pod);
    await kubectl.ok(['wait', '--for=condition=Ready', 'pod/debug-target', '--timeout=30s']);
    // The input and its end arrive at once; the ephemeral container has no stdinOnce.
    const r = await kubectl.run(
      ['debug', '-i', 'debug-target', '--profile=general', '--image=kts.local/busybox:latest', '--', 'sh'],
      { stdin: 'echo debug-$((6*7)); exit\n' },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /debug-42/);
  });

  for (const [mode, env] of [
    ['WebSocket', {}],
    ['SPDY', { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' }],
  ] as const) {
    it(`kubectl attach -it to a running shell over ${mode}: no NUL, clean exit`, async () => {
      const name = `tty-${mode.toLowerCase()}`;
      await client.resource(PODS).create('default', {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: 'default' },
        spec: {
          nodeName: NODE,
          terminationGracePeriodSeconds: 1,
          restartPolicy: 'Never',
          containers: [
            {
              name: 'sh',
              image: 'kts.local/busybox:latest',
              imagePullPolicy: 'IfNotPresent',
              command: ['sh'],
              stdin: true,
              tty: true,
            },
          ],
        },
      } satisfies Pod);
      await kubectl.ok(['wait', '--for=condition=Ready', `pod/${name}`, '--timeout=30s']);
      const t = onTerminal(['attach', '-it', name], env);
      await until('the prompt hint', async () =>
        t.out().toString().includes(PROMPT_HINT) ? true : undefined,
      );
      t.type('echo attached-$((6*7))\n');
      await until('the command output', async () =>
        t.out().toString().includes('attached-42') ? true : undefined,
      );
      t.type('exit\n');
      const code = await t.exited;
      const out = t.out();
      assert.equal(out.indexOf(0), -1, `NUL in kubectl's output: ${JSON.stringify(out.toString('latin1'))}`);
      assert.deepEqual(strayControlBytes(out), []);
      assert.equal(code, 0, out.toString());
    });
  }
});
