import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuthzAttributes } from '../../endpoints/reviews.js';
import type { UserInfo } from '../../endpoints/scope.js';
import type { KObject } from '../../registry/object.js';
import { forbiddenError } from '../authorizer.js';
import { createRBACAuthorizer, type RBACChain } from './chain.js';
import { ensureBootstrapPolicy } from './ensure-policy.js';
import { newTestStores, testWO } from './testing.js';

function nodeUser(name: string): UserInfo {
  return { username: `system:node:${name}`, groups: ['system:nodes', 'system:authenticated'] };
}

function attrs(
  user: UserInfo,
  verb: string,
  resource: string,
  namespace: string,
  name: string,
  extra: Partial<AuthzAttributes> = {},
): AuthzAttributes {
  return {
    user,
    verb,
    namespace,
    apiGroup: '',
    resource,
    subresource: '',
    name,
    resourceRequest: true,
    ...extra,
  };
}

function pod(name: string, node: string, spec: Record<string, unknown>): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox' }], ...spec },
  };
}

describe('Node authorizer', () => {
  const env = newTestStores();
  let authz: RBACChain;
  const n1 = nodeUser('n1');
  const n2 = nodeUser('n2');

  before(async () => {
    await ensureBootstrapPolicy(env.stores);
    authz = await createRBACAuthorizer(env.stores);
    const pods = env.stores.byName('', 'pods');
    await pods.create(
      'default',
      pod('web', 'n1', {
        serviceAccountName: 'web-sa',
        imagePullSecrets: [{ name: 'registry' }],
        containers: [
          {
            name: 'c',
            image: 'busybox',
            env: [{ name: 'K', valueFrom: { configMapKeyRef: { name: 'settings', key: 'k' } } }],
            envFrom: [{ secretRef: { name: 'env-secret' } }],
          },
        ],
        volumes: [
          { name: 'tls', secret: { secretName: 'web-tls' } },
          { name: 'data', persistentVolumeClaim: { claimName: 'web-data' } },
        ],
      }),
      testWO(),
    );
    await pods.create(
      'default',
      pod('db', 'n2', { volumes: [{ name: 's', secret: { secretName: 'db-secret' } }] }),
      testWO(),
    );
    await authz.synced();
  });
  after(async () => {
    authz.close();
    await env.close();
  });

  it('allows a node the secrets, config maps, claims and tokens of its own pods', () => {
    for (const [resource, name, extra] of [
      ['secrets', 'web-tls', {}],
      ['secrets', 'registry', {}],
      ['secrets', 'env-secret', {}],
      ['configmaps', 'settings', {}],
      ['persistentvolumeclaims', 'web-data', {}],
      ['pods', 'web', {}],
      ['serviceaccounts', 'web-sa', { subresource: 'token' }],
    ] as const) {
      const verb = resource === 'serviceaccounts' ? 'create' : 'get';
      assert.equal(
        authz.authorize(attrs(n1, verb, resource, 'default', name, extra)).allowed,
        true,
        `${resource}/${name}`,
      );
    }
  });

  it("denies a node another node's secrets with upstream's message", () => {
    const a = attrs(n1, 'get', 'secrets', 'default', 'db-secret');
    const d = authz.authorize(a);
    assert.equal(d.allowed, false);
    assert.equal(d.reason, "no relationship found between node 'n1' and this object");
    assert.equal(
      forbiddenError(a, d.reason).message,
      `secrets "db-secret" is forbidden: User "system:node:n1" cannot get resource "secrets" in API group "" in the namespace "default": no relationship found between node 'n1' and this object`,
    );
    assert.equal(authz.authorize(attrs(n2, 'get', 'secrets', 'default', 'web-tls')).allowed, false);
    assert.equal(authz.authorize(attrs(n2, 'get', 'secrets', 'default', 'db-secret')).allowed, true);
    assert.equal(authz.authorize(attrs(n1, 'get', 'pods', 'default', 'db')).allowed, false);
    assert.equal(
      authz.authorize(attrs(n1, 'update', 'secrets', 'default', 'web-tls')).reason,
      'can only read resources of this type',
    );
  });

  it('follows pod changes: a deleted pod no longer grants its secrets', async () => {
    const pods = env.stores.byName('', 'pods');
    await pods.create(
      'default',
      pod('tmp', 'n1', { volumes: [{ name: 's', secret: { secretName: 'tmp-secret' } }] }),
      testWO(),
    );
    await authz.synced();
    assert.equal(authz.authorize(attrs(n1, 'get', 'secrets', 'default', 'tmp-secret')).allowed, true);
    await pods.delete('default', 'tmp', { gracePeriodSeconds: 0 }, testWO());
    await authz.synced();
    assert.equal(authz.authorize(attrs(n1, 'get', 'secrets', 'default', 'tmp-secret')).allowed, false);
  });

  it('limits a node to its own Node object and Lease', () => {
    assert.equal(authz.authorize(attrs(n1, 'get', 'nodes', '', 'n1')).allowed, true);
    assert.equal(
      authz.authorize(attrs(n1, 'patch', 'nodes', '', 'n1', { subresource: 'status' })).allowed,
      true,
    );
    assert.equal(
      authz.authorize(attrs(n1, 'get', 'nodes', '', 'n2')).reason,
      "node 'n1' cannot read 'n2', only its own Node object",
    );
    const lease = { apiGroup: 'coordination.k8s.io' };
    assert.equal(
      authz.authorize(attrs(n1, 'update', 'leases', 'kube-node-lease', 'n1', lease)).allowed,
      true,
    );
    assert.equal(
      authz.authorize(attrs(n1, 'update', 'leases', 'kube-node-lease', 'n2', lease)).reason,
      'can only access node lease with the same name as the requesting node',
    );
  });

  it('grants nodes the static node rules and enforces the pod field selector when given', () => {
    assert.equal(authz.authorize(attrs(n1, 'list', 'services', '', '')).allowed, true);
    assert.equal(authz.authorize(attrs(n1, 'create', 'events', 'default', '')).allowed, true);
    assert.equal(
      authz.authorize(attrs(n1, 'delete', 'deployments', 'default', 'd', { apiGroup: 'apps' })).allowed,
      false,
    );
    const list = { ...attrs(n1, 'list', 'pods', '', ''), fieldSelector: 'spec.nodeName=n1' };
    assert.equal(authz.authorize(list).allowed, true);
    assert.equal(
      authz.authorize({ ...list, fieldSelector: '' }).reason,
      'can only list/watch pods with spec.nodeName field selector',
    );
  });

  it('has no opinion on users that are not nodes', () => {
    const notNode: UserInfo = { username: 'system:node:n1', groups: ['system:authenticated'] };
    assert.deepEqual(authz.node.authorize(attrs(notNode, 'get', 'secrets', 'default', 'web-tls')), {
      allowed: false,
      reason: '',
    });
  });
});
