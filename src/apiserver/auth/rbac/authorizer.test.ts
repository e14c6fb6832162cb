import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuthzAttributes } from '../../endpoints/reviews.js';
import type { UserInfo } from '../../endpoints/scope.js';
import { forbiddenError } from '../authorizer.js';
import { createRBACAuthorizer, type RBACChain } from './chain.js';
import { ensureBootstrapPolicy } from './ensure-policy.js';
import { RBAC_GROUP } from './policy-builder.js';
import { binding, newTestStores, serviceAccountUser, testWO } from './testing.js';

function req(
  user: UserInfo,
  verb: string,
  resource: string,
  namespace = 'default',
  extra: Partial<AuthzAttributes> = {},
): AuthzAttributes {
  return {
    user,
    verb,
    namespace,
    apiGroup: '',
    resource,
    subresource: '',
    name: '',
    resourceRequest: true,
    ...extra,
  };
}

function path(user: UserInfo, verb: string, p: string): AuthzAttributes {
  return {
    user,
    verb,
    namespace: '',
    apiGroup: '',
    resource: '',
    subresource: '',
    name: '',
    path: p,
    resourceRequest: false,
  };
}

const viewer = serviceAccountUser('default', 'viewer');
const admin: UserInfo = { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] };
const anonymous: UserInfo = { username: 'system:anonymous', groups: ['system:unauthenticated'] };

