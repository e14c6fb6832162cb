import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { servedResources } from '../../served.js';
import type { AdmissionRequest } from '../../admission/types.js';
import type { UserInfo } from '../../endpoints/scope.js';
import type { KObject } from '../../registry/object.js';
import { StatusError } from '../../../machinery/status-error.js';
import { createRBACAuthorizer, type RBACChain } from './chain.js';
import { ensureBootstrapPolicy } from './ensure-policy.js';
import { RBACEscalationPlugin } from './escalation.js';
import { RBAC_GROUP } from './policy-builder.js';
import { binding, newTestStores, serviceAccountUser, testWO } from './testing.js';

function resource(plural: string) {
  const r = servedResources().find((x) => x.group === RBAC_GROUP && x.plural === plural);
  assert.ok(r);
  return r;
}

function create(plural: string, namespace: string, object: KObject, user: UserInfo): AdmissionRequest {
  return {
    operation: 'CREATE',
    resource: resource(plural),
    subresource: '',
    namespace,
    name: object.metadata?.name ?? '',
    object,
    oldObject: undefined,
    user,
    dryRun: false,
  };
}

function role(name: string, rules: unknown[], kind = 'Role'): KObject {
  return { apiVersion: `${RBAC_GROUP}/v1`, kind, metadata: { name }, rules };
}

function forbiddenWith(message: string) {
  return (e: unknown) => {
    assert.ok(e instanceof StatusError);
    assert.equal(e.code, 403);
    assert.equal(e.message, message);
    return true;
  };
}

const viewer = serviceAccountUser('default', 'viewer');
const GROUPS = '["system:serviceaccounts" "system:serviceaccounts:default" "system:authenticated"]';

