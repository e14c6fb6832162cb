import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { servedGroups, servedResources } from '../served.js';
import { documentSources } from './routes.js';
import { buildV3Document, openapiV3Document, openapiV3Hash, openapiV3Paths } from './v3.js';

type Json = Record<string, unknown>;

function obj(v: unknown): Json {
  assert.ok(v !== null && typeof v === 'object' && !Array.isArray(v), `not an object: ${JSON.stringify(v)}`);
  return v as Json;
}

const parsed = new Map<string, Json>();

function doc(key: string): Json {
  let d = parsed.get(key);
  if (d === undefined) {
    const bytes = openapiV3Document(key);
    assert.ok(bytes, `no document ${key}`);
    d = obj(JSON.parse(new TextDecoder().decode(bytes)));
    parsed.set(key, d);
  }
  return d;
}

function gvKey(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`;
}

const schemasOf = (d: Json): Json => obj(obj(d.components).schemas);
const pathsOf = (d: Json): Json => obj(d.paths);

// Follows `allOf: [{$ref}]` / `$ref` to the named component schema.
function deref(d: Json, node: Json): Json {
  const all = node.allOf as Json[] | undefined;
  const ref = (all?.[0]?.$ref ?? node.$ref) as string | undefined;
  if (ref === undefined) return node;
  return obj(schemasOf(d)[ref.replace('#/components/schemas/', '')]);
}

function property(d: Json, node: Json, path: string[]): Json {
  let cur = node;
  for (const p of path) {
    const parent = deref(d, cur);
    cur = obj(obj(parent.properties)[p]);
  }
  return cur;
}

function refsIn(v: unknown, out: Set<string>): Set<string> {
  if (Array.isArray(v)) for (const x of v) refsIn(x, out);
  else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (k === '$ref' && typeof x === 'string') out.add(x);
      else refsIn(x, out);
    }
  }
  return out;
}

// True when some schema node carries a description (a property *named* description is fine).
function hasProse(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(hasProse);
  if (v === null || typeof v !== 'object') return false;
  return Object.entries(v).some(([k, x]) => (k === 'description' && typeof x === 'string') || hasProse(x));
}

function gvksOf(schema: Json): Array<{ group: string; version: string; kind: string }> {
  return (
    (schema['x-kubernetes-group-version-kind'] as Array<{ group: string; version: string; kind: string }>) ??
    []
  );
}

describe('openapi v3 index', () => {
  it('lists api, apis, version and every served group and group/version with a sha512 hash', () => {
    const idx = openapiV3Paths();
    const keys = Object.keys(idx.paths);
    for (const k of ['api', 'api/v1', 'apis', 'apis/apps', 'apis/apps/v1', 'version'])
      assert.ok(keys.includes(k), k);
    for (const g of servedGroups()) {
      if (g.name !== '') assert.ok(keys.includes(`apis/${g.name}`), g.name);
      for (const v of g.versions) assert.ok(keys.includes(gvKey(g.name, v)), `${g.name}/${v}`);
    }
    for (const [key, entry] of Object.entries(idx.paths)) {
      const m = /^\/openapi\/v3\/(.+)\?hash=([0-9A-F]{128})$/.exec(entry.serverRelativeURL);
      assert.ok(m, entry.serverRelativeURL);
      assert.equal(m[1], key);
      const expected = createHash('sha512').update(openapiV3Document(key)!).digest('hex').toUpperCase();
      assert.equal(m[2], expected);
      assert.equal(openapiV3Hash(key), expected);
    }
  });

  it('is stable: a fresh build of a document hashes the same', () => {
    const src = documentSources().find((s) => s.key === 'apis/apps/v1')!;
    const again = new TextEncoder().encode(JSON.stringify(buildV3Document(src.routes)));
    assert.deepEqual(again, openapiV3Document('apis/apps/v1'));
    assert.equal(
      openapiV3Paths().paths['apis/apps/v1']?.serverRelativeURL.split('hash=')[1],
      openapiV3Hash('apis/apps/v1'),
    );
  });

  it('resolves keys with a leading slash, the /openapi/v3 prefix or a query; unknown keys are undefined', () => {
    const bytes = openapiV3Document('apis/apps/v1');
    for (const k of ['/apis/apps/v1', '/openapi/v3/apis/apps/v1', 'apis/apps/v1?hash=ABC', 'apis/apps/v1/']) {
      assert.equal(openapiV3Document(k), bytes, k);
    }
    assert.equal(openapiV3Document('apis/nope/v1'), undefined);
    assert.equal(openapiV3Document('apis/apps/v1beta1'), undefined);
  });

  it('builds every document as valid JSON', () => {
    const start = performance.now();
    for (const s of documentSources())
      assert.ok(JSON.stringify(buildV3Document(s.routes)).startsWith('{"openapi":"3.0.0"'));
    process.stderr.write(`# all v3 documents built in ${(performance.now() - start).toFixed(0)} ms\n`);
  });
});

