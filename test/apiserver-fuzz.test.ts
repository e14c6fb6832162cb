// A seeded fuzzer against a real API server: 10,000 requests with random verbs, paths of
// the served resources, bodies derived from valid objects (bit flips, truncation, type
// swaps, deep nesting, duplicate keys), random content types and query parameters, over a
// few keep-alive connections. Every answer must be a well-formed response (errors as
// metav1.Status), no 5xx other than the intentional ones, and afterwards the server must be
// ready, serve a create/get/list round-trip, list every resource, and hold consistent state.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { encodeProtobuf } from '../src/api/codec/protobuf.js';
import type { ResourceInfo } from '../src/api/registry-types.js';
import { servedResources } from '../src/apiserver/served.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';
import {
  HttpsClient,
  type RawRequestSpec,
  type RawResult,
  readClientConfig,
} from './helpers/https-client.js';

const SEED = Number(process.env.KTS_FUZZ_SEED ?? 20240607);
const REQUESTS = Number(process.env.KTS_FUZZ_REQUESTS ?? 10_000);
const CONNECTIONS = 6;
const DEADLINE_MS = 55_000;

/** mulberry32: a small deterministic PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = prng(SEED);
const int = (n: number): number => Math.floor(rand() * n);
function pick<T>(xs: readonly T[]): T {
  return xs[int(xs.length)]!;
}

const NAMESPACES = ['default', 'fuzz', 'kube-system', 'missing-ns'];
const NAMES = ['a', 'b', 'c', 'fuzz-1', 'x.y', 'UPPER', ''];

// Valid bodies per kind; kinds without one get a bare object with only metadata.
const container = {
  name: 'c',
  image: 'nginx:1.27',
  ports: [{ containerPort: 80 }],
  env: [{ name: 'A', value: '1' }],
};
const podSpec = { containers: [container], restartPolicy: 'Always' };
const template = { metadata: { labels: { app: 'f' } }, spec: podSpec };
const SPECS: Record<string, Record<string, unknown>> = {
  Pod: { spec: podSpec },
  ConfigMap: { data: { k: 'v' } },
  Secret: { stringData: { k: 'v' }, type: 'Opaque' },
  Service: { spec: { ports: [{ port: 80, targetPort: 8080 }], selector: { app: 'f' } } },
  Deployment: { spec: { replicas: 2, selector: { matchLabels: { app: 'f' } }, template } },
  ReplicaSet: { spec: { replicas: 1, selector: { matchLabels: { app: 'f' } }, template } },
  StatefulSet: { spec: { serviceName: 's', selector: { matchLabels: { app: 'f' } }, template } },
  DaemonSet: { spec: { selector: { matchLabels: { app: 'f' } }, template } },
  Job: { spec: { template: { spec: { ...podSpec, restartPolicy: 'Never' } } } },
  CronJob: {
    spec: {
      schedule: '*/5 * * * *',
      jobTemplate: { spec: { template: { spec: { ...podSpec, restartPolicy: 'Never' } } } },
    },
  },
  Namespace: {},
  ServiceAccount: {},
  Role: { rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] },
  ClusterRole: { rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] },
  Lease: { spec: { holderIdentity: 'me', leaseDurationSeconds: 15 } },
  Node: { spec: { podCIDR: '10.42.1.0/24' } },
  PersistentVolumeClaim: {
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
  },
  PriorityClass: { value: 1000 },
  Scale: { spec: { replicas: 3 } },
  Eviction: {},
  SelfSubjectAccessReview: { spec: { resourceAttributes: { verb: 'get', resource: 'pods' } } },
  HorizontalPodAutoscaler: {
    spec: { scaleTargetRef: { kind: 'Deployment', name: 'a', apiVersion: 'apps/v1' }, maxReplicas: 3 },
  },
};

function apiVersionOf(r: ResourceInfo): string {
  return r.group === '' ? r.version : `${r.group}/${r.version}`;
}