describe('RBAC escalation prevention', () => {
  const env = newTestStores();
  let authz: RBACChain;
  let plugin: RBACEscalationPlugin;

  before(async () => {
    await ensureBootstrapPolicy(env.stores);
    authz = await createRBACAuthorizer(env.stores);
    plugin = new RBACEscalationPlugin(authz);
    const rbs = env.stores.byName(RBAC_GROUP, 'rolebindings');
    // The viewer may read (view) and manage roles and bindings, but holds no more than view.
    await rbs.create(
      'default',
      binding('default', 'viewer-view', 'ClusterRole', 'view', { kind: 'ServiceAccount', name: 'viewer' }),
      testWO(),
    );
    await env.stores
      .byName(RBAC_GROUP, 'roles')
      .create(
        'default',
        role('rbac-writer', [
          { apiGroups: [RBAC_GROUP], resources: ['roles', 'rolebindings'], verbs: ['create', 'update'] },
        ]),
        testWO(),
      );
    await rbs.create(
      'default',
      binding('default', 'viewer-rbac', 'Role', 'rbac-writer', { kind: 'ServiceAccount', name: 'viewer' }),
      testWO(),
    );
    await authz.synced();
  });
  after(async () => {
    authz.close();
    await env.close();
  });

  it('allows a role with rules the user holds', () => {
    plugin.validate(
      create(
        'roles',
        'default',
        role('pod-reader', [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }]),
        viewer,
      ),
    );
  });

  it('refuses a role granting more than the user holds, listing what is missing', () => {
    const r = role('pod-killer', [
      { apiGroups: [''], resources: ['pods', 'secrets'], verbs: ['get', 'delete'] },
    ]);
    assert.throws(
      () => plugin.validate(create('roles', 'default', r, viewer)),
      forbiddenWith(
        `roles.rbac.authorization.k8s.io "pod-killer" is forbidden: user "system:serviceaccount:default:viewer" (groups=${GROUPS}) is attempting to grant RBAC permissions not currently held:\n` +
          '{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}\n' +
          '{APIGroups:[""], Resources:["secrets"], Verbs:["get" "delete"]}',
      ),
    );
  });

  it('refuses binding cluster-admin, and binding a role the user does not hold', () => {
    const b = binding('default', 'grab-admin', 'ClusterRole', 'cluster-admin', {
      kind: 'ServiceAccount',
      name: 'viewer',
    });
    assert.throws(
      () => plugin.validate(create('rolebindings', 'default', b, viewer)),
      forbiddenWith(
        `rolebindings.rbac.authorization.k8s.io "grab-admin" is forbidden: user "system:serviceaccount:default:viewer" (groups=${GROUPS}) is attempting to grant RBAC permissions not currently held:\n` +
          '{APIGroups:["*"], Resources:["*"], Verbs:["*"]}\n{NonResourceURLs:["*"], Verbs:["*"]}',
      ),
    );
    const missing = binding('default', 'ghost', 'ClusterRole', 'no-such-role', { kind: 'User', name: 'x' });
    assert.throws(
      () => plugin.validate(create('rolebindings', 'default', missing, viewer)),
      forbiddenWith(
        'rolebindings.rbac.authorization.k8s.io "ghost" is forbidden: clusterrole.rbac.authorization.k8s.io "no-such-role" not found',
      ),
    );
    // Binding view (held in full) is fine.
    plugin.validate(
      create(
        'rolebindings',
        'default',
        binding('default', 'share-view', 'ClusterRole', 'view', { kind: 'User', name: 'x' }),
        viewer,
      ),
    );
  });

  it('honours the escalate and bind verbs, and exempts system:masters', async () => {
    const rbs = env.stores.byName(RBAC_GROUP, 'rolebindings');
    const crs = env.stores.byName(RBAC_GROUP, 'clusterroles');
    await crs.create(
      '',
      role(
        'delegate',
        [
          { apiGroups: [RBAC_GROUP], resources: ['roles'], verbs: ['escalate'] },
          { apiGroups: [RBAC_GROUP], resources: ['clusterroles'], verbs: ['bind'], resourceNames: ['edit'] },
        ],
        'ClusterRole',
      ),
      testWO(),
    );
    const delegate = serviceAccountUser('default', 'delegate');
    await rbs.create(
      'default',
      binding('default', 'delegate', 'ClusterRole', 'delegate', { kind: 'ServiceAccount', name: 'delegate' }),
      testWO(),
    );
    await authz.synced();
    plugin.validate(
      create(
        'roles',
        'default',
        role('anything', [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }]),
        delegate,
      ),
    );
    plugin.validate(
      create(
        'rolebindings',
        'default',
        binding('default', 'b', 'ClusterRole', 'edit', { kind: 'User', name: 'x' }),
        delegate,
      ),
    );
    assert.throws(() =>
      plugin.validate(
        create(
          'rolebindings',
          'default',
          binding('default', 'b', 'ClusterRole', 'admin', { kind: 'User', name: 'x' }),
          delegate,
        ),
      ),
    );
    const master: UserInfo = { username: 'root', groups: ['system:masters', 'system:authenticated'] };
    plugin.validate(
      create(
        'clusterrolebindings',
        '',
        binding('', 'root', 'ClusterRole', 'cluster-admin', { kind: 'User', name: 'y' }),
        master,
      ),
    );
  });

  it('requires full authority for an aggregation rule', () => {
    const agg: KObject = {
      apiVersion: `${RBAC_GROUP}/v1`,
      kind: 'ClusterRole',
      metadata: { name: 'sneaky' },
      aggregationRule: { clusterRoleSelectors: [{ matchLabels: { x: 'y' } }] },
      rules: [],
    };
    assert.throws(
      () => plugin.validate(create('clusterroles', '', agg, viewer)),
      forbiddenWith(
        'clusterroles.rbac.authorization.k8s.io "sneaky" is forbidden: must have cluster-admin privileges to use the aggregationRule',
      ),
    );
  });

  it('lets updates that touch only garbage-collector fields through', () => {
    const old = role('pod-killer', [{ apiGroups: [''], resources: ['pods'], verbs: ['delete'] }]);
    const next = { ...old, metadata: { ...old.metadata, finalizers: ['foregroundDeletion'] } };
    plugin.validate({ ...create('roles', 'default', next, viewer), operation: 'UPDATE', oldObject: old });
  });
});
