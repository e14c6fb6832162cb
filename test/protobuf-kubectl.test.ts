// The real kubectl against a recording server: `kubectl create configmap|secret|deployment|
// service` send protobuf bodies; decoding them with our codec must give the object kubectl
// itself prints for the same command with `--dry-run=client -o json`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeProtobuf, PROTOBUF_MEDIA_TYPE } from '../src/api/codec/protobuf.js';

interface Recorded {
  method: string;
  url: string;
  contentType: string;
  body: Buffer;
}

const VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.4-kts',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2025-01-01T00:00:00Z',
  goVersion: 'go1.23.0',
  compiler: 'gc',
  platform: 'linux/amd64',
};

function resource(
  name: string,
  kind: string,
  namespaced: boolean,
  shortNames?: string[],
): Record<string, unknown> {
  return {
    name,
    singularName: kind.toLowerCase(),
    namespaced,
    kind,
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    ...(shortNames ? { shortNames } : {}),
  };
}

const DISCOVERY: Record<string, unknown> = {
  '/api': {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }],
  },
  '/apis': {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [
      {
        name: 'apps',
        versions: [{ groupVersion: 'apps/v1', version: 'v1' }],
        preferredVersion: { groupVersion: 'apps/v1', version: 'v1' },
      },
    ],
  },
  '/api/v1': {
    kind: 'APIResourceList',
    groupVersion: 'v1',
    resources: [
      resource('configmaps', 'ConfigMap', true, ['cm']),
      resource('secrets', 'Secret', true),
      resource('namespaces', 'Namespace', false, ['ns']),
      resource('services', 'Service', true, ['svc']),
      resource('serviceaccounts', 'ServiceAccount', true, ['sa']),
    ],
  },
  '/apis/apps/v1': {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: 'apps/v1',
    resources: [resource('deployments', 'Deployment', true, ['deploy'])],
  },
};

let server: Server;
let port = 0;
let dir = '';
const recorded: Recorded[] = [];

function reply(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const url = new URL(req.url ?? '/', 'http://x');
    const body = Buffer.concat(chunks);
    recorded.push({
      method: req.method ?? '',
      url: url.pathname,
      contentType: req.headers['content-type'] ?? '',
      body,
    });
    if (req.method === 'GET' && url.pathname === '/version') return reply(res, 200, VERSION);
    const disc = DISCOVERY[url.pathname];
    if (req.method === 'GET' && disc) return reply(res, 200, disc);
    if (req.method === 'POST') {
      try {
        const obj = req.headers['content-type']?.startsWith(PROTOBUF_MEDIA_TYPE)
          ? decodeProtobuf(new Uint8Array(body))
          : (JSON.parse(body.toString('utf8')) as Record<string, unknown>);
        return reply(res, 201, obj);
      } catch (e) {
        return reply(res, 400, {
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          message: String(e),
          code: 400,
        });
      }
    }
    reply(res, 404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 });
  });
}

function kubectl(args: string[]): Promise<string> {
  const env = {
    ...process.env,
    HOME: dir,
    KUBECACHEDIR: join(dir, 'cache'),
    KUBECONFIG: join(dir, 'kubeconfig'),
  };
  return new Promise((resolve, reject) => {
    execFile('kubectl', args, { env, timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`kubectl ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

// Go's JSON of the dry-run object leaves out zero values of `omitempty` fields and writes
// `creationTimestamp: null`, `resources: {}`, `status: {}` for empty structs, while protobuf
// carries every non-pointer field explicitly (`generateName: ""`, `generation: 0`, …). Both
// mean the same object, so both sides drop null, "", 0, false, {} and [] before comparing.
function normalise(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalise);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const n = normalise(x);
      if (isEmpty(n)) continue;
      out[k] = n;
    }
    return out;
  }
  return v;
}

function isEmpty(v: unknown): boolean {
  if (v === null || v === undefined || v === '' || v === 0 || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.keys(v as object).length === 0;
  return false;
}

const COMMANDS: { name: string; args: string[]; path: string }[] = [
  {
    name: 'configmap',
    args: ['create', 'configmap', 'cm1', '--from-literal=a=b', '--from-literal=c=d'],
    path: '/api/v1/namespaces/default/configmaps',
  },
  {
    name: 'secret',
    args: ['create', 'secret', 'generic', 's1', '--from-literal=k=v'],
    path: '/api/v1/namespaces/default/secrets',
  },
  {
    name: 'deployment',
    args: ['create', 'deployment', 'web', '--image=nginx', '--replicas=2'],
    path: '/apis/apps/v1/namespaces/default/deployments',
  },
  {
    name: 'service',
    args: ['create', 'service', 'clusterip', 'svc1', '--tcp=80:8080'],
    path: '/api/v1/namespaces/default/services',
  },
];

describe('kubectl protobuf bodies', () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kts-proto-kubectl-'));
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
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  for (const cmd of COMMANDS) {
    it(`create ${cmd.name}: the protobuf body decodes to kubectl's own JSON`, async () => {
      const dry = JSON.parse(await kubectl([...cmd.args, '--dry-run=client', '-o', 'json'])) as Record<
        string,
        unknown
      >;
      const before = recorded.length;
      await kubectl(cmd.args);
      const posts = recorded.slice(before).filter((r) => r.method === 'POST');
      assert.equal(posts.length, 1, `one POST expected, got ${posts.map((p) => p.url).join(', ')}`);
      const post = posts[0] as Recorded;
      assert.equal(post.url, cmd.path);
      assert.equal(post.contentType, PROTOBUF_MEDIA_TYPE);
      assert.deepEqual([...post.body.subarray(0, 4)], [0x6b, 0x38, 0x73, 0x00]);
      const decoded = decodeProtobuf(new Uint8Array(post.body));
      assert.equal(decoded.kind, dry.kind);
      assert.equal(decoded.apiVersion, dry.apiVersion);
      assert.deepEqual(normalise(decoded), normalise(dry));
    });
  }
});
