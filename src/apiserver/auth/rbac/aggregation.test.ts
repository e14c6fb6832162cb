import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ClusterRole, PolicyRule } from '../../../api/generated/types/rbac-v1.js';
import type { AuthzAttributes } from '../../endpoints/reviews.js';
import { type ClusterRoleAggregator, startClusterRoleAggregation } from './aggregation.js';
import { createRBACAuthorizer, type RBACChain } from './chain.js';
import { ensureBootstrapPolicy } from './ensure-policy.js';
import { RBAC_GROUP } from './policy-builder.js';
import { binding, newTestStores, serviceAccountUser, testWO } from './testing.js';

const WIDGETS: PolicyRule = {
  apiGroups: ['example.com'],
  resources: ['widgets'],
  verbs: ['get', 'list', 'create'],
};

async function rulesOf(env: ReturnType<typeof newTestStores>, name: string): Promise<PolicyRule[]> {
  const o = (await env.stores.byName(RBAC_GROUP, 'clusterroles').get('', name)) as unknown as ClusterRole;
  return o.rules ?? [];
}

async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`timed out waiting for ${what}`);
}

const has = (rules: PolicyRule[], r: PolicyRule) =>
  rules.some((x) => JSON.stringify(x) === JSON.stringify(r));

describe('ClusterRole aggregation', () => {
  const env = newTestStores();
  let aggregator: ClusterRoleAggregator;
  let authz: RBACChain;

  before(async () => {
    await ensureBootstrapPolicy(env.stores);
    aggregator = await startClusterRoleAggregation(env.stores);
    authz = await createRBACAuthorizer(env.stores);
  });
  after(async () => {
    aggregator.close();
    authz.close();
    await env.close();
  });

  it('fills view, edit and admin at bootstrap, each including the smaller role', async () => {
    const view = await rulesOf(env, 'view');
    const edit = await rulesOf(env, 'edit');
    const admin = await rulesOf(env, 'admin');
    assert.ok(view.length > 0);
    for (const r of view) assert.ok(has(edit, r), 'edit includes view');
    for (const r of edit) assert.ok(has(admin, r), 'admin includes edit');
    assert.ok(
      has(admin, {
        apiGroups: ['rbac.authorization.k8s.io'],
        resources: ['rolebindings', 'roles'],
        verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
      }),
    );
    assert.ok(
      !edit.some((r) => (r.resources ?? []).includes('rolebindings')),
      'edit cannot grant permissions',
    );
  });

  it('adds a new aggregate-to-edit role to edit and admin but not view, and follows its changes', async () => {
    const crs = env.stores.byName(RBAC_GROUP, 'clusterroles');
    await crs.create(
      '',
      {
        apiVersion: `${RBAC_GROUP}/v1`,
        kind: 'ClusterRole',
        metadata: {
          name: 'widget-editor',
          labels: { 'rbac.authorization.k8s.io/aggregate-to-edit': 'true' },
        },
        rules: [WIDGETS],
      },
      testWO(),
    );
    await eventually(async () => has(await rulesOf(env, 'edit'), WIDGETS), 'edit to aggregate widgets');
    await eventually(async () => has(await rulesOf(env, 'admin'), WIDGETS), 'admin to aggregate widgets');
    assert.ok(!has(await rulesOf(env, 'view'), WIDGETS));

    // A user bound to edit can now use the new rules.
    await env.stores
      .byName(RBAC_GROUP, 'rolebindings')
      .create(
        'default',
        binding('default', 'dev-edit', 'ClusterRole', 'edit', { kind: 'ServiceAccount', name: 'dev' }),
        testWO(),
      );
    await authz.synced();
    const a: AuthzAttributes = {
      user: serviceAccountUser('default', 'dev'),
      verb: 'create',
      namespace: 'default',
      apiGroup: 'example.com',
      resource: 'widgets',
      subresource: '',
      name: '',
      resourceRequest: true,
    };
    assert.equal(authz.authorize(a).allowed, true);

    // Removing the label takes the rules away again.
    await crs.guaranteedUpdate('', 'widget-editor', testWO(), (cur) => ({
      ...cur,
      metadata: { ...cur?.metadata, labels: {} },
    }));
    await eventually(async () => !has(await rulesOf(env, 'admin'), WIDGETS), 'admin to drop widgets');
    await aggregator.idle();
    await authz.synced();
    assert.equal(authz.authorize(a).allowed, false);
  });
});
