import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PodSpec } from '../generated/types/core-v1.js';
import type { ObjectMeta } from '../generated/types/meta-v1.js';
import { fieldPath, podSpecWarnings, podTemplateWarnings, podWarnings } from './pod-warnings.js';
import { overlappingVolumePathWarnings } from './volume-path-overlap.js';

const c = (extra: Record<string, unknown> = {}) => ({ name: 'c', image: 'busybox', ...extra });
const spec = (extra: Partial<PodSpec> = {}): PodSpec => ({ containers: [c()], ...extra });

interface Case {
  name: string;
  spec?: PodSpec;
  meta?: ObjectMeta;
  want: string[];
}

// Expected texts as upstream's pkg/api/pod/warnings_test.go words them, with a template
// prefix so both path forms are exercised.
const TEMPLATE_CASES: Case[] = [
  { name: 'clean spec', spec: spec(), want: [] },
  {
    name: 'deprecated nodeSelector labels',
    spec: spec({ nodeSelector: { 'beta.kubernetes.io/arch': 'amd64', 'kubernetes.io/os': 'linux' } }),
    want: [
      'spec.template.spec.nodeSelector[beta.kubernetes.io/arch]: deprecated since v1.14; use "kubernetes.io/arch" instead',
    ],
  },
  {
    name: 'deprecated node affinity keys',
    spec: spec({
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: 'failure-domain.beta.kubernetes.io/zone', operator: 'Exists' }] },
            ],
          },
          preferredDuringSchedulingIgnoredDuringExecution: [
            {
              weight: 1,
              preference: {
                matchExpressions: [
                  { key: 'foo', operator: 'Exists' },
                  { key: 'beta.kubernetes.io/instance-type', operator: 'Exists' },
                ],
              },
            },
          ],
        },
      },
    }),
    want: [
      'spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].key: failure-domain.beta.kubernetes.io/zone is deprecated since v1.17; use "topology.kubernetes.io/zone" instead',
      'spec.template.spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].preference.matchExpressions[1].key: beta.kubernetes.io/instance-type is deprecated since v1.17; use "node.kubernetes.io/instance-type" instead',
    ],
  },
  {
    name: 'topology spread: deprecated key and null selector',
    spec: spec({
      topologySpreadConstraints: [
        {
          maxSkew: 1,
          topologyKey: 'failure-domain.beta.kubernetes.io/region',
          whenUnsatisfiable: 'DoNotSchedule',
        },
      ],
    }),
    want: [
      'spec.template.spec.topologySpreadConstraints[0].topologyKey: failure-domain.beta.kubernetes.io/region is deprecated since v1.17; use "topology.kubernetes.io/region" instead',
      'spec.template.spec.topologySpreadConstraints[0].labelSelector: a null labelSelector results in matching no pod',
    ],
  },
  {
    name: 'deprecated annotations',
    meta: {
      annotations: {
        'scheduler.alpha.kubernetes.io/critical-pod': '',
        'security.alpha.kubernetes.io/sysctls': 'a=b',
        'security.alpha.kubernetes.io/unsafe-sysctls': 'a=b',
      },
    },
    want: [
      'spec.template.metadata.annotations[scheduler.alpha.kubernetes.io/critical-pod]: non-functional in v1.16+; use the "priorityClassName" field instead',
      'spec.template.metadata.annotations[security.alpha.kubernetes.io/sysctls]: non-functional in v1.11+; use the "sysctls" field instead',
      'spec.template.metadata.annotations[security.alpha.kubernetes.io/unsafe-sysctls]: non-functional in v1.11+; use the "sysctls" field instead',
    ],
  },
  {
    name: 'retired volume plugins and ephemeral claim size',
    spec: spec({
      volumes: [
        { name: 'a', photonPersistentDisk: { pdID: 'x' } },
        { name: 'b', gitRepo: { repository: 'r' } },
        { name: 'c', scaleIO: { gateway: 'g', system: 's', secretRef: { name: 'n' } } },
        { name: 'd', flocker: { datasetName: 'd' } },
        { name: 'e', storageos: { volumeName: 'v' } },
        { name: 'f', quobyte: { registry: 'r', volume: 'v' } },
        { name: 'g', glusterfs: { endpoints: 'e', path: 'p' } },
        {
          name: 'h',
          ephemeral: { volumeClaimTemplate: { spec: { resources: { requests: { storage: '200500u' } } } } },
        },
        { name: 'i', cephfs: { monitors: ['m'] } },
        { name: 'j', rbd: { monitors: ['m'], image: 'i' } },
      ],
    }),
    want: [
      'spec.template.spec.volumes[0].photonPersistentDisk: deprecated in v1.11, non-functional in v1.16+',
      'spec.template.spec.volumes[1].gitRepo: deprecated in v1.11',
      'spec.template.spec.volumes[2].scaleIO: deprecated in v1.16, non-functional in v1.22+',
      'spec.template.spec.volumes[3].flocker: deprecated in v1.22, non-functional in v1.25+',
      'spec.template.spec.volumes[4].storageOS: deprecated in v1.22, non-functional in v1.25+',
      'spec.template.spec.volumes[5].quobyte: deprecated in v1.22, non-functional in v1.25+',
      'spec.template.spec.volumes[6].glusterfs: deprecated in v1.25, non-functional in v1.26+',
      'spec.template.spec.volumes[7].ephemeral.volumeClaimTemplate.spec.resources.requests[storage]: fractional byte value "200500u" is invalid, must be an integer',
      'spec.template.spec.volumes[8].cephfs: deprecated in v1.28, non-functional in v1.31+',
      'spec.template.spec.volumes[9].rbd: deprecated in v1.28, non-functional in v1.31+',
    ],
  },
  {
    name: 'duplicate hostAliases and imagePullSecrets, empty secret name',
    spec: spec({
      hostAliases: [{ ip: '1.1.1.1' }, { ip: '1.1.1.1' }],
      imagePullSecrets: [{ name: 'a' }, { name: 'a' }, { name: '' }],
    }),
    want: [
      'spec.template.spec.hostAliases[1].ip: duplicate ip "1.1.1.1"',
      'spec.template.spec.imagePullSecrets[1].name: duplicate name "a"',
      'spec.template.spec.imagePullSecrets[2].name: invalid empty name ""',
    ],
  },
  {
    name: 'fractional memory and ephemeral storage',
    spec: spec({
      overhead: { memory: '1500m' },
      initContainers: [c({ name: 'i', resources: { limits: { memory: '0.5' } } })],
      containers: [
        c({
          resources: {
            limits: { memory: '1Gi', 'ephemeral-storage': '2500m' },
            requests: { memory: 1.5, 'ephemeral-storage': '1k', cpu: '500m' },
          },
        }),
      ],
    }),
    want: [
      'spec.template.spec.overhead[memory]: fractional byte value "1500m" is invalid, must be an integer',
      'spec.template.spec.initContainers[0].resources.limits[memory]: fractional byte value "500m" is invalid, must be an integer',
      'spec.template.spec.containers[0].resources.requests[memory]: fractional byte value "1500m" is invalid, must be an integer',
      'spec.template.spec.containers[0].resources.limits[ephemeral-storage]: fractional byte value "2500m" is invalid, must be an integer',
    ],
  },
  {
    name: 'seccomp and AppArmor annotations without fields',
    meta: {
      annotations: {
        'seccomp.security.alpha.kubernetes.io/pod': 'runtime/default',
        'container.seccomp.security.alpha.kubernetes.io/c': 'runtime/default',
        'container.apparmor.security.beta.kubernetes.io/c': 'runtime/default',
        'container.apparmor.security.beta.kubernetes.io/d': 'runtime/default',
      },
    },
    spec: spec({
      containers: [c(), c({ name: 'd', securityContext: { appArmorProfile: { type: 'RuntimeDefault' } } })],
    }),
    want: [
      'spec.template.metadata.annotations[seccomp.security.alpha.kubernetes.io/pod]: non-functional in v1.27+; use the "seccompProfile" field instead',
      'spec.template.metadata.annotations[container.seccomp.security.alpha.kubernetes.io/c]: non-functional in v1.27+; use the "seccompProfile" field instead',
      'spec.template.metadata.annotations[container.apparmor.security.beta.kubernetes.io/c]: deprecated since v1.30; use the "appArmorProfile" field instead',
    ],
  },
  {
    name: 'seccomp annotations with fields set',
    meta: {
      annotations: {
        'seccomp.security.alpha.kubernetes.io/pod': 'runtime/default',
        'container.seccomp.security.alpha.kubernetes.io/c': 'runtime/default',
      },
    },
    spec: spec({
      securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
      containers: [c({ securityContext: { seccompProfile: { type: 'RuntimeDefault' } } })],
    }),
    want: [],
  },
  {
    name: 'duplicate env names',
    spec: spec({
      containers: [
        c({
          env: [
            { name: 'A', value: 'x' },
            { name: 'A', value: 'y' },
            { name: 'B', value: 'x' },
            { name: 'B', value: '$(B)-more' },
            { name: 'C', value: 'x' },
            { name: 'C', value: '$(C)' },
            { name: 'D', value: 'x' },
            { name: 'D', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          ],
        }),
      ],
    }),
    want: [
      'spec.template.spec.containers[0].env[1]: hides previous definition of "A", which may be dropped when using apply',
      'spec.template.spec.containers[0].env[5]: hides previous definition of "C", which may be dropped when using apply',
      'spec.template.spec.containers[0].env[7]: hides previous definition of "D", which may be dropped when using apply',
    ],
  },
  {
    name: 'ports across containers',
    spec: spec({
      containers: [
        c({
          ports: [
            { containerPort: 80, protocol: 'TCP' },
            { containerPort: 80, protocol: 'TCP' },
            { containerPort: 80, protocol: 'UDP' },
            { containerPort: 53, protocol: 'UDP', hostPort: 53, hostIP: '10.0.0.1' },
          ],
        }),
        c({
          name: 'd',
          ports: [
            { containerPort: 80, protocol: 'TCP', hostPort: 8080 },
            { containerPort: 53, protocol: 'UDP', hostPort: 53 },
            { name: 'x', containerPort: 9, protocol: 'TCP', hostIP: '127.0.0.1' },
          ],
        }),
      ],
    }),
    want: [
      'spec.template.spec.containers[0].ports[1]: duplicate port definition with spec.template.spec.containers[0].ports[0]',
      'spec.template.spec.containers[1].ports[0]: overlapping port definition with spec.template.spec.containers[0].ports[0]',
      'spec.template.spec.containers[1].ports[0]: overlapping port definition with spec.template.spec.containers[0].ports[1]',
      'spec.template.spec.containers[1].ports[1]: dangerously ambiguous port definition with spec.template.spec.containers[0].ports[3]',
      'spec.template.spec.containers[1].ports[2]: hostIP set without hostPort: {Name:x HostPort:0 ContainerPort:9 Protocol:TCP HostIP:127.0.0.1}',
    ],
  },
  {
    name: 'negative terminationGracePeriodSeconds',
    spec: spec({ terminationGracePeriodSeconds: -1 }),
    want: [
      'spec.template.spec.terminationGracePeriodSeconds: must be >= 0; negative values are invalid and will be treated as 1',
    ],
  },
  {
    name: 'pod (anti-)affinity terms with null selectors',
    spec: spec({
      affinity: {
        podAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'k' }],
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 1, podAffinityTerm: { topologyKey: 'k' } },
          ],
        },
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [
            { topologyKey: 'k', labelSelector: {} },
            { topologyKey: 'k' },
          ],
        },
      },
    }),
    want: [
      'spec.template.spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector: a null labelSelector results in matching no pod',
      'spec.template.spec.affinity.podAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.labelSelector: a null labelSelector results in matching no pod',
      'spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[1].labelSelector: a null labelSelector results in matching no pod',
    ],
  },
];