describe('RBAC authorizer over the bootstrap policy', () => {
  const env = newTestStores();
  let authz: RBACChain;

  before(async () => {
    await ensureBootstrapPolicy(env.stores);
    authz = await createRBACAuthorizer(env.stores);
    await env.stores.byName(RBAC_GROUP, 'rolebindings').create(
      'default',
      binding('default', 'viewer-view', 'ClusterRole', 'view', {
        kind: 'ServiceAccount',
        name: 'viewer',
        namespace: 'default',
      }),
      testWO(),
    );
    await authz.synced();
  });
  after(async () => {
    authz.close();
    await env.close();
  });

  it('lets system:masters do anything through the cluster-admin binding', () => {
    assert.equal(authz.authorize(req(admin, 'delete', 'nodes', '')).allowed, true);
    assert.equal(authz.authorize(path(admin, 'post', '/whatever')).allowed, true);
  });

  it('lets a service account bound to view list pods but not delete them', () => {
    assert.equal(authz.authorize(req(viewer, 'list', 'pods')).allowed, true);
    assert.equal(
      authz.authorize(req(viewer, 'get', 'pods', 'default', { subresource: 'log', name: 'p' })).allowed,
      true,
    );
    const d = authz.authorize(req(viewer, 'delete', 'pods', 'default', { name: 'p' }));
    assert.deepEqual(d, { allowed: false, reason: '' });
    const err = forbiddenError(req(viewer, 'delete', 'pods'), d.reason);
    assert.equal(
      err.message,
      'pods is forbidden: User "system:serviceaccount:default:viewer" cannot delete resource "pods" in API group "" in the namespace "default"',
    );
  });

  it('does not let view read secrets, or anything in another namespace', () => {
    assert.equal(authz.authorize(req(viewer, 'get', 'secrets', 'default', { name: 's' })).allowed, false);
    assert.equal(authz.authorize(req(viewer, 'list', 'pods', 'kube-system')).allowed, false);
    assert.equal(authz.authorize(req(viewer, 'list', 'pods', '')).allowed, false);
  });

  it('gives every authenticated user discovery and self reviews, anonymous only public info', () => {
    assert.equal(authz.authorize(path(viewer, 'get', '/apis/apps/v1')).allowed, true);
    assert.equal(
      authz.authorize(
        req(viewer, 'create', 'selfsubjectaccessreviews', '', { apiGroup: 'authorization.k8s.io' }),
      ).allowed,
      true,
    );
    assert.equal(authz.authorize(path(anonymous, 'get', '/healthz')).allowed, true);
    assert.equal(authz.authorize(path(anonymous, 'get', '/version')).allowed, true);
    assert.equal(authz.authorize(path(anonymous, 'get', '/api')).allowed, false);
    assert.equal(authz.authorize(req(anonymous, 'list', 'pods')).allowed, false);
  });

  it('gives components their least-privilege roles', () => {
    const scheduler: UserInfo = { username: 'system:kube-scheduler', groups: ['system:authenticated'] };
    assert.equal(
      authz.authorize(req(scheduler, 'create', 'pods', 'default', { subresource: 'binding', name: 'p' }))
        .allowed,
      true,
    );
    assert.equal(authz.authorize(req(scheduler, 'get', 'secrets', 'default', { name: 's' })).allowed, false);
    const rsController = serviceAccountUser('kube-system', 'replicaset-controller');
    assert.equal(authz.authorize(req(rsController, 'create', 'pods')).allowed, true);
    assert.equal(
      authz.authorize(
        req(rsController, 'update', 'replicasets', 'default', { apiGroup: 'apps', subresource: 'status' }),
      ).allowed,
      true,
    );
    assert.equal(authz.authorize(req(rsController, 'delete', 'nodes', '')).allowed, false);
  });

  it('follows binding changes incrementally and reports missing roles as upstream', async () => {
    const rbs = env.stores.byName(RBAC_GROUP, 'rolebindings');
    const user = serviceAccountUser('team', 'bot');
    assert.equal(authz.authorize(req(user, 'get', 'configmaps', 'team')).allowed, false);
    await rbs.create(
      'team',
      binding('team', 'bot', 'Role', 'cm-reader', { kind: 'ServiceAccount', name: 'bot' }),
      testWO(),
    );
    await authz.synced();
    assert.deepEqual(authz.authorize(req(user, 'get', 'configmaps', 'team')), {
      allowed: false,
      reason: 'RBAC: role.rbac.authorization.k8s.io "cm-reader" not found',
    });
    await env.stores.byName(RBAC_GROUP, 'roles').create(
      'team',
      {
        apiVersion: `${RBAC_GROUP}/v1`,
        kind: 'Role',
        metadata: { name: 'cm-reader' },
        rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'], resourceNames: ['settings'] }],
      },
      testWO(),
    );
    await authz.synced();
    assert.equal(authz.authorize(req(user, 'get', 'configmaps', 'team', { name: 'settings' })).allowed, true);
    assert.equal(authz.authorize(req(user, 'get', 'configmaps', 'team', { name: 'other' })).allowed, false);
    await rbs.delete('team', 'bot', {}, testWO());
    await authz.synced();
    assert.equal(
      authz.authorize(req(user, 'get', 'configmaps', 'team', { name: 'settings' })).allowed,
      false,
    );
  });

  it('answers SelfSubjectRulesReview with the union of cluster and namespace rules', () => {
    const review = authz.rulesFor(viewer, 'default');
    assert.equal(review.incomplete, false);
    assert.equal(review.evaluationError, undefined);
    assert.deepEqual(review.resourceRules[0], {
      verbs: ['create'],
      apiGroups: ['authorization.k8s.io'],
      resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'],
    });
    assert.ok(
      review.resourceRules.some(
        (r) =>
          JSON.stringify(r) ===
          JSON.stringify({ verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['namespaces'] }),
      ),
      'view rules are listed for the bound namespace',
    );
    assert.ok(!review.resourceRules.some((r) => (r.resources ?? []).includes('secrets')));
    assert.deepEqual(review.nonResourceRules.at(-1), {
      verbs: ['get'],
      nonResourceURLs: [
        '/.well-known/openid-configuration',
        '/.well-known/openid-configuration/',
        '/openid/v1/jwks',
        '/openid/v1/jwks/',
      ],
    });
    const elsewhere = authz.rulesFor(viewer, 'kube-system');
    assert.ok(!elsewhere.resourceRules.some((r) => (r.resources ?? []).includes('pods')));
  });

  it('lists everything for system:masters', () => {
    const review = authz.rulesFor(admin, 'default');
    // Bindings are visited in name order: cluster-admin, then system:basic-user, ….
    assert.deepEqual(review.resourceRules, [
      { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
      {
        verbs: ['create'],
        apiGroups: ['authorization.k8s.io'],
        resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'],
      },
      { verbs: ['create'], apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'] },
    ]);
    assert.deepEqual(review.nonResourceRules[0], { verbs: ['*'], nonResourceURLs: ['*'] });
  });

  it('marks node users incomplete, as the Node authorizer cannot list rules', () => {
    const node: UserInfo = { username: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] };
    const review = authz.rulesFor(node, 'default');
    assert.equal(review.incomplete, true);
    assert.equal(review.evaluationError, 'node authorizer does not support user rule resolution');
  });
});