function validObject(r: ResourceInfo, name: string, ns: string): Record<string, unknown> {
  const spec = SPECS[r.kind] ?? {};
  return {
    apiVersion: apiVersionOf(r),
    kind: r.kind,
    metadata: {
      name,
      ...(r.namespaced ? { namespace: ns } : {}),
      labels: { app: 'f', n: String(int(3)) },
      ...(rand() < 0.1 ? { resourceVersion: String(int(50)) } : {}),
      ...(rand() < 0.1 ? { generateName: 'g-' } : {}),
      ...(rand() < 0.1 ? { finalizers: ['example.com/f'] } : {}),
    },
    ...structuredClone(spec),
  };
}

// ---- mutations --------------------------------------------------------------------------

const SWAP_VALUES: unknown[] = [
  'two',
  42,
  -1,
  1.5,
  true,
  null,
  [],
  {},
  'x'.repeat(300),
  -2147483649,
  [1, 'a'],
  { a: 1 },
];
const HUGE = '__HUGE_NUMBER__';

function paths(v: unknown, prefix: (string | number)[], out: (string | number)[][]): void {
  if (out.length > 200) return;
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      out.push([...prefix, i]);
      paths(x, [...prefix, i], out);
    });
  } else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      out.push([...prefix, k]);
      paths(x, [...prefix, k], out);
    }
  }
}

function setPath(obj: unknown, p: (string | number)[], value: unknown): void {
  let cur = obj as Record<string | number, unknown>;
  for (let i = 0; i < p.length - 1; i++) cur = cur[p[i]!] as Record<string | number, unknown>;
  cur[p[p.length - 1]!] = value;
}