describe('podSpecWarnings (template)', () => {
  for (const tc of TEMPLATE_CASES) {
    it(tc.name, () => {
      assert.deepEqual(
        podTemplateWarnings('spec.template', { metadata: tc.meta, spec: tc.spec ?? spec() }),
        tc.want,
      );
    });
  }
});

describe('podWarnings (pod)', () => {
  it('paths start at the pod root', () => {
    const got = podWarnings({
      metadata: { annotations: { 'scheduler.alpha.kubernetes.io/critical-pod': '' } },
      spec: spec({ nodeSelector: { 'beta.kubernetes.io/os': 'linux' }, terminationGracePeriodSeconds: -5 }),
    });
    assert.deepEqual(got, [
      'spec.nodeSelector[beta.kubernetes.io/os]: deprecated since v1.14; use "kubernetes.io/os" instead',
      'metadata.annotations[scheduler.alpha.kubernetes.io/critical-pod]: non-functional in v1.16+; use the "priorityClassName" field instead',
      'spec.terminationGracePeriodSeconds: must be >= 0; negative values are invalid and will be treated as 1',
    ]);
  });

  it('leaves AppArmor annotations of a pod to its create', () => {
    const meta = { annotations: { 'container.apparmor.security.beta.kubernetes.io/c': 'unconfined' } };
    assert.deepEqual(podSpecWarnings('', spec(), meta), []);
  });

  it('ephemeral containers are visited after containers', () => {
    const got = podWarnings({
      spec: spec({
        ephemeralContainers: [{ name: 'e', image: 'x', resources: { requests: { memory: '100m' } } }],
      }),
    });
    assert.deepEqual(got, [
      'spec.ephemeralContainers[0].resources.requests[memory]: fractional byte value "100m" is invalid, must be an integer',
    ]);
  });
});

