// The real kubectl against a small loopback server that serves only /version, discovery
// (built from the served-resource list) and the OpenAPI v3 documents of
// src/apiserver/openapi, plus a toy object store for the apply round trip. With default
// flags (`--validate=strict`) kubectl must find everything it needs in v3: `explain` works,
// `create -f`/`apply -f` pass validation without asking for /openapi/v2, writes carry
// `fieldValidation=Strict`, and client-side apply builds its strategic merge patch.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ResourceInfo } from '../src/api/registry-types.js';
import { openapiV3Document, openapiV3Paths } from '../src/apiserver/openapi/index.js';
import { servedGroups, servedResourcesIn } from '../src/apiserver/served.js';

interface Recorded {
  method: string;
  path: string;
  query: URLSearchParams;
  contentType: string;
  body: string;
}

let server: Server;
let port = 0;
let dir = '';
const recorded: Recorded[] = [];
const objects = new Map<string, Record<string, unknown>>();

function gvPath(group: string, version: string): string {
  return group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
}

function resourceList(group: string, version: string): Record<string, unknown> {
  const resources: Record<string, unknown>[] = [];
  for (const r of servedResourcesIn(group, version)) {
    resources.push(apiResource(r));
    for (const s of r.subresources) {
      resources.push({
        name: `${r.plural}/${s.name}`,
        singularName: '',
        namespaced: r.namespaced,
        ...(s.group !== undefined ? { group: s.group } : {}),
        ...(s.version !== undefined ? { version: s.version } : {}),
        kind: s.kind,
        verbs: s.verbs,
      });
    }
  }
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group === '' ? version : `${group}/${version}`,
    resources,
  };
}

function apiResource(r: ResourceInfo): Record<string, unknown> {
  return {
    name: r.plural,
    singularName: r.singular,
    namespaced: r.namespaced,
    kind: r.kind,
    verbs: r.verbs,
    ...(r.shortNames.length > 0 ? { shortNames: r.shortNames } : {}),
    ...(r.categories.length > 0 ? { categories: r.categories } : {}),
  };
}

function groupList(): Record<string, unknown> {
  const groups = servedGroups()
    .filter((g) => g.name !== '')
    .map((g) => ({
      name: g.name,
      versions: g.versions.map((v) => ({ groupVersion: `${g.name}/${v}`, version: v })),
      preferredVersion: { groupVersion: `${g.name}/${g.preferredVersion}`, version: g.preferredVersion },
    }));
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

function send(res: ServerResponse, code: number, body: unknown): void {
  const bytes = body instanceof Uint8Array ? body : new TextEncoder().encode(JSON.stringify(body));
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': bytes.byteLength });
  res.end(bytes);
}

interface Reply {
  code: number;
  body: unknown;
}

function notFound(message: string): Reply {
  return {
    code: 404,
    body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason: 'NotFound', code: 404 },
  };
}

