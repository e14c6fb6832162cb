// The `proxy` subresources of nodes, pods and services through the API server, driven with
// the real kubectl (`get --raw`, `create --raw`): a kubelet on the process runtime listening
// on loopback (stats/summary, healthz), a busybox httpd pod (host network: pod IP
// 127.0.0.1) reached by pod and by Service through a hand-made EndpointSlice, an echo
// server in this process showing what the proxy forwards, and upstream's errors (no
// endpoints, not found, no address, unreachable port, RBAC on `nodes/proxy`).

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { Pod } from '../src/api/generated/types/core-v1.js';
import { PODS } from '../src/client/resources.js';
import type { RestClient } from '../src/client/rest-client.js';
import type { Kubelet } from '../src/kubelet/kubelet.js';
import type { TestApiServer } from './helpers/apiserver.js';
import { HttpsClient, readClientConfig } from './helpers/https-client.js';
import type { Kubectl } from './helpers/kubectl.js';
import { type ProcessNode, startProcessNode } from './helpers/kubelet-node.js';
import { freePort, untilWithin } from './helpers/wait.js';

const NODE = 'apiserver-proxy-node';
let api: TestApiServer;
let kubectl: Kubectl;
let client: RestClient;
let kubelet: Kubelet;
let echo: http.Server;
let echoPort = 0;
let httpPort = 0;
let big: Buffer;
let dir = '';
let node: ProcessNode | undefined;

const until = untilWithin(15_000);

