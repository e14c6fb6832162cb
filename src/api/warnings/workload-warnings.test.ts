import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  jobSpecWarnings,
  podAppArmorAnnotationWarnings,
  type WorkloadObject,
  warningsOnCreate,
  warningsOnUpdate,
} from './workload-warnings.js';

const BAD_SPEC = {
  containers: [{ name: 'c', image: 'x' }],
  nodeSelector: { 'beta.kubernetes.io/arch': 'amd64' },
};
const GOOD_SPEC = { containers: [{ name: 'c', image: 'x' }] };
const ARCH = 'deprecated since v1.14; use "kubernetes.io/arch" instead';
const POD_NAMES_DOTS =
  'metadata.name: this is used in Pod names and hostnames, which can result in surprising behavior; a DNS label is recommended: [must not contain dots]';

function workload(name: string, spec: Record<string, unknown>, generation = 1): WorkloadObject {
  return { metadata: { name, generation }, spec };
}

const withTemplate = (podSpec: unknown) => ({ template: { metadata: {}, spec: podSpec } });

describe('warningsOnCreate', () => {
  const cases: Array<{ resource: string; obj: WorkloadObject; want: string[] }> = [
    {
      resource: '/pods',
      obj: { metadata: { name: 'a.b' }, spec: BAD_SPEC },
      want: [
        "metadata.name: this is used in the Pod's hostname, which can result in surprising behavior; a DNS label is recommended: [must not contain dots]",
        `spec.nodeSelector[beta.kubernetes.io/arch]: ${ARCH}`,
      ],
    },
    {
      resource: 'apps/deployments',
      obj: workload('web.v1', withTemplate(BAD_SPEC)),
      want: [POD_NAMES_DOTS, `spec.template.spec.nodeSelector[beta.kubernetes.io/arch]: ${ARCH}`],
    },
    {
      resource: 'apps/replicasets',
      obj: workload('web', withTemplate(BAD_SPEC)),
      want: [`spec.template.spec.nodeSelector[beta.kubernetes.io/arch]: ${ARCH}`],
    },
    {
      resource: '/replicationcontrollers',
      obj: workload('Web', withTemplate(GOOD_SPEC)),
      want: [
        "metadata.name: this is used in Pod names and hostnames, which can result in surprising behavior; a DNS label is recommended: [a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')]",
      ],
    },
    {
      resource: 'apps/daemonsets',
      obj: workload('ds.x', withTemplate(BAD_SPEC)),
      want: [`spec.template.spec.nodeSelector[beta.kubernetes.io/arch]: ${ARCH}`],
    },
    {
      resource: 'apps/statefulsets',
      obj: workload('ss', {
        ...withTemplate(BAD_SPEC),
        revisionHistoryLimit: -1,
        volumeClaimTemplates: [{ spec: { resources: { requests: { storage: '1500m' } } } }],
      }),
      want: [
        `spec.template.spec.nodeSelector[beta.kubernetes.io/arch]: ${ARCH}`,
        'spec.volumeClaimTemplates[0].resources.requests[storage]: fractional byte value "1500m" is invalid, must be an integer',
        'spec.revisionHistoryLimit: a negative value retains all historical revisions; a value >= 0 is recommended',
      ],
    },
    {
      resource: 'batch/jobs',
      obj: workload('j.1', withTemplate(BAD_SPEC)),
      want: [POD_NAMES_DOTS, `spec.template.spec.nodeSelector[beta.kubernetes.io/arch]: ${ARCH}`],
    },
    {
      resource: 'batch/cronjobs',
      obj: workload('cj', { schedule: '* * * * *', jobTemplate: { spec: withTemplate(BAD_SPEC) } }),
      want: [`spec.jobTemplate.spec.template.spec.nodeSelector[beta.kubernetes.io/arch]: ${ARCH}`],
    },
    {
      resource: '/podtemplates',
      obj: { metadata: { name: 'pt.1' }, template: { spec: BAD_SPEC } },
      want: [`template.spec.nodeSelector[beta.kubernetes.io/arch]: ${ARCH}`],
    },
    { resource: '/configmaps', obj: { metadata: { name: 'a.b' } }, want: [] },
  ];
  for (const tc of cases) {
    it(tc.resource, () => {
      assert.deepEqual(warningsOnCreate(tc.resource, tc.obj), tc.want);
    });
  }
});