describe('openapi v3 documents', () => {
  const keys = Object.keys(openapiV3Paths().paths);

  it('are OpenAPI 3.0 documents whose references all resolve inside the document', () => {
    for (const key of keys) {
      const d = doc(key);
      assert.equal(d.openapi, '3.0.0');
      assert.deepEqual(d.info, { title: 'Kubernetes', version: 'unversioned' });
      assert.ok(Object.keys(pathsOf(d)).length > 0, key);
      const schemas = schemasOf(d);
      for (const ref of refsIn(d, new Set())) {
        assert.ok(ref.startsWith('#/components/schemas/'), ref);
        assert.ok(
          Object.hasOwn(schemas, ref.slice('#/components/schemas/'.length)),
          `${key}: dangling ${ref}`,
        );
      }
    }
  });

  it('carry every served kind and list kind, once, as a component with its GVK', () => {
    for (const r of servedResources()) {
      const d = doc(gvKey(r.group, r.version));
      for (const kind of r.verbs.includes('list') ? [r.kind, r.listKind] : [r.kind]) {
        const hits = Object.entries(schemasOf(d)).filter(([, s]) =>
          gvksOf(obj(s)).some((g) => g.group === r.group && g.version === r.version && g.kind === kind),
        );
        assert.equal(hits.length, 1, `${r.group}/${r.version} ${kind}: ${hits.map(([n]) => n).join(', ')}`);
        if (kind === r.kind) assert.equal(hits[0]![0], r.definition);
      }
    }
  });

  it('declare fieldValidation on a PATCH operation of every served kind that can be written', () => {
    for (const r of servedResources().filter(
      (x) => x.verbs.includes('create') || x.verbs.includes('patch'),
    )) {
      const d = doc(gvKey(r.group, r.version));
      const patches = Object.values(pathsOf(d))
        .map((item) => obj(item).patch as Json | undefined)
        .filter((op): op is Json => op !== undefined)
        .filter((op) => {
          const g = op['x-kubernetes-group-version-kind'] as Json | undefined;
          return g?.group === r.group && g?.version === r.version && g?.kind === r.kind;
        });
      assert.ok(patches.length > 0, `${r.group}/${r.version} ${r.kind}: no PATCH`);
      for (const op of patches) {
        const names = ((op.parameters as Json[]) ?? []).filter((p) => p.in === 'query').map((p) => p.name);
        assert.ok(names.includes('fieldValidation'), `${op.operationId}: ${names.join(',')}`);
      }
      if (r.verbs.includes('patch')) {
        const served = patches.find((op) => op.requestBody !== undefined)!;
        assert.deepEqual(Object.keys(obj(obj(served.requestBody).content)).sort(), [
          'application/apply-patch+yaml',
          'application/json-patch+json',
          'application/merge-patch+json',
          'application/strategic-merge-patch+json',
        ]);
      }
    }
  });

  it('give client-side apply the merge keys of a Deployment', () => {
    const d = doc('apis/apps/v1');
    const deployment = obj(schemasOf(d)['io.k8s.api.apps.v1.Deployment']);
    const podSpec = ['spec', 'template', 'spec'];
    const cases: Array<{ path: string[]; key?: string; strategy: string }> = [
      { path: [...podSpec, 'containers'], key: 'name', strategy: 'merge' },
      { path: [...podSpec, 'initContainers'], key: 'name', strategy: 'merge' },
      { path: [...podSpec, 'volumes'], key: 'name', strategy: 'merge,retainKeys' },
      { path: [...podSpec, 'tolerations'], strategy: '' },
      { path: ['spec', 'strategy'], strategy: 'retainKeys' },
      { path: ['metadata', 'ownerReferences'], key: 'uid', strategy: 'merge' },
      { path: ['metadata', 'finalizers'], strategy: 'merge' },
    ];
    for (const c of cases) {
      const node = property(d, deployment, c.path);
      assert.equal(node['x-kubernetes-patch-merge-key'], c.key, c.path.join('.'));
      assert.equal(node['x-kubernetes-patch-strategy'] ?? '', c.strategy, c.path.join('.'));
    }
    const container = obj(schemasOf(d)['io.k8s.api.core.v1.Container']);
    const ports = property(d, container, ['ports']);
    assert.equal(ports['x-kubernetes-patch-merge-key'], 'containerPort');
    assert.deepEqual(ports['x-kubernetes-list-map-keys'], ['containerPort', 'protocol']);
    assert.equal(ports['x-kubernetes-list-type'], 'map');
    assert.equal(property(d, container, ['env'])['x-kubernetes-patch-merge-key'], 'name');
    assert.equal(property(d, container, ['volumeMounts'])['x-kubernetes-patch-merge-key'], 'mountPath');
    assert.deepEqual(property(d, container, ['imagePullPolicy']).enum, ['Always', 'IfNotPresent', 'Never']);
  });

  it('render references as allOf, and IntOrString and Quantity as upstream does', () => {
    const d = doc('apis/apps/v1');
    const schemas = schemasOf(d);
    const spec = obj(schemas['io.k8s.api.apps.v1.DeploymentSpec']);
    assert.deepEqual(obj(obj(spec.properties).template), {
      allOf: [{ $ref: '#/components/schemas/io.k8s.api.core.v1.PodTemplateSpec' }],
    });
    assert.deepEqual(spec.required, ['selector', 'template']);
    assert.deepEqual(schemas['io.k8s.apimachinery.pkg.util.intstr.IntOrString'], {
      format: 'int-or-string',
      oneOf: [{ type: 'integer' }, { type: 'string' }],
    });
    assert.deepEqual(schemas['io.k8s.apimachinery.pkg.api.resource.Quantity'], {
      oneOf: [{ type: 'string' }, { type: 'number' }],
    });
    const limits = property(d, obj(schemas['io.k8s.api.core.v1.ResourceRequirements']), ['limits']);
    assert.deepEqual(limits.additionalProperties, {
      allOf: [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity' }],
    });
    for (const meta of ['Status', 'DeleteOptions', 'WatchEvent', 'Patch', 'APIResourceList']) {
      assert.ok(Object.hasOwn(schemas, `io.k8s.apimachinery.pkg.apis.meta.v1.${meta}`), meta);
    }
    assert.ok(!hasProse(schemas), 'no upstream prose');
  });

  it('serve the discovery roots', () => {
    const cases: Array<[string, string, string, string]> = [
      ['api', '/api/', 'getCoreAPIVersions', 'APIVersions'],
      ['apis', '/apis/', 'getAPIVersions', 'APIGroupList'],
      ['apis/apps', '/apis/apps/', 'getAppsAPIGroup', 'APIGroup'],
      [
        'apis/rbac.authorization.k8s.io',
        '/apis/rbac.authorization.k8s.io/',
        'getRbacAuthorizationAPIGroup',
        'APIGroup',
      ],
      ['api/v1', '/api/v1/', 'getCoreV1APIResources', 'APIResourceList'],
      ['version', '/version/', 'getCodeVersion', ''],
    ];
    for (const [key, path, opId, kind] of cases) {
      const get = obj(obj(pathsOf(doc(key))[path]).get);
      assert.equal(get.operationId, opId);
      if (kind !== '') {
        assert.ok(Object.hasOwn(schemasOf(doc(key)), `io.k8s.apimachinery.pkg.apis.meta.v1.${kind}`), key);
      }
    }
  });
});

// Upstream's apps/v1 document, as facts: the deployment paths with each operation's id and
// the parameter names at path level and at operation level.
const LIST = 'allowWatchBookmarks,continue,fieldSelector,labelSelector,limit';
const LIST_TAIL = 'resourceVersion,resourceVersionMatch,sendInitialEvents,timeoutSeconds,watch';
const DEPLOYMENT_PATHS: Record<string, Record<string, string>> = {
  '/apis/apps/v1/deployments': {
    parameters: `${LIST},pretty,${LIST_TAIL}`,
    get: 'listAppsV1DeploymentForAllNamespaces:',
  },
  '/apis/apps/v1/namespaces/{namespace}/deployments': {
    parameters: 'namespace,pretty',
    get: `listAppsV1NamespacedDeployment:${LIST},${LIST_TAIL}`,
    post: 'createAppsV1NamespacedDeployment:dryRun,fieldManager,fieldValidation',
    delete:
      'deleteAppsV1CollectionNamespacedDeployment:continue,dryRun,fieldSelector,gracePeriodSeconds,labelSelector,' +
      'limit,orphanDependents,propagationPolicy,resourceVersion,resourceVersionMatch,sendInitialEvents,timeoutSeconds',
  },
  '/apis/apps/v1/namespaces/{namespace}/deployments/{name}': {
    parameters: 'name,namespace,pretty',
    get: 'readAppsV1NamespacedDeployment:',
    put: 'replaceAppsV1NamespacedDeployment:dryRun,fieldManager,fieldValidation',
    patch: 'patchAppsV1NamespacedDeployment:dryRun,fieldManager,fieldValidation,force',
    delete: 'deleteAppsV1NamespacedDeployment:dryRun,gracePeriodSeconds,orphanDependents,propagationPolicy',
  },
  '/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale': {
    parameters: 'name,namespace,pretty',
    get: 'readAppsV1NamespacedDeploymentScale:',
    put: 'replaceAppsV1NamespacedDeploymentScale:dryRun,fieldManager,fieldValidation',
    patch: 'patchAppsV1NamespacedDeploymentScale:dryRun,fieldManager,fieldValidation,force',
  },
  '/apis/apps/v1/namespaces/{namespace}/deployments/{name}/status': {
    parameters: 'name,namespace,pretty',
    get: 'readAppsV1NamespacedDeploymentStatus:',
    put: 'replaceAppsV1NamespacedDeploymentStatus:dryRun,fieldManager,fieldValidation',
    patch: 'patchAppsV1NamespacedDeploymentStatus:dryRun,fieldManager,fieldValidation,force',
  },
  '/apis/apps/v1/watch/deployments': {
    parameters: `${LIST},pretty,${LIST_TAIL}`,
    get: 'watchAppsV1DeploymentListForAllNamespaces:',
  },
  '/apis/apps/v1/watch/namespaces/{namespace}/deployments': {
    parameters: `${LIST},namespace,pretty,${LIST_TAIL}`,
    get: 'watchAppsV1NamespacedDeploymentList:',
  },
  '/apis/apps/v1/watch/namespaces/{namespace}/deployments/{name}': {
    parameters: `${LIST},name,namespace,pretty,${LIST_TAIL}`,
    get: 'watchAppsV1NamespacedDeployment:',
  },
};

function shape(item: Json): Record<string, string> {
  const names = (ps: unknown): string => ((ps as Json[] | undefined) ?? []).map((p) => p.name).join(',');
  const out: Record<string, string> = { parameters: names(item.parameters) };
  for (const [m, op] of Object.entries(item)) {
    if (m !== 'parameters') out[m] = `${obj(op).operationId}:${names(obj(op).parameters)}`;
  }
  return out;
}

describe('openapi v3 apps/v1 against upstream', () => {
  it('has the deployment paths, operation ids and parameters of upstream', () => {
    const paths = pathsOf(doc('apis/apps/v1'));
    const mine = Object.keys(paths).filter((p) => /\/deployments(\/|$)/.test(p));
    assert.deepEqual(mine.sort(), Object.keys(DEPLOYMENT_PATHS).sort());
    for (const [p, expected] of Object.entries(DEPLOYMENT_PATHS))
      assert.deepEqual(shape(obj(paths[p])), expected, p);
  });

  const SAMPLE = '/work/shared/k8s-openapi/v3-sample/apis/apps/v1.json';
  it('matches the upstream sample document path for path, when it is available', {
    skip: !existsSync(SAMPLE),
  }, () => {
    const sample = obj(JSON.parse(readFileSync(SAMPLE, 'utf8')));
    const mine = pathsOf(doc('apis/apps/v1'));
    assert.deepEqual(Object.keys(mine).sort(), Object.keys(pathsOf(sample)).sort());
    for (const [p, item] of Object.entries(pathsOf(sample))) {
      const theirs = shape(obj(item));
      const ours = shape(obj(mine[p]));
      assert.deepEqual(Object.keys(ours).sort(), Object.keys(theirs).sort(), p);
      for (const k of Object.keys(theirs)) assert.equal(ours[k], theirs[k], `${p} ${k}`);
    }
  });
});