function route(method: string, url: URL, body: string): Reply {
  const p = url.pathname.replace(/\/+$/, '') || '/';
  if (method === 'GET') {
    if (p === '/version') return { code: 200, body: { major: '1', minor: '32', gitVersion: 'v1.32.4-kts' } };
    if (p === '/api') {
      const addr = [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${port}` }];
      return { code: 200, body: { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: addr } };
    }
    if (p === '/apis') return { code: 200, body: groupList() };
    if (p === '/openapi/v3') return { code: 200, body: openapiV3Paths() };
    if (p.startsWith('/openapi/v3/')) {
      const doc = openapiV3Document(p.slice('/openapi/v3/'.length));
      return doc ? { code: 200, body: doc } : notFound('no such document');
    }
    for (const g of servedGroups()) {
      for (const v of g.versions)
        if (p === gvPath(g.name, v)) return { code: 200, body: resourceList(g.name, v) };
    }
  }
  // A toy store for `apply`: objects keyed by their URL; PATCH answers the stored object.
  if ((method === 'GET' || method === 'PATCH') && objects.has(p)) return { code: 200, body: objects.get(p) };
  if (method === 'POST') {
    const obj = JSON.parse(body) as { metadata?: Record<string, unknown> };
    const metadata = obj.metadata ?? {};
    obj.metadata = { ...metadata, uid: 'u1', resourceVersion: '1' };
    if (metadata.name !== undefined) objects.set(`${p}/${String(metadata.name)}`, obj);
    return { code: 201, body: obj };
  }
  return notFound(`${method} ${p} not found`);
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const url = new URL(req.url ?? '/', 'http://x');
    const body = Buffer.concat(chunks).toString('utf8');
    recorded.push({
      method: req.method ?? '',
      path: url.pathname,
      query: url.searchParams,
      contentType: req.headers['content-type'] ?? '',
      body,
    });
    try {
      const reply = route(req.method ?? '', url, body);
      send(res, reply.code, reply.body);
    } catch (e) {
      send(res, 500, { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: String(e), code: 500 });
    }
  });
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function kubectl(args: string[]): Promise<Run> {
  const env = {
    ...process.env,
    HOME: dir,
    KUBECACHEDIR: join(dir, 'cache'),
    KUBECONFIG: join(dir, 'kubeconfig'),
  };
  return new Promise((resolve) => {
    execFile('kubectl', args, { env, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

async function ok(args: string[]): Promise<string> {
  const r = await kubectl(args);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')} exited ${r.code}:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /failed to download openapi/);
  assert.doesNotMatch(r.stderr, /error calculating patch from openapi/);
  return r.stdout;
}

function deployment(image: string, env: Array<{ name: string; value: string }>): string {
  const spec = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'web',
              image,
              ports: [{ containerPort: 80, protocol: 'TCP' }],
              env,
              resources: { limits: { cpu: '500m', memory: '128Mi' } },
            },
            { name: 'sidecar', image: 'busybox', command: ['sleep', '3600'] },
          ],
        },
      },
    },
  };
  return JSON.stringify(spec, null, 2);
}

describe('kubectl with only the OpenAPI v3 documents', () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kts-openapi-kubectl-'));
    server = createServer(handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    writeFileSync(
      join(dir, 'kubeconfig'),
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '- name: kts',
        '  cluster:',
        `    server: http://127.0.0.1:${port}`,
        'contexts:',
        '- name: kts',
        '  context:',
        '    cluster: kts',
        '    namespace: default',
        '    user: kts',
        'current-context: kts',
        'users:',
        '- name: kts',
        '  user: {}',
        '',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'deploy.yaml'), deployment('nginx:1.27', [{ name: 'A', value: '1' }]));
    writeFileSync(
      join(dir, 'deploy2.yaml'),
      deployment('nginx:1.28', [
        { name: 'B', value: '2' },
        { name: 'A', value: '1' },
      ]),
    );
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('explain pods.spec.containers lists the container fields', async () => {
    const out = await ok(['explain', 'pods.spec.containers']);
    assert.match(out, /KIND:\s+Pod/);
    assert.match(out, /VERSION:\s+v1/);
    for (const field of ['image', 'imagePullPolicy', 'ports', 'resources', 'volumeMounts']) {
      assert.match(out, new RegExp(`^\\s+${field}\\s+<`, 'm'), `field ${field} missing:\n${out}`);
    }
  });

  it('explain deployment.spec.strategy --recursive walks the nested schema', async () => {
    const out = await ok(['explain', 'deployment.spec.strategy', '--recursive']);
    assert.match(out, /GROUP:\s+apps/);
    for (const field of ['rollingUpdate', 'maxSurge', 'maxUnavailable', 'type']) {
      assert.match(out, new RegExp(`^\\s+${field}\\s+<`, 'm'), `field ${field} missing:\n${out}`);
    }
  });

  it('create -f --dry-run=client validates against v3 and prints the object', async () => {
    const out = await ok(['create', '-f', join(dir, 'deploy.yaml'), '--dry-run=client', '-o', 'json']);
    const obj = JSON.parse(out) as { kind: string; spec: { template: { spec: { containers: unknown[] } } } };
    assert.equal(obj.kind, 'Deployment');
    assert.equal(obj.spec.template.spec.containers.length, 2);
  });

  it('create -f --dry-run=client leaves unknown-field checks to the server', async () => {
    // With fieldValidation declared in v3, kubectl leaves validation to the server and sends
    // fieldValidation=Strict; a client dry run therefore accepts the object.
    writeFileSync(join(dir, 'bad.yaml'), deployment('nginx', []).replace('"replicas"', '"replicaz"'));
    await ok(['create', '-f', join(dir, 'bad.yaml'), '--dry-run=client', '-o', 'name']);
  });

  it('apply -f --dry-run=client succeeds', async () => {
    const out = await ok(['apply', '-f', join(dir, 'deploy.yaml'), '--dry-run=client']);
    assert.match(out, /deployment\.apps\/web created \(dry run\)/);
  });

  it('apply creates, then patches with a strategic merge patch built from v3', async () => {
    const before = recorded.length;
    assert.match(await ok(['apply', '-f', join(dir, 'deploy.yaml')]), /deployment\.apps\/web created/);
    const post = recorded.slice(before).find((r) => r.method === 'POST');
    assert.ok(post, 'no POST recorded');
    assert.equal(post.query.get('fieldValidation'), 'Strict');

    const mark = recorded.length;
    assert.match(await ok(['apply', '-f', join(dir, 'deploy2.yaml')]), /deployment\.apps\/web configured/);
    const patch = recorded.slice(mark).find((r) => r.method === 'PATCH');
    assert.ok(patch, 'no PATCH recorded');
    assert.equal(patch.path, '/apis/apps/v1/namespaces/default/deployments/web');
    assert.equal(patch.contentType, 'application/strategic-merge-patch+json');
    assert.equal(patch.query.get('fieldValidation'), 'Strict');
    assert.equal(patch.query.get('fieldManager'), 'kubectl-client-side-apply');
    const body = JSON.parse(patch.body) as {
      spec: { template: { spec: Record<string, unknown> } };
    };
    const podSpec = body.spec.template.spec;
    // Merge keys from the v3 schema: containers by name, env by name.
    assert.deepEqual(podSpec['$setElementOrder/containers'], [{ name: 'web' }, { name: 'sidecar' }]);
    const containers = podSpec.containers as Array<Record<string, unknown>>;
    assert.equal(containers[0]?.name, 'web');
    assert.equal(containers[0]?.image, 'nginx:1.28');
    assert.deepEqual(containers[0]?.['$setElementOrder/env'], [{ name: 'B' }, { name: 'A' }]);
  });

  it('create -f of a create-only kind (SelfSubjectAccessReview) leaves validation to the server', async () => {
    const review = {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: { verb: 'get', resource: 'pods' } },
    };
    writeFileSync(join(dir, 'ssar.yaml'), JSON.stringify(review));
    await ok(['create', '-f', join(dir, 'ssar.yaml'), '--dry-run=client', '-o', 'json']);
    const mark = recorded.length;
    const out = JSON.parse(await ok(['create', '-f', join(dir, 'ssar.yaml'), '-o', 'json'])) as {
      kind: string;
    };
    assert.equal(out.kind, 'SelfSubjectAccessReview');
    const post = recorded.slice(mark).find((r) => r.method === 'POST');
    assert.equal(post?.path, '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews');
    assert.equal(post?.query.get('fieldValidation'), 'Strict');
  });

  it('never needed /openapi/v2', () => {
    const v2 = recorded.filter((r) => r.path.startsWith('/openapi/v2'));
    assert.deepEqual(
      v2.map((r) => r.path),
      [],
    );
    assert.ok(recorded.some((r) => r.path === '/openapi/v3/apis/apps/v1' && r.query.has('hash')));
  });
});
