import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PodSpec } from '../../api/generated/types/core-v1.js';
import { StatusError } from '../../machinery/status-error.js';
import { chainOf } from './chain.js';
import { podSecurity } from './pod-security.js';
import { checkPod, forbiddenDetail } from './pod-security-checks.js';
import { AdmissionFixture, namespace, pod } from './testing.js';

const latest = Number.POSITIVE_INFINITY;
const restrictedOk: PodSpec = {
  securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
  containers: [
    {
      name: 'c',
      image: 'x',
      securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
    },
  ],
};

describe('Pod Security Standards checks', () => {
  const cases: Array<{ name: string; level: 'baseline' | 'restricted'; spec: PodSpec; detail: string }> = [
    { name: 'restricted pod passes', level: 'restricted', spec: restrictedOk, detail: '' },
    {
      name: 'bare pod under restricted',
      level: 'restricted',
      spec: { containers: [{ name: 'c', image: 'x' }] },
      detail:
        'allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
    },
    {
      name: 'host namespaces, ports and privileged under baseline',
      level: 'baseline',
      spec: {
        hostNetwork: true,
        hostPID: true,
        containers: [
          {
            name: 'a',
            image: 'x',
            ports: [{ containerPort: 80, hostPort: 80 }],
            securityContext: { privileged: true, capabilities: { add: ['SYS_ADMIN'] } },
          },
        ],
        volumes: [{ name: 'h', hostPath: { path: '/' } }],
      },
      detail:
        'host namespaces (hostNetwork=true, hostPID=true), hostPath volumes (volume "h"), hostPort (container "a" uses hostPort 80), privileged (container "a" must not set securityContext.privileged=true), non-default capabilities (container "a" must not include "SYS_ADMIN" in securityContext.capabilities.add)',
    },
    {
      name: 'restricted volume types and root',
      level: 'restricted',
      spec: {
        ...restrictedOk,
        securityContext: { ...restrictedOk.securityContext, runAsUser: 0 },
        volumes: [{ name: 'nfs', nfs: { server: 's', path: '/' } }],
      },
      detail:
        'restricted volume types (volumes ["nfs"] have restricted types), runAsUser=0 (pod must not set runAsUser=0)',
    },
    {
      name: 'sysctls and seLinux',
      level: 'baseline',
      spec: {
        securityContext: {
          sysctls: [{ name: 'kernel.msgmax', value: '1' }],
          seLinuxOptions: { type: 'spc_t' },
        },
        containers: [{ name: 'c', image: 'x' }],
      },
      detail:
        'seLinuxOptions (pod set forbidden securityContext.seLinuxOptions: type "spc_t"), forbidden sysctls (kernel.msgmax)',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(forbiddenDetail(checkPod({ level: c.level, minor: latest }, {}, c.spec)), c.detail);
    });
  }
});

describe('PodSecurity admission', () => {
  const f = new AdmissionFixture();
  const chain = chainOf([podSecurity(f.stores)]);
  before(async () => {
    await f.seed(
      '',
      'namespaces',
      namespace('strict', { 'pod-security.kubernetes.io/enforce': 'restricted' }),
    );
    await f.seed(
      '',
      'namespaces',
      namespace('warned', {
        'pod-security.kubernetes.io/warn': 'baseline',
        'pod-security.kubernetes.io/warn-version': 'v1.30',
      }),
    );
  });
  after(() => f.close());

  it('refuses a privileged pod in a restricted namespace with the upstream message', async () => {
    const p = pod('priv', 'strict', [{ name: 'c', image: 'nginx', securityContext: { privileged: true } }]);
    await assert.rejects(f.create(chain, '', 'pods', p), (e: unknown) => {
      assert.ok(e instanceof StatusError);
      assert.equal(e.code, 403);
      assert.equal(
        e.status.message,
        'pods "priv" is forbidden: violates PodSecurity "restricted:latest": privileged (container "c" must not set securityContext.privileged=true), allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
      );
      return true;
    });
    await f.create(chain, '', 'pods', { ...pod('fine', 'strict'), spec: restrictedOk });
  });

  it('warns in warn mode, for pods and workload templates', async () => {
    await f.create(chain, '', 'pods', pod('hn', 'warned', undefined, { hostNetwork: true }));
    assert.deepEqual(f.warnings, [
      'would violate PodSecurity "baseline:v1.30": host namespaces (hostNetwork=true)',
    ]);
    await f.create(chain, 'apps', 'deployments', {
      metadata: { name: 'd', namespace: 'warned' },
      spec: {
        selector: { matchLabels: { a: 'b' } },
        template: {
          metadata: { labels: { a: 'b' } },
          spec: { hostPID: true, containers: [{ name: 'c', image: 'x' }] },
        },
      },
    });
    assert.deepEqual(f.warnings, [
      'would violate PodSecurity "baseline:v1.30": host namespaces (hostPID=true)',
    ]);
  });

  it('rejects bad labels and warns about existing pods when enforce tightens', async () => {
    await assert.rejects(
      f.create(chain, '', 'namespaces', namespace('bad', { 'pod-security.kubernetes.io/enforce': 'strict' })),
      {
        message:
          'Namespace "bad" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted',
      },
    );
    const ns = await f.stores.byName('', 'namespaces').get('', 'warned');
    await f.update(chain, '', 'namespaces', {
      ...ns,
      metadata: {
        ...ns.metadata,
        labels: { ...ns.metadata?.labels, 'pod-security.kubernetes.io/enforce': 'baseline' },
      },
    });
    assert.deepEqual(f.warnings, [
      'existing pods in namespace "warned" violate the new PodSecurity enforce level "baseline:latest"',
      'hn: host namespaces',
    ]);
  });
});
