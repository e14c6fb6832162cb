import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Pod } from '../../api/generated/types/core-v1.js';
import { StatusError } from '../../machinery/status-error.js';
import type { KObject } from '../registry/object.js';
import { createAdmissionChain, DEFAULT_PLUGIN_ORDER } from './chain.js';
import { ensureBuiltinPriorityClasses } from './priority.js';
import { AdmissionFixture, namespace, pod } from './testing.js';

function rejectsWith(code: number, message: string) {
  return (e: unknown) => {
    assert.ok(e instanceof StatusError, String(e));
    assert.equal(e.status.message, message);
    assert.equal(e.code, code);
    return true;
  };
}

describe('admission chain', () => {
  const f = new AdmissionFixture();
  const chain = createAdmissionChain(f.stores, {
    serviceAccount: { defaultAttempts: 1, randomSuffix: () => 'abcde' },
  });

  before(async () => {
    for (const ns of ['default', 'kube-system', 'kube-public', 'team'])
      await f.seed('', 'namespaces', namespace(ns));
    for (const ns of ['default', 'team']) {
      await f.seed('', 'serviceaccounts', {
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: 'default', namespace: ns },
      });
    }
    await f.seed('', 'serviceaccounts', {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'nomount', namespace: 'default' },
      automountServiceAccountToken: false,
    });
    const dying = await f.seed('', 'namespaces', namespace('dying'));
    await f.stores
      .byName('', 'namespaces')
      .update(
        '',
        'dying',
        { ...dying, status: { phase: 'Terminating' } },
        { dryRun: false, fieldManager: 't', subresource: 'status', warnings: [] },
        true,
      );
    await ensureBuiltinPriorityClasses(f.stores);
  });
  after(async () => {
    chain.close();
    await f.close();
  });

  it('lists the plugins in upstream order', () => {
    assert.deepEqual(
      chain.plugins.map((p) => p.name),
      [...DEFAULT_PLUGIN_ORDER],
    );
  });

  it('NamespaceLifecycle refuses creates in missing and terminating namespaces', async () => {
    await assert.rejects(
      f.create(chain, '', 'configmaps', { metadata: { name: 'a', namespace: 'nope' } }),
      rejectsWith(404, 'namespaces "nope" not found'),
    );
    await assert.rejects(
      f.create(chain, '', 'configmaps', { metadata: { name: 'a', namespace: 'dying' } }),
      rejectsWith(
        403,
        'configmaps "a" is forbidden: unable to create new content in namespace dying because it is being terminated',
      ),
    );
  });

  it('NamespaceLifecycle keeps the immortal namespaces', async () => {
    for (const ns of ['default', 'kube-system', 'kube-public']) {
      await assert.rejects(
        f.delete(chain, '', 'namespaces', '', ns),
        rejectsWith(403, `namespaces "${ns}" is forbidden: this namespace may not be deleted`),
      );
    }
  });

  it('defaults a pod: service account, token volume, tolerations, priority', async () => {
    const p = (await f.create(
      chain,
      '',
      'pods',
      pod('p1', 'team', [{ name: 'c', image: 'nginx' }], {
        initContainers: [{ name: 'i', image: 'busybox' }],
      }),
    )) as unknown as Pod;
    const spec = p.spec!;
    assert.equal(spec.serviceAccountName, 'default');
    assert.equal(spec.priority, 0);
    assert.equal(spec.preemptionPolicy, 'PreemptLowerPriority');
    assert.deepEqual(spec.volumes, [
      {
        name: 'kube-api-access-abcde',
        projected: {
          defaultMode: 420,
          sources: [
            { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
            { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
            {
              downwardAPI: {
                items: [
                  { path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } },
                ],
              },
            },
          ],
        },
      },
    ]);
    const mount = {
      name: 'kube-api-access-abcde',
      readOnly: true,
      mountPath: '/var/run/secrets/kubernetes.io/serviceaccount',
    };
    assert.deepEqual(spec.containers[0]?.volumeMounts, [mount]);
    assert.deepEqual(spec.initContainers?.[0]?.volumeMounts, [mount]);
    assert.deepEqual(spec.tolerations, [
      {
        key: 'node.kubernetes.io/not-ready',
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: 300,
      },
      {
        key: 'node.kubernetes.io/unreachable',
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: 300,
      },
    ]);
  });

  it('ServiceAccount honours automount opt-outs and refuses a missing account', async () => {
    const a = (await f.create(
      chain,
      '',
      'pods',
      pod('p2', 'default', undefined, { serviceAccountName: 'nomount' }),
    )) as unknown as Pod;
    assert.equal(a.spec?.volumes, undefined);
    const b = (await f.create(
      chain,
      '',
      'pods',
      pod('p3', 'default', undefined, { automountServiceAccountToken: false }),
    )) as unknown as Pod;
    assert.equal(b.spec?.volumes, undefined);
    await assert.rejects(
      f.create(chain, '', 'pods', pod('p4', 'default', undefined, { serviceAccountName: 'ghost' })),
      rejectsWith(
        403,
        'pods "p4" is forbidden: error looking up service account default/ghost: serviceaccount "ghost" not found',
      ),
    );
  });

  it('Priority resolves classes and refuses unknown ones', async () => {
    const p = (await f
      .create(
        chain,
        '',
        'pods',
        pod('crit', 'kube-system', undefined, {
          priorityClassName: 'system-node-critical',
          serviceAccountName: 'x',
          automountServiceAccountToken: false,
        }),
      )
      .catch((e: unknown) => e)) as unknown;
    // kube-system has no service accounts here: the ServiceAccount plugin runs before Priority.
    assert.ok(p instanceof StatusError);
    await f.seed('', 'serviceaccounts', {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'x', namespace: 'kube-system' },
    });
    const ok = (await f.create(
      chain,
      '',
      'pods',
      pod('crit', 'kube-system', undefined, {
        priorityClassName: 'system-node-critical',
        serviceAccountName: 'x',
      }),
    )) as unknown as Pod;
    assert.equal(ok.spec?.priority, 2000001000);
    await assert.rejects(
      f.create(chain, '', 'pods', pod('p5', 'team', undefined, { priorityClassName: 'foo' })),
      rejectsWith(403, 'pods "p5" is forbidden: no PriorityClass with name foo was found'),
    );
    await f.create(chain, 'scheduling.k8s.io', 'priorityclasses', {
      metadata: { name: 'def' },
      value: 7,
      globalDefault: true,
    });
    const d = (await f.create(chain, '', 'pods', pod('p6', 'team'))) as unknown as Pod;
    assert.equal(d.spec?.priority, 7);
    assert.equal(d.spec?.priorityClassName, 'def');
    await assert.rejects(
      f.create(chain, 'scheduling.k8s.io', 'priorityclasses', {
        metadata: { name: 'def2' },
        value: 8,
        globalDefault: true,
      }),
      rejectsWith(
        403,
        'priorityclasses.scheduling.k8s.io "def2" is forbidden: PriorityClass def is already marked as default. Only one default can exist',
      ),
    );
  });

  it('taints new nodes, protects claims and volumes, defaults the storage class', async () => {
    const n = await f.create(chain, '', 'nodes', { metadata: { name: 'n1' } });
    assert.deepEqual((n.spec as { taints?: unknown }).taints, [
      { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' },
    ]);
    await f.create(chain, 'storage.k8s.io', 'storageclasses', {
      metadata: { name: 'local', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
      provisioner: 'x',
    });
    const claim = (spec: Record<string, unknown>): KObject => ({
      metadata: { name: `c${Object.keys(spec).length}`, namespace: 'team' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...spec },
    });
    const c = await f.create(chain, '', 'persistentvolumeclaims', claim({}));
    assert.equal((c.spec as { storageClassName?: string }).storageClassName, 'local');
    assert.deepEqual(c.metadata?.finalizers, ['kubernetes.io/pvc-protection']);
    const none = await f.create(chain, '', 'persistentvolumeclaims', claim({ storageClassName: '' }));
    assert.equal((none.spec as { storageClassName?: string }).storageClassName, '');
    const pv = await f.create(chain, '', 'persistentvolumes', {
      metadata: { name: 'pv1' },
      spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/tmp/x' } },
    });
    assert.deepEqual(pv.metadata?.finalizers, ['kubernetes.io/pv-protection']);
  });
});