/** Answers every request with what it received, so the test sees what the proxy forwarded. */
function startEcho(): Promise<void> {
  echo = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.setHeader('Content-Type', 'application/json');
      res.setHeader('X-Echo', 'yes');
      res.end(
        JSON.stringify({
          method: req.method,
          url: req.url,
          headers: req.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
  });
  // An upgrade answers 101 and then the path it was asked for, over the raw socket.
  echo.on('upgrade', (req: http.IncomingMessage, sock: Duplex) => {
    sock.end(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n${req.url}`);
  });
  return new Promise((resolve) =>
    echo.listen(0, '127.0.0.1', () => {
      echoPort = (echo.address() as AddressInfo).port;
      resolve();
    }),
  );
}

const manifest = (obj: unknown): string => JSON.stringify(obj);

describe('proxy subresources through the API server', { timeout: 90_000 }, () => {
  before(async () => {
    node = await startProcessNode('apiproxy', NODE);
    ({ api, kubectl, client, kubelet, dir } = node);
    const www = join(dir, 'www');
    mkdirSync(www);
    writeFileSync(join(www, 'index.html'), '<h1>hello from the pod</h1>\n');
    big = randomBytes(1024 * 1024);
    writeFileSync(join(www, 'big.bin'), big);
    httpPort = await freePort();
    await startEcho();
    const pod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
      spec: {
        nodeName: NODE,
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'httpd',
            image: 'kts.local/busybox:latest',
            command: ['busybox', 'httpd', '-f', '-p', `127.0.0.1:${httpPort}`, '-h', www],
            ports: [{ containerPort: httpPort }],
          },
        ],
      },
    };
    await client.resource(PODS).create('default', pod);
    await until('web Running with an IP', async () => {
      const p = await client.resource(PODS).get('default', 'web');
      return p.status?.phase === 'Running' && p.status.podIP ? true : undefined;
    });
    const objects = [
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'web', namespace: 'default' },
        spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: httpPort }] },
      },
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 'web-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
        addressType: 'IPv4',
        endpoints: [
          {
            addresses: ['127.0.0.1'],
            conditions: { ready: true },
            targetRef: { kind: 'Pod', name: 'web', namespace: 'default' },
          },
        ],
        ports: [{ name: 'http', port: httpPort, protocol: 'TCP' }],
      },
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'empty', namespace: 'default' },
        spec: { selector: { app: 'none' }, ports: [{ port: 80 }] },
      },
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'pending', namespace: 'default' },
        spec: { containers: [{ name: 'c', image: 'kts.local/busybox:latest' }] },
      },
    ];
    for (const o of objects) await kubectl.ok(['create', '-f', kubectl.file('obj.json', manifest(o))]);
    // httpd listens a moment after the process starts.
    await until('httpd through the pod proxy', async () =>
      (await kubectl.run(['get', '--raw', `/api/v1/namespaces/default/pods/web/proxy/`])).code === 0
        ? true
        : undefined,
    );
  });

  after(async () => {
    await client
      ?.resource(PODS)
      .delete('default', 'web', { gracePeriodSeconds: 0 })
      .catch(() => {});
    await node?.stop();
    await new Promise((r) => (echo ? echo.close(r) : r(undefined)));
  });

  it('reaches the kubelet through nodes/NAME/proxy', async () => {
    const summary = JSON.parse(
      await kubectl.ok(['get', '--raw', `/api/v1/nodes/${NODE}/proxy/stats/summary`]),
    ) as { node?: { nodeName?: string } };
    assert.equal(summary.node?.nodeName, NODE);
    assert.equal(await kubectl.ok(['get', '--raw', `/api/v1/nodes/${NODE}/proxy/healthz`]), 'ok');
    const port = kubelet.serverPort;
    assert.equal(await kubectl.ok(['get', '--raw', `/api/v1/nodes/${NODE}:${port}/proxy/healthz`]), 'ok');
  });

  it('reaches a pod by name, by name:port, and follows the root redirect', async () => {
    const page = '<h1>hello from the pod</h1>\n';
    const base = '/api/v1/namespaces/default/pods';
    assert.equal(await kubectl.ok(['get', '--raw', `${base}/web/proxy/`]), page);
    assert.equal(await kubectl.ok(['get', '--raw', `${base}/web:${httpPort}/proxy/index.html`]), page);
    assert.equal(await kubectl.ok(['get', '--raw', `${base}/http:web:${httpPort}/proxy`]), page);
  });

  it('streams a large response body whole, over HTTP/1.1 with its headers', async () => {
    const raw = new HttpsClient(readClientConfig(api.server.kubeconfigPath), 1);
    try {
      const r = await raw.request({ path: '/api/v1/namespaces/default/pods/web/proxy/big.bin' });
      assert.equal(r.status, 200);
      assert.equal(r.body.length, big.length);
      assert.ok(r.body.equals(big));
      const e = await raw.request({ path: `/api/v1/namespaces/default/pods/web:${echoPort}/proxy/h` });
      assert.equal(e.headers['x-echo'], 'yes');
      const redirect = await raw.request({ path: '/api/v1/namespaces/default/pods/web/proxy?a=1' });
      assert.equal(redirect.status, 301);
      assert.equal(redirect.headers.location, '/api/v1/namespaces/default/pods/web/proxy/?a=1');
    } finally {
      raw.agent.destroy();
    }
  });

  it('forwards method, path, query and body, but not the credentials', async () => {
    const body = kubectl.file('body.json', '{"hello":"proxy"}');
    const out = await kubectl.ok([
      'create',
      '--raw',
      `/api/v1/namespaces/default/pods/web:${echoPort}/proxy/echo/a%20b?x=1&y=2`,
      '-f',
      body,
    ]);
    const got = JSON.parse(out) as {
      method: string;
      url: string;
      headers: Record<string, string>;
      body: string;
    };
    assert.equal(got.method, 'POST');
    assert.equal(got.url, '/echo/a%20b?x=1&y=2');
    assert.equal(got.body, '{"hello":"proxy"}');
    assert.equal(got.headers.authorization, undefined);
    assert.equal(got.headers['x-forwarded-for'], '127.0.0.1');
    const del = JSON.parse(
      await kubectl.ok(['delete', '--raw', `/api/v1/namespaces/default/pods/web:${echoPort}/proxy/x/`]),
    ) as { method: string; url: string };
    assert.deepEqual([del.method, del.url], ['DELETE', '/x/']);
  });

  it('splices an upgrade request through pods/NAME:PORT/proxy', async () => {
    const cfg = readClientConfig(api.server.kubeconfigPath);
    const server = new URL(cfg.server);
    const text = await new Promise<string>((resolve, reject) => {
      const req = https.request({
        host: server.hostname,
        port: server.port,
        path: `/api/v1/namespaces/default/pods/web:${echoPort}/proxy/ws?q=1`,
        ca: cfg.ca,
        cert: cfg.cert,
        key: cfg.key,
        agent: false,
        headers: { Upgrade: 'test', Connection: 'Upgrade' },
      });
      req.once('upgrade', (res, sock: Duplex, head: Buffer) => {
        assert.equal(res.statusCode, 101);
        let got = head.toString();
        sock.on('data', (d: Buffer) => {
          got += d.toString();
        });
        sock.once('end', () => resolve(got));
        sock.once('error', reject);
      });
      req.once('response', (res) => reject(new Error(`no upgrade: ${res.statusCode}`)));
      req.once('error', reject);
      req.end();
    });
    assert.equal(text, '/ws?q=1');
  });

  it('reaches a service endpoint by port number and by port name', async () => {
    const page = '<h1>hello from the pod</h1>\n';
    const base = '/api/v1/namespaces/default/services';
    assert.equal(await kubectl.ok(['get', '--raw', `${base}/web:80/proxy/`]), page);
    assert.equal(await kubectl.ok(['get', '--raw', `${base}/web:http/proxy/index.html`]), page);
  });

  it("answers upstream's errors", async () => {
    const cases: Array<[string, string]> = [
      [
        '/api/v1/namespaces/default/services/empty/proxy/',
        'Error from server (ServiceUnavailable): no endpoints available for service "empty"',
      ],
      [
        '/api/v1/namespaces/default/services/web:81/proxy/',
        'Error from server (ServiceUnavailable): no service port 81 found for service "web"',
      ],
      [
        '/api/v1/namespaces/default/services/nope/proxy/',
        'Error from server (NotFound): services "nope" not found',
      ],
      [
        '/api/v1/namespaces/default/pods/nope:80/proxy/',
        'Error from server (NotFound): pods "nope" not found',
      ],
      ['/api/v1/nodes/nope/proxy/healthz', 'Error from server (NotFound): nodes "nope" not found'],
      [
        '/api/v1/namespaces/default/pods/pending/proxy/',
        'Error from server (BadRequest): address not allowed',
      ],
      [
        '/api/v1/namespaces/default/pods/a:b:c:d/proxy/',
        'Error from server (BadRequest): invalid pod request "a:b:c:d"',
      ],
    ];
    for (const [path, want] of cases) {
      const r = await kubectl.run(['get', '--raw', path]);
      assert.notEqual(r.code, 0, path);
      assert.equal(r.stderr.trim(), want, path);
    }
    const closed = await freePort();
    const r = await kubectl.run(['get', '--raw', `/api/v1/namespaces/default/pods/web:${closed}/proxy/`]);
    assert.equal(
      r.stderr.trim(),
      `Error from server (ServiceUnavailable): error trying to reach service: dial tcp 127.0.0.1:${closed}: connect: connection refused`,
    );
  });

  it('needs get on nodes/proxy', async () => {
    await kubectl.ok(['create', 'serviceaccount', 'prober']);
    const token = (await kubectl.ok(['create', 'token', 'prober'])).trim();
    const asProber = [
      `--kubeconfig=${kubectl.file('empty.kubeconfig', '')}`,
      `--server=${api.server.url}`,
      `--token=${token}`,
      '--insecure-skip-tls-verify=true',
    ];
    const user = 'system:serviceaccount:default:prober';
    const r = await kubectl.run([...asProber, 'get', '--raw', `/api/v1/nodes/${NODE}/proxy/healthz`]);
    assert.equal(
      r.stderr.trim(),
      `Error from server (Forbidden): nodes "${NODE}" is forbidden: User "${user}" cannot get resource "nodes/proxy" in API group "" at the cluster scope`,
    );
    await kubectl.ok(['create', 'clusterrole', 'node-proxy', '--verb=get', '--resource=nodes/proxy']);
    await kubectl.ok([
      'create',
      'clusterrolebinding',
      'node-proxy',
      '--clusterrole=node-proxy',
      '--serviceaccount=default:prober',
    ]);
    const ok = await until('RBAC allows nodes/proxy', async () => {
      const res = await kubectl.run([...asProber, 'get', '--raw', `/api/v1/nodes/${NODE}/proxy/healthz`]);
      return res.code === 0 ? res.stdout : undefined;
    });
    assert.equal(ok, 'ok');
    const post = await kubectl.run(
      [...asProber, 'create', '--raw', `/api/v1/nodes/${NODE}/proxy/healthz`, '-f', '-'],
      {
        stdin: '{}',
      },
    );
    assert.match(post.stderr, /cannot create resource "nodes\/proxy" in API group "" at the cluster scope/);
  });
});