function nested(depth: number): string {
  return rand() < 0.5
    ? `${'['.repeat(depth)}1${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** A body derived from `obj` by one mutation; returns the bytes. */
function mutate(obj: Record<string, unknown>): Buffer {
  const kind = int(10);
  const all: (string | number)[][] = [];
  paths(obj, [], all);
  switch (kind) {
    case 0: {
      // bit flips
      const b = Buffer.from(JSON.stringify(obj));
      for (let i = 1 + int(3); i > 0; i--) {
        const at = int(b.length);
        b[at] = b[at]! ^ (1 << int(8));
      }
      return b;
    }
    case 1: {
      const s = Buffer.from(JSON.stringify(obj));
      return s.subarray(0, int(s.length));
    }
    case 2: {
      // type swap
      const c = structuredClone(obj);
      if (all.length > 0) setPath(c, pick(all), pick(SWAP_VALUES));
      return Buffer.from(JSON.stringify(c));
    }
    case 3: {
      // deep nesting at some value
      const c = structuredClone(obj);
      const marker = '__NEST__';
      if (all.length > 0) setPath(c, pick(all), marker);
      else c.x = marker;
      const depth = pick([10, 200, 500, 999, 1000, 1001, 5000, 20000]);
      return Buffer.from(JSON.stringify(c).replace(`"${marker}"`, nested(depth)));
    }
    case 4: {
      // huge and odd numbers
      const c = structuredClone(obj);
      if (all.length > 0) setPath(c, pick(all), HUGE);
      const lit = pick([
        '1e400',
        '-1e400',
        '99999999999999999999',
        '0.0000001',
        '-0',
        '1E2',
        '123456789012345678901234567890',
      ]);
      return Buffer.from(JSON.stringify(c).replace(`"${HUGE}"`, lit));
    }
    case 5: {
      // invalid UTF-8 / control bytes inserted into the text
      const s = Buffer.from(JSON.stringify(obj));
      const at = int(s.length);
      const junk = pick([
        Buffer.from([0xff]),
        Buffer.from([0xc3, 0x28]),
        Buffer.from([0]),
        Buffer.from('\\u0000'),
        Buffer.from('"'),
      ]);
      return Buffer.concat([s.subarray(0, at), junk, s.subarray(at)]);
    }
    case 6: {
      // duplicate and unknown fields
      const s = JSON.stringify({ ...obj, foo: { bar: 1 } });
      return Buffer.from(s.replace('{', '{"metadata":{"name":"dup"},"kind":"Nope",'));
    }
    case 7: {
      // a field removed
      const c = structuredClone(obj);
      if (all.length > 0) {
        const p = pick(all);
        let cur = c as Record<string | number, unknown>;
        for (let i = 0; i < p.length - 1; i++) cur = cur[p[i]!] as Record<string | number, unknown>;
        if (Array.isArray(cur)) cur.splice(Number(p[p.length - 1]), 1);
        else delete cur[p[p.length - 1]!];
      }
      return Buffer.from(JSON.stringify(c));
    }
    default:
      return Buffer.from(JSON.stringify(obj));
  }
}

function yamlOf(obj: unknown): string {
  // JSON is valid YAML; an occasional tab or stray colon makes it invalid.
  const s = JSON.stringify(obj, null, 2);
  return rand() < 0.3 ? s.replace(':', ':\t: :') : s;
}

// ---- request generation ----------------------------------------------------------------

const RESOURCES = servedResources().filter((r) => r.verbs.length > 0);
const METHODS = [
  'GET',
  'GET',
  'GET',
  'POST',
  'POST',
  'POST',
  'PUT',
  'PUT',
  'PATCH',
  'PATCH',
  'DELETE',
  'HEAD',
  'OPTIONS',
];
const CONNECT = new Set(['exec', 'attach', 'portforward', 'proxy', 'log']);
const PATCH_TYPES = [
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/json-patch+json',
  'application/apply-patch+yaml',
];
const QUERY: Array<() => string> = [
  () => 'dryRun=All',
  () => `dryRun=${pick(['None', 'all', ''])}`,
  () => `fieldValidation=${pick(['Strict', 'Warn', 'Ignore', 'strict', 'bogus'])}`,
  () => `fieldManager=${pick(['fuzz', 'x'.repeat(200), ''])}`,
  () =>
    `labelSelector=${encodeURIComponent(pick(['app=f', 'a in (b', '!!', 'n notin (1,2)', `x=${'y'.repeat(70)}`, 'app']))}`,
  () =>
    `fieldSelector=${encodeURIComponent(pick(['metadata.name=a', 'spec.foo=x', 'status.phase!=Running', '==', 'metadata.namespace=default,a=b']))}`,
  () => `limit=${pick(['1', '0', '-1', 'abc', '99999999999999999999', '2'])}`,
  () => `continue=${pick(['abc', 'eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MSwicyI6IngifQ', '%00'])}`,
  () => `resourceVersion=${pick(['0', '1', '', 'abc', '999999999', '-1', String(int(200))])}`,
  () => `resourceVersionMatch=${pick(['Exact', 'NotOlderThan', 'Foo'])}`,
  () => `propagationPolicy=${pick(['Orphan', 'Foreground', 'Background', 'Nope'])}`,
  () => `gracePeriodSeconds=${pick(['0', '-5', 'x', '30'])}`,
  () => `force=${pick(['true', 'false'])}`,
  () => `timeoutSeconds=${pick(['1', '-1', 'x'])}`,
  () => `includeObject=${pick(['None', 'Object', 'x'])}`,
  () => `pretty=${pick(['true', '1'])}`,
];
const ACCEPTS = [
  'application/json',
  'application/json',
  '*/*',
  'application/yaml',
  'application/json;as=Table;v=v1;g=meta.k8s.io',
  'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io',
  'application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io',
  'application/vnd.kubernetes.protobuf',
  'text/html',
  'application/json;q=0',
];

interface Generated {
  spec: RawRequestSpec;
  watch: boolean;
}

function generate(): Generated {
  const r = pick(RESOURCES);
  const method = pick(METHODS);
  const ns = pick(NAMESPACES);
  const name = pick(NAMES);
  const base = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
  const nsPart = r.namespaced || rand() < 0.05 ? `/namespaces/${ns}` : '';
  const withName = method === 'PUT' || method === 'PATCH' || rand() < 0.4;
  let path = `${base}${nsPart}/${r.plural}`;
  let sub = '';
  if (withName && name !== '') {
    path += `/${encodeURIComponent(name)}`;
    const subs = r.subresources.filter((s) => !CONNECT.has(s.name));
    if (subs.length > 0 && rand() < 0.25) {
      sub = pick(subs).name;
      path += `/${sub}`;
    }
  }
  if (rand() < 0.03)
    path = pick([
      '/api/v1/namespaces/default/foos',
      '/apis/foo.example/v1/bars',
      '/apis/apps/v9/deployments',
      '/api/v1/pods/x/y/z/w',
    ]);
  const params: string[] = [];
  for (let i = int(3); i > 0; i--) params.push(pick(QUERY)());
  let watch = false;
  if (method === 'GET' && !withName && rand() < 0.015) {
    watch = true;
    // First, so that a random timeoutSeconds later in the query does not win.
    params.unshift('watch=true', 'timeoutSeconds=1');
  }
  if (params.length > 0) path += `?${params.join('&')}`;

  const headers: Record<string, string> = { accept: pick(ACCEPTS) };
  let body: Buffer | undefined;
  if (method === 'POST' || method === 'PUT' || method === 'PATCH' || (method === 'DELETE' && rand() < 0.3)) {
    const kindFor = sub === 'scale' ? 'Scale' : sub === 'eviction' ? 'Eviction' : r.kind;
    const obj = validObject({ ...r, kind: kindFor }, name === '' ? 'a' : name, ns);
    if (method === 'DELETE') {
      obj.kind = 'DeleteOptions';
      obj.apiVersion = 'v1';
      obj.gracePeriodSeconds = pick([0, 5, -1, 'x']);
      obj.propagationPolicy = pick(['Orphan', 'Background', 'Nope']);
    }
    const roll = rand();
    if (method === 'PATCH') {
      headers['content-type'] = pick(PATCH_TYPES);
      if (headers['content-type'] === 'application/json-patch+json') {
        const ops = [
          {
            op: pick(['add', 'replace', 'remove', 'test', 'move', 'copy', 'bogus']),
            path: pick([
              '/metadata/labels/x',
              '/spec/replicas',
              '/data/k',
              '/',
              '',
              '/metadata/~2',
              '/a/b/c/d',
            ]),
            value: pick(SWAP_VALUES),
            from: '/metadata/name',
          },
        ];
        body = roll < 0.5 ? Buffer.from(JSON.stringify(ops)) : mutate({ ops } as Record<string, unknown>);
      } else if (headers['content-type'] === 'application/apply-patch+yaml') {
        body = Buffer.from(roll < 0.5 ? yamlOf(obj) : mutate(obj).toString('latin1'));
      } else {
        body = roll < 0.4 ? Buffer.from(JSON.stringify(obj)) : mutate(obj);
      }
    } else {
      const ct = pick(['json', 'json', 'json', 'json', 'yaml', 'protobuf', 'other', 'none']);
      if (ct === 'yaml') {
        headers['content-type'] = 'application/yaml';
        body = Buffer.from(yamlOf(obj));
      } else if (ct === 'protobuf') {
        headers['content-type'] = 'application/vnd.kubernetes.protobuf';
        try {
          const pb = Buffer.from(encodeProtobuf(obj));
          body = roll < 0.3 ? pb : roll < 0.6 ? pb.subarray(0, int(pb.length)) : mutateBytes(pb);
        } catch {
          body = mutate(obj);
        }
      } else {
        if (ct === 'json')
          headers['content-type'] = pick(['application/json', 'application/json; charset=utf-8']);
        else if (ct === 'other')
          headers['content-type'] = pick(['text/plain', 'application/xml', 'multipart/form-data', ';;;']);
        body = roll < 0.3 ? Buffer.from(JSON.stringify(obj)) : mutate(obj);
      }
    }
  }
  return { spec: { method, path, headers, ...(body !== undefined ? { body } : {}) }, watch };
}

function mutateBytes(b: Buffer): Buffer {
  const c = Buffer.from(b);
  for (let i = 1 + int(4); i > 0; i--) {
    const at = int(c.length);
    c[at] = int(256);
  }
  return c;
}

// ---- checks ------------------------------------------------------------------------------

/** A response that breaks the contract. */
interface Finding {
  what: string;
  method: string;
  path: string;
  contentType: string;
  body: string;
  status: number;
  response: string;
}

// 500 is intentional for resourceVersion on create and for strategic-merge failures that
// upstream returns as bare errors (both answered the same upstream); 503 for subresources
// needing a kubelet; 504 for a resourceVersion from the future.
function intentional(r: RawResult): boolean {
  if (r.status === 500)
    return /resourceVersion should not be set on objects to be created|list element types are not identical/.test(
      r.text,
    );
  if (r.status === 503) return /needs a kubelet/.test(r.text);
  if (r.status === 504) return /Too large resource version/.test(r.text);
  return false;
}

function check(g: Generated, r: RawResult): string | undefined {
  if (r.status >= 500 && !intentional(r)) return `server error ${r.status}`;
  if (r.status < 100 || r.status > 599) return `bad status ${r.status}`;
  if (g.spec.method === 'HEAD' || g.watch || r.status < 400) return undefined;
  if (!/^application\/json/.test(String(r.headers['content-type']))) {
    // Non-resource 404s and 405s of the mux may be plain text; every error of an API path is a Status.
    return `error body is ${String(r.headers['content-type'])}, not a Status`;
  }
  let s: Record<string, unknown>;
  try {
    s = JSON.parse(r.text) as Record<string, unknown>;
  } catch {
    return 'error body is not JSON';
  }
  if (s.kind !== 'Status' || s.status !== 'Failure' || s.code !== r.status || typeof s.reason !== 'string')
    return 'error body is not a Failure Status matching the HTTP code';
  return undefined;
}

// ---- the test ----------------------------------------------------------------------------

let api: TestApiServer;
let c: HttpsClient;

before(async () => {
  api = await startTestApiServer();
  c = new HttpsClient(readClientConfig(api.server.kubeconfigPath), CONNECTIONS);
  const r = await c.json('POST', '/api/v1/namespaces', { metadata: { name: 'fuzz' } });
  assert.equal(r.status, 201);
});

after(async () => {
  c.close();
  await api.stop();
});

describe('apiserver fuzz', () => {
  const findings: Finding[] = [];
  const codes = new Map<number, number>();

  it(`survives ${REQUESTS} mutated requests (seed ${SEED})`, { timeout: 70_000 }, async () => {
    // Generate everything first so the sequence does not depend on response timing.
    const reqs = Array.from({ length: REQUESTS }, generate);
    const start = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (next < reqs.length && Date.now() - start < DEADLINE_MS) {
          const g = reqs[next++]!;
          let r: RawResult;
          try {
            r = await c.request({ ...g.spec, timeoutMs: 15_000 });
          } catch (e) {
            findings.push(finding(g, 0, `transport error: ${(e as Error).message}`));
            continue;
          }
          codes.set(r.status, (codes.get(r.status) ?? 0) + 1);
          // A HEAD answer has no body to classify a 5xx by: ask again with GET.
          if (g.spec.method === 'HEAD' && r.status >= 500) {
            r = await c.request({ ...g.spec, method: 'GET', timeoutMs: 15_000 });
          }
          const bad = check(g, r);
          if (bad !== undefined) findings.push(finding(g, r.status, bad, r.text));
        }
      }),
    );
    const elapsed = Date.now() - start;
    const summary = [...codes.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([k, v]) => `${k}:${v}`)
      .join(' ');
    const sent = [...codes.values()].reduce((a, b) => a + b, 0);
    process.stderr.write(`fuzz: ${sent} requests in ${elapsed} ms; ${summary}\n`);
    assert.equal(next, reqs.length, `only ${next} of ${reqs.length} requests sent before the deadline`);
    assert.deepEqual(groupFindings(findings), []);
  });

  it('is still ready and serves a create/get/list round-trip', async () => {
    const ready = await c.request({ path: '/readyz' });
    assert.equal(ready.status, 200);
    assert.equal(ready.text, 'ok');
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'after-fuzz' }, data: { k: 'v' } };
    const created = await c.json('POST', '/api/v1/namespaces/default/configmaps', cm);
    assert.equal(created.status, 201, JSON.stringify(created.obj));
    const got = await c.json('GET', '/api/v1/namespaces/default/configmaps/after-fuzz');
    assert.equal(got.status, 200);
    assert.deepEqual(got.obj.data, { k: 'v' });
    const list = await c.json('GET', '/api/v1/namespaces/default/configmaps');
    assert.equal(list.status, 200);
    const names = (list.obj.items as Array<{ metadata: { name: string } }>).map((i) => i.metadata.name);
    assert.ok(names.includes('after-fuzz'));
  });

  it('lists every resource, and every listed object can be fetched as listed', async () => {
    let lastRV = 0;
    for (const r of RESOURCES) {
      if (!r.verbs.includes('list')) continue;
      const base = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
      const list = await c.json('GET', `${base}/${r.plural}`);
      assert.equal(list.status, 200, `${r.plural}: ${JSON.stringify(list.obj).slice(0, 300)}`);
      const rvText = (list.obj.metadata as { resourceVersion?: string }).resourceVersion;
      if (rvText === undefined) continue; // virtual lists (componentstatuses) carry none
      const rv = Number(rvText);
      assert.ok(rv >= lastRV, `${r.plural}: list resourceVersion ${rv} went back from ${lastRV}`);
      lastRV = rv;
      for (const item of list.obj.items as Array<{
        metadata: { name: string; namespace?: string; resourceVersion: string };
      }>) {
        const m = item.metadata;
        assert.ok(Number(m.resourceVersion) <= rv, `${r.plural}/${m.name}: item newer than its list`);
        if (!r.verbs.includes('get')) continue;
        const path = `${base}${m.namespace ? `/namespaces/${m.namespace}` : ''}/${r.plural}/${encodeURIComponent(m.name)}`;
        const got = await c.json('GET', path);
        assert.equal(got.status, 200, `${path}: ${got.status}`);
        assert.equal(
          (got.obj.metadata as { resourceVersion: string }).resourceVersion,
          m.resourceVersion,
          `${path}: get and list disagree`,
        );
      }
    }
    // A paged list sees the same objects as a full one.
    const full = await c.json('GET', '/api/v1/configmaps');
    const seen: string[] = [];
    let cont = '';
    for (let pages = 0; pages < 1000; pages++) {
      const page = await c.json(
        'GET',
        `/api/v1/configmaps?limit=2${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`,
      );
      assert.equal(page.status, 200);
      for (const i of page.obj.items as Array<{ metadata: { namespace: string; name: string } }>)
        seen.push(`${i.metadata.namespace}/${i.metadata.name}`);
      cont = (page.obj.metadata as { continue?: string }).continue ?? '';
      if (cont === '') break;
    }
    const all = (full.obj.items as Array<{ metadata: { namespace: string; name: string } }>).map(
      (i) => `${i.metadata.namespace}/${i.metadata.name}`,
    );
    assert.deepEqual(seen, all);
  });
});

/** One example per kind of finding (same problem, same answer), with a count. */
function groupFindings(fs: Finding[]): Array<Finding & { count: number }> {
  const groups = new Map<string, Finding & { count: number }>();
  for (const f of fs) {
    const msg = /"message":"((?:[^"\\]|\\.)*)"/.exec(f.response)?.[1] ?? f.response.slice(0, 80);
    const key = `${f.what}|${msg.replace(/\d+/g, 'N')}`;
    const g = groups.get(key);
    if (g) g.count++;
    else groups.set(key, { ...f, count: 1 });
  }
  return [...groups.values()];
}

function finding(g: Generated, status: number, what: string, response = ''): Finding {
  const b = g.spec.body;
  const text = b === undefined ? '' : Buffer.from(b).toString('utf8');
  return {
    what,
    method: g.spec.method ?? 'GET',
    path: g.spec.path,
    contentType: g.spec.headers?.['content-type'] ?? '',
    body: text.length > 300 ? `${text.slice(0, 300)}…(${text.length})` : text,
    status,
    response: response.slice(0, 400),
  };
}