describe('fieldPath', () => {
  for (const [prefix, names, want] of [
    ['', ['spec', 'nodeSelector'], 'spec.nodeSelector'],
    ['template', ['spec'], 'template.spec'],
    [
      'spec.jobTemplate.spec.template',
      ['metadata', 'annotations'],
      'spec.jobTemplate.spec.template.metadata.annotations',
    ],
  ] as const) {
    it(`${prefix || '(root)'} + ${names.join('.')}`, () => {
      assert.equal(fieldPath(prefix, ...names), want);
    });
  }
});

describe('overlappingVolumePathWarnings', () => {
  const cases: Array<{
    name: string;
    volumes: Parameters<typeof overlappingVolumePathWarnings>[0];
    want: string[];
  }> = [
    {
      name: 'configMap file under another file',
      volumes: [
        {
          name: 'Test',
          configMap: {
            name: 'foo',
            items: [
              { key: 'foo', path: 'test' },
              { key: 'bar', path: 'test/app' },
            ],
          },
        },
      ],
      want: ['volume "Test" (ConfigMap "foo"): overlapping paths: "test/app" with "test"'],
    },
    {
      name: 'secret duplicate path, trailing slash ignored',
      volumes: [
        {
          name: 's',
          secret: {
            secretName: 'sec',
            items: [
              { key: 'a', path: 'x/' },
              { key: 'b', path: 'x' },
            ],
          },
        },
      ],
      want: ['volume "s" (Secret "sec"): overlapping paths: "x" with "x"'],
    },
    {
      name: 'downwardAPI without overlaps',
      volumes: [
        {
          name: 'd',
          downwardAPI: {
            items: [
              { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
              { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
            ],
          },
        },
      ],
      want: [],
    },
    {
      name: 'projected: token inside a configMap path, and an empty source',
      volumes: [
        {
          name: 'foo',
          projected: {
            sources: [
              { configMap: { name: 'Test', items: [{ key: 'foo', path: 'test' }] } },
              { serviceAccountToken: { path: 'test/file' } },
              {},
            ],
          },
        },
      ],
      want: [
        'volume "foo" (Projected ServiceAccountToken): overlapping paths: "test/file" with "test"',
        'volume "foo" (Projected) has no sources provided',
      ],
    },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      assert.deepEqual(overlappingVolumePathWarnings(tc.volumes), tc.want);
    });
  }

  it('reports through the pod warnings', () => {
    const got = podWarnings({
      spec: spec({
        volumes: [
          {
            name: 'v',
            configMap: {
              name: 'cm',
              items: [
                { key: 'a', path: 'p' },
                { key: 'b', path: 'p' },
              ],
            },
          },
        ],
      }),
    });
    assert.deepEqual(got, ['volume "v" (ConfigMap "cm"): overlapping paths: "p" with "p"']);
  });
});
