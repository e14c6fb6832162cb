// `kubectl port-forward` through the API server to the kubelet, with the real kubectl: the
// WebSocket-tunneled SPDY it tries first and the plain `Upgrade: SPDY/3.1` it falls back to
// (forced with KUBECTL_PORT_FORWARD_WEBSOCKETS=false). A busybox httpd in the pod serves a
// page and a 1.5 MiB file (more than a SPDY window, so a stall in flow control shows),
// fetched over concurrent connections; a port nothing listens on gives kubectl's error.
// The process runtime runs the pod on the host's loopback; every process started here is
// killed by pid.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Pod } from '../src/api/generated/types/core-v1.js';
import { PODS } from '../src/client/resources.js';
import type { RestClient } from '../src/client/rest-client.js';
import type { TestApiServer } from './helpers/apiserver.js';
import type { Kubectl } from './helpers/kubectl.js';
import { type ProcessNode, startProcessNode } from './helpers/kubelet-node.js';
import { startKubectl } from './helpers/kubectl-child.js';
import { freePort, untilWithin } from './helpers/wait.js';

const NODE = 'kubelet-portforward-node';
let api: TestApiServer;
let kubectl: Kubectl;
let client: RestClient;
let dir = '';
let node: ProcessNode | undefined;
let httpPort = 0;
let big: Buffer;
const children = new Set<ChildProcess>();

const until = untilWithin(15_000);

/** A running `kubectl port-forward`, its local port and what it printed. */
interface Forward {
  child: ChildProcess;
  localPort: number;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}

/** Starts kubectl port-forward and waits for its "Forwarding from" line. */
async function portForward(args: string[], env: Record<string, string> = {}): Promise<Forward> {
  const { child, out, err, exited } = startKubectl(
    kubectl,
    api.server.kubeconfigPath,
    ['port-forward', ...args],
    children,
    env,
  );
  const localPort = await until(
    'Forwarding from',
    async () => {
      if (child.exitCode !== null) throw new Error(`kubectl port-forward exited: ${err()}`);
      const m = /Forwarding from 127\.0\.0\.1:(\d+) ->/.exec(out());
      return m?.[1] !== undefined ? Number(m[1]) : undefined;
    },
    20_000,
  );
  return { child, localPort, out, err, exited };
}

function stop(f: Forward): void {
  if (f.child.pid !== undefined && f.child.exitCode === null) process.kill(f.child.pid, 'SIGKILL');
}

/** GETs a path on a local port (a fresh connection each time); resolves status and body. */
function get(port: number, path: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.once('error', reject);
    });
    req.setTimeout(20_000, () => req.destroy(new Error('request timed out')));
    req.once('error', reject);
  });
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('kubectl port-forward to a pod (process runtime)', { timeout: 120_000 }, () => {
  before(async () => {
    node = await startProcessNode('portforward', NODE);
    ({ api, kubectl, client, dir } = node);
    const www = join(dir, 'www');
    mkdirSync(www);
    writeFileSync(join(www, 'index.html'), '<h1>hello from the pod</h1>\n');
    big = randomBytes(1536 * 1024);
    writeFileSync(join(www, 'big.bin'), big);
    httpPort = await freePort();
    const pod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        nodeName: NODE,
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'httpd',
            image: 'kts.local/busybox:latest',
            command: ['busybox', 'httpd', '-f', '-p', `127.0.0.1:${httpPort}`, '-h', www],
          },
        ],
      },
    };
    await client.resource(PODS).create('default', pod);
    await until('web Running', async () => {
      const p = await client.resource(PODS).get('default', 'web');
      return p.status?.phase === 'Running' ? true : undefined;
    });
    // httpd listens a moment after the process starts.
    await until('httpd listening', async () =>
      (await get(httpPort, '/')).status === 200 ? true : undefined,
    );
  });

  after(async () => {
    for (const c of children) if (c.pid !== undefined) process.kill(c.pid, 'SIGKILL');
    await client
      ?.resource(PODS)
      .delete('default', 'web', { gracePeriodSeconds: 0 })
      .catch(() => {});
    await node?.stop();
  });

  for (const [mode, env] of [
    ['WebSocket-tunneled SPDY', {}],
    ['plain SPDY (KUBECTL_PORT_FORWARD_WEBSOCKETS=false)', { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' }],
  ] as const) {
    it(`serves a page and a 1.5 MiB file over ${mode}, on concurrent connections`, async () => {
      const f = await portForward(['pod/web', `:${httpPort}`], env);
      try {
        assert.match(f.out(), new RegExp(`Forwarding from 127\\.0\\.0\\.1:\\d+ -> ${httpPort}`));
        const page = await get(f.localPort, '/index.html');
        assert.equal(page.status, 200);
        assert.equal(page.body.toString(), '<h1>hello from the pod</h1>\n');
        const [a, b, c] = await Promise.all([
          get(f.localPort, '/big.bin'),
          get(f.localPort, '/big.bin'),
          get(f.localPort, '/index.html'),
        ]);
        assert.equal(a.body.length, big.length);
        assert.equal(sha(a.body), sha(big));
        assert.equal(sha(b.body), sha(big));
        assert.equal(c.status, 200);
        assert.equal(f.child.exitCode, null, `kubectl stays up: ${f.err()}`);
        assert.match(f.out(), /Handling connection for \d+/);
      } finally {
        stop(f);
        await f.exited;
      }
    });
  }

  it('forwards several ports at once', async () => {
    const f = await portForward(['web', `:${httpPort}`, `:${httpPort}`]);
    try {
      const ports = [...f.out().matchAll(/Forwarding from 127\.0\.0\.1:(\d+) ->/g)].map((m) => Number(m[1]));
      assert.ok(ports.length >= 1);
      for (const p of new Set(ports)) assert.equal((await get(p, '/index.html')).status, 200);
    } finally {
      stop(f);
      await f.exited;
    }
  });

  it('reports kubectl\u2019s error for a port nothing listens on', async () => {
    const closed = await freePort();
    const f = await portForward(['pod/web', `:${closed}`]);
    try {
      await get(f.localPort, '/').catch(() => undefined);
      await until('error output', async () =>
        /an error occurred forwarding \d+ -> \d+/.test(f.err()) ? true : undefined,
      );
      assert.match(
        f.err(),
        new RegExp(
          `an error occurred forwarding \\d+ -> ${closed}: error forwarding port ${closed} to pod \\S+, uid : `,
        ),
      );
      assert.match(f.err(), /ECONNREFUSED|connection refused/);
    } finally {
      stop(f);
      await f.exited;
    }
  });

  it('refuses a pod that does not exist', async () => {
    const r = await kubectl.run(['port-forward', 'pod/ghost', '8080:80'], { timeoutMs: 20_000 });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /pods "ghost" not found/);
  });
});
