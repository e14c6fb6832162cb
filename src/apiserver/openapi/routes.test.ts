import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  groupVersionRoutes,
  gvPrefix,
  gvTag,
  type Param,
  pathItems,
  type Route,
  toOperationIdPart,
} from './routes.js';

const q = (name: string): Param => ({ name, in: 'query', type: 'string' });
const p = (name: string): Param => ({ name, in: 'path', type: 'string' });

function route(method: Route['method'], params: Param[], extra: Partial<Route> = {}): Route {
  return { path: '/x', method, operationId: method, tags: [], params, responses: {}, ...extra };
}

describe('openapi routes', () => {
  it('names operation-id words and tags like upstream', () => {
    const cases: Array<[string, boolean, string]> = [
      ['rbac.authorization', true, 'RbacAuthorization'],
      ['rbac.authorization', false, 'rbacAuthorization'],
      ['flowcontrol.apiserver', true, 'FlowcontrolApiserver'],
      ['v1beta1', true, 'V1beta1'],
      ['apps', false, 'apps'],
    ];
    for (const [s, cap, want] of cases) assert.equal(toOperationIdPart(s, cap), want, s);
    assert.equal(gvTag('', 'v1'), 'core_v1');
    assert.equal(gvTag('rbac.authorization.k8s.io', 'v1'), 'rbacAuthorization_v1');
    assert.equal(gvTag('apps', 'v1'), 'apps_v1');
    assert.equal(gvPrefix('', 'v1'), '/api/v1');
    assert.equal(gvPrefix('batch', 'v1'), '/apis/batch/v1');
  });

  it('moves parameters shared by all operations to the path', () => {
    const [item] = pathItems([
      route('get', [p('name'), q('pretty')]),
      route('put', [p('name'), q('pretty'), q('dryRun')]),
    ]);
    assert.deepEqual(
      item!.shared.map((x) => x.name),
      ['name', 'pretty'],
    );
    assert.deepEqual(
      item!.ops.map((o) => [o.route.method, o.own.map((x) => x.name)]),
      [
        ['get', []],
        ['put', ['dryRun']],
      ],
    );
  });

  it('keeps the query parameters of a PATCH operation on the operation', () => {
    const w = [q('dryRun'), q('fieldManager'), q('fieldValidation')];
    const [item] = pathItems([
      route('put', [p('name'), q('pretty'), ...w]),
      route('patch', [p('name'), q('pretty'), ...w], { action: 'patch' }),
    ]);
    assert.deepEqual(
      item!.shared.map((x) => x.name),
      ['name', 'pretty'],
    );
    assert.deepEqual(
      item!.ops.find((o) => o.route.method === 'patch')!.own.map((x) => x.name),
      ['dryRun', 'fieldManager', 'fieldValidation'],
    );
  });

  it('gives create-only kinds a parameter-only PATCH that declares fieldValidation', () => {
    const routes = groupVersionRoutes('authorization.k8s.io', 'v1');
    const ssar = routes.filter((r) => r.path === '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews');
    assert.deepEqual(
      ssar.map((r) => [r.method, r.operationId, r.validationOnly ?? false]),
      [
        ['post', 'createAuthorizationV1SelfSubjectAccessReview', false],
        ['patch', 'declareFieldValidationAuthorizationV1SelfSubjectAccessReview', true],
      ],
    );
    const patch = ssar[1]!;
    assert.equal(patch.body, undefined);
    assert.ok(patch.params.some((x) => x.name === 'fieldValidation' && x.in === 'query'));
    const [item] = pathItems(ssar);
    assert.ok(item!.ops[1]!.own.some((x) => x.name === 'fieldValidation'));
  });

  it('routes subresources with their own kinds and connect methods', () => {
    const core = groupVersionRoutes('', 'v1');
    const find = (id: string): Route | undefined => core.find((r) => r.operationId === id);
    assert.deepEqual(find('createCoreV1NamespacedPodEviction')?.gvk, {
      group: 'policy',
      version: 'v1',
      kind: 'Eviction',
    });
    assert.equal(
      find('connectCoreV1PostNamespacedPodExec')?.path,
      '/api/v1/namespaces/{namespace}/pods/{name}/exec',
    );
    assert.deepEqual(
      find('connectCoreV1GetNamespacedPodExec')?.params.map((x) => x.name),
      ['name', 'namespace', 'command', 'container', 'stderr', 'stdin', 'stdout', 'tty'],
    );
    assert.equal(find('connectCoreV1HeadNodeProxyWithPath')?.path, '/api/v1/nodes/{name}/proxy/{path}');
    assert.equal(
      find('readCoreV1NamespacedPodLog')?.responses['200']?.contentTypes.includes('text/plain'),
      true,
    );
    assert.equal(find('replaceCoreV1NamespaceFinalize')?.method, 'put');
    // Pods are deleted gracefully, so DELETE answers with the Pod; ConfigMaps answer a Status.
    assert.deepEqual(find('deleteCoreV1NamespacedPod')?.responses['200']?.schema, {
      def: 'io.k8s.api.core.v1.Pod',
    });
    assert.deepEqual(find('deleteCoreV1NamespacedConfigMap')?.responses['200']?.schema, {
      def: 'io.k8s.apimachinery.pkg.apis.meta.v1.Status',
    });
  });
});