describe('warningsOnUpdate', () => {
  const tmplWarning = `spec.template.spec.nodeSelector[beta.kubernetes.io/arch]: ${ARCH}`;
  const cases: Array<{
    name: string;
    resource: string;
    obj: WorkloadObject;
    old: WorkloadObject;
    want: string[];
  }> = [
    {
      name: 'deployment with a new generation',
      resource: 'apps/deployments',
      obj: workload('web.v1', withTemplate(BAD_SPEC), 2),
      old: workload('web.v1', withTemplate(GOOD_SPEC), 1),
      want: [tmplWarning],
    },
    {
      name: 'deployment with the same generation (labels only)',
      resource: 'apps/deployments',
      obj: workload('web', withTemplate(BAD_SPEC), 3),
      old: workload('web', withTemplate(BAD_SPEC), 3),
      want: [],
    },
    {
      name: 'replication controller reports the stored template, as upstream',
      resource: '/replicationcontrollers',
      obj: workload('rc', withTemplate(GOOD_SPEC), 2),
      old: workload('rc', withTemplate(BAD_SPEC), 1),
      want: [tmplWarning],
    },
    {
      name: 'daemonset: template change',
      resource: 'apps/daemonsets',
      obj: workload('ds', { ...withTemplate(BAD_SPEC), minReadySeconds: 1 }, 2),
      old: workload('ds', withTemplate(GOOD_SPEC), 1),
      want: [tmplWarning],
    },
    {
      name: 'daemonset: spec change outside the template',
      resource: 'apps/daemonsets',
      obj: workload('ds', { ...withTemplate(BAD_SPEC), minReadySeconds: 5 }, 2),
      old: workload('ds', { ...withTemplate(BAD_SPEC), minReadySeconds: 1 }, 1),
      want: [],
    },
    {
      name: 'statefulset claims are checked on every update, under upstream’s .Spec path',
      resource: 'apps/statefulsets',
      obj: workload('ss', {
        ...withTemplate(GOOD_SPEC),
        volumeClaimTemplates: [{ spec: { resources: { limits: { storage: '0.5' } } } }],
      }),
      old: workload('ss', withTemplate(GOOD_SPEC)),
      want: [
        'spec.volumeClaimTemplates[0].Spec.resources.limits[storage]: fractional byte value "500m" is invalid, must be an integer',
      ],
    },
    {
      name: 'cronjob with a new generation',
      resource: 'batch/cronjobs',
      obj: workload('cj', { jobTemplate: { spec: withTemplate(BAD_SPEC) } }, 2),
      old: workload('cj', { jobTemplate: { spec: withTemplate(GOOD_SPEC) } }, 1),
      want: [`spec.jobTemplate.spec.template.spec.nodeSelector[beta.kubernetes.io/arch]: ${ARCH}`],
    },
    {
      name: 'pods never warn on update',
      resource: '/pods',
      obj: { metadata: { name: 'p', generation: 2 }, spec: BAD_SPEC },
      old: { metadata: { name: 'p', generation: 1 }, spec: GOOD_SPEC },
      want: [],
    },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      assert.deepEqual(warningsOnUpdate(tc.resource, tc.obj, tc.old), tc.want);
    });
  }
});

describe('jobSpecWarnings', () => {
  it('warns about very large Indexed Jobs', () => {
    const spec = {
      completionMode: 'Indexed',
      completions: 100_001,
      parallelism: 10_001,
      template: { spec: GOOD_SPEC },
    };
    assert.deepEqual(jobSpecWarnings('spec', spec), [
      'spec: In Indexed Jobs with a number of completions higher than 10^5 and a parallelism higher than 10^4, Kubernetes might not be able to track completedIndexes when a big number of indexes fail',
    ]);
    assert.deepEqual(jobSpecWarnings('spec', { ...spec, completionMode: 'NonIndexed' }), []);
  });
});

describe('podAppArmorAnnotationWarnings', () => {
  const key = 'container.apparmor.security.beta.kubernetes.io/c';
  const msg = `metadata.annotations[${key}]: deprecated since v1.30; use the "appArmorProfile" field instead`;
  const cases: Array<{
    name: string;
    annotation: string;
    podProfile?: Record<string, string>;
    want: string[];
  }> = [
    { name: 'readable annotation', annotation: 'runtime/default', want: [msg] },
    { name: 'unreadable annotation', annotation: 'bogus', want: [msg] },
    {
      name: 'same as the pod profile',
      annotation: 'localhost/p',
      podProfile: { type: 'Localhost', localhostProfile: 'p' },
      want: [],
    },
    {
      name: 'unlike the pod profile',
      annotation: 'unconfined',
      podProfile: { type: 'RuntimeDefault' },
      want: [msg],
    },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      const pod = {
        metadata: { annotations: { [key]: tc.annotation } },
        spec: {
          containers: [{ name: 'c', image: 'x' }],
          ...(tc.podProfile
            ? { securityContext: { appArmorProfile: tc.podProfile as { type: string } } }
            : {}),
        },
      };
      assert.deepEqual(podAppArmorAnnotationWarnings(pod), tc.want);
    });
  }

  it('a container with its own profile and windows pods are left alone', () => {
    const annotations = { [key]: 'unconfined' };
    const ownProfile = { type: 'RuntimeDefault' };
    assert.deepEqual(
      podAppArmorAnnotationWarnings({
        metadata: { annotations },
        spec: { containers: [{ name: 'c', image: 'x', securityContext: { appArmorProfile: ownProfile } }] },
      }),
      [],
    );
    assert.deepEqual(
      podAppArmorAnnotationWarnings({
        metadata: { annotations },
        spec: { os: { name: 'windows' }, containers: [{ name: 'c', image: 'x' }] },
      }),
      [],
    );
  });
});
