import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fieldErrorMessage } from '../../machinery/status-error.js';
import { applyDefaults } from '../defaults/index.js';
import { cronScheduleError } from './batch.js';
import { validateObject, validateObjectUpdate } from './index.js';

type Obj = Record<string, unknown>;
const G = {
  pod: { group: '', version: 'v1', kind: 'Pod' },
  svc: { group: '', version: 'v1', kind: 'Service' },
  cm: { group: '', version: 'v1', kind: 'ConfigMap' },
  secret: { group: '', version: 'v1', kind: 'Secret' },
  ns: { group: '', version: 'v1', kind: 'Namespace' },
  deploy: { group: 'apps', version: 'v1', kind: 'Deployment' },
  ds: { group: 'apps', version: 'v1', kind: 'DaemonSet' },
  ss: { group: 'apps', version: 'v1', kind: 'StatefulSet' },
  job: { group: 'batch', version: 'v1', kind: 'Job' },
  cron: { group: 'batch', version: 'v1', kind: 'CronJob' },
  lease: { group: 'coordination.k8s.io', version: 'v1', kind: 'Lease' },
  widget: { group: 'example.com', version: 'v1', kind: 'Widget' },
};
type GVK = (typeof G)[keyof typeof G];

/** Defaults then validates, returning upstream-formatted messages. */
function messages(obj: Obj, gvk: GVK): string[] {
  applyDefaults(obj, gvk);
  return validateObject(obj, gvk).map(fieldErrorMessage);
}

const meta = (name = 'x', extra: Obj = {}) => ({ name, namespace: 'default', ...extra });
const pod = (spec: Obj, md: Obj = meta()): Obj => ({
  metadata: md,
  spec: { containers: [{ name: 'c', image: 'nginx' }], ...spec },
});
const ctr = (c: Obj): Obj => ({ name: 'c', image: 'nginx', ...c });
const tpl = (labels: Obj = { app: 'a' }, spec: Obj = {}): Obj => ({
  metadata: { labels },
  spec: { containers: [{ name: 'c', image: 'nginx' }], ...spec },
});

interface Case {
  name: string;
  gvk: GVK;
  obj: Obj;
  want: string[];
}

const cases: Case[] = [
  { name: 'valid pod', gvk: G.pod, obj: pod({}), want: [] },
  {
    name: 'metadata name and namespace',
    gvk: G.pod,
    obj: pod({}, { name: 'Bad_Name' }),
    want: [
      `metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
      'metadata.namespace: Required value',
    ],
  },
  {
    name: 'name or generateName',
    gvk: G.pod,
    obj: pod({}, { namespace: 'default' }),
    want: ['metadata.name: Required value: name or generateName is required'],
  },
  {
    name: 'containers required',
    gvk: G.pod,
    obj: pod({ containers: [] }),
    want: ['spec.containers: Required value'],
  },
  {
    name: 'duplicate container names across lists',
    gvk: G.pod,
    obj: pod({ containers: [ctr({})], initContainers: [ctr({})] }),
    want: ['spec.initContainers[0].name: Duplicate value: "c"'],
  },
  {
    name: 'image required',
    gvk: G.pod,
    obj: pod({ containers: [{ name: 'c' }] }),
    want: ['spec.containers[0].image: Required value'],
  },
  {
    name: 'ports',
    gvk: G.pod,
    obj: pod({
      containers: [
        ctr({
          ports: [
            { name: 'http', containerPort: 80 },
            { name: 'http', containerPort: 70000, protocol: 'ICMP' },
            { name: 'Bad', containerPort: 81 },
          ],
        }),
      ],
    }),
    want: [
      'spec.containers[0].ports[1].name: Duplicate value: "http"',
      'spec.containers[0].ports[1].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive',
      'spec.containers[0].ports[1].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
      'spec.containers[0].ports[2].name: Invalid value: "Bad": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
    ],
  },
  {
    name: 'volume names unique and mounts must reference volumes',
    gvk: G.pod,
    obj: pod({
      volumes: [{ name: 'v' }, { name: 'v' }],
      containers: [ctr({ volumeMounts: [{ name: 'w', mountPath: '/w' }] })],
    }),
    want: [
      'spec.volumes[1].name: Duplicate value: "v"',
      'spec.containers[0].volumeMounts[0].name: Not found: "w"',
    ],
  },
  {
    name: 'restartPolicy and dnsPolicy enums',
    gvk: G.pod,
    obj: pod({ restartPolicy: 'Sometimes', dnsPolicy: 'Bogus' }),
    want: [
      'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
      'spec.dnsPolicy: Unsupported value: "Bogus": supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"',
    ],
  },
  {
    name: 'requests above limits',
    gvk: G.pod,
    obj: pod({ containers: [ctr({ resources: { limits: { cpu: '1' }, requests: { cpu: '2000m' } } })] }),
    want: [
      'spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1',
    ],
  },
  {
    name: 'probes: one handler, liveness successThreshold 1',
    gvk: G.pod,
    obj: pod({
      containers: [
        ctr({
          livenessProbe: { exec: { command: ['true'] }, tcpSocket: { port: 80 }, successThreshold: 2 },
          readinessProbe: {},
        }),
      ],
    }),
    want: [
      'spec.containers[0].livenessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type',
      'spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1',
      'spec.containers[0].readinessProbe: Required value: must specify a handler type',
    ],
  },
  {
    name: 'env names',
    gvk: G.pod,
    obj: pod({ containers: [ctr({ env: [{ name: '' }, { name: 'A=B' }] })] }),
    want: [
      'spec.containers[0].env[0].name: Required value',
      `spec.containers[0].env[1].name: Invalid value: "A=B": a valid environment variable name must consist only of printable ASCII characters other than '='`,
    ],
  },
  {
    name: 'valid service',
    gvk: G.svc,
    obj: { metadata: meta('web'), spec: { ports: [{ port: 80 }], selector: { app: 'web' } } },
    want: [],
  },
  {
    name: 'service name is a DNS-1035 label; ports required; names when several',
    gvk: G.svc,
    obj: { metadata: meta('1web'), spec: { ports: [{ port: 80 }, { port: 81, name: 'b' }] } },
    want: [
      `metadata.name: Invalid value: "1web": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
      'spec.ports[0].name: Required value',
    ],
  },
  {
    name: 'service ports required, type enum',
    gvk: G.svc,
    obj: { metadata: meta('web'), spec: { type: 'Magic' } },
    want: [
      'spec.ports: Required value',
      'spec.type: Unsupported value: "Magic": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
    ],
  },
  {
    name: 'headless service needs no ports; ExternalName needs externalName',
    gvk: G.svc,
    obj: { metadata: meta('web'), spec: { type: 'ExternalName' } },
    want: ['spec.externalName: Required value'],
  },
  {
    name: 'valid deployment',
    gvk: G.deploy,
    obj: { metadata: meta('d'), spec: { selector: { matchLabels: { app: 'a' } }, template: tpl() } },
    want: [],
  },
  {
    name: 'deployment selector must match; maxSurge and maxUnavailable not both 0',
    gvk: G.deploy,
    obj: {
      metadata: meta('d'),
      spec: {
        replicas: -1,
        selector: { matchLabels: { app: 'b' } },
        template: tpl(),
        strategy: { rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } },
      },
    },
    want: [
      'spec.replicas: Invalid value: -1: must be greater than or equal to 0',
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"a"}: `selector` does not match template `labels`',
      'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0',
    ],
  },
  {
    name: 'deployment selector required; template restartPolicy Always',
    gvk: G.deploy,
    obj: { metadata: meta('d'), spec: { template: tpl({ app: 'a' }, { restartPolicy: 'Never' }) } },
    want: [
      'spec.selector: Required value',
      'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
    ],
  },
  {
    name: 'daemonset empty selector',
    gvk: G.ds,
    obj: { metadata: meta('d'), spec: { selector: {}, template: tpl() } },
    want: ['spec.selector: Invalid value: map[string]string{}: empty selector is invalid for daemonset'],
  },
  {
    name: 'statefulset mounts may name claim templates',
    gvk: G.ss,
    obj: {
      metadata: meta('s'),
      spec: {
        selector: { matchLabels: { app: 'a' } },
        template: tpl(
          { app: 'a' },
          { containers: [ctr({ volumeMounts: [{ name: 'data', mountPath: '/d' }] })] },
        ),
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'] } }],
      },
    },
    want: [],
  },
  {
    name: 'job needs OnFailure or Never (defaulted Always is rejected)',
    gvk: G.job,
    obj: {
      metadata: meta('j'),
      spec: { selector: { matchLabels: { app: 'a' } }, template: tpl(), backoffLimit: -1 },
    },
    want: [
      'spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0',
      'spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"',
    ],
  },
  {
    name: 'cronjob schedule, policy, time zone, name length',
    gvk: G.cron,
    obj: {
      metadata: meta('c'.repeat(53)),
      spec: {
        schedule: '61 * * * *',
        concurrencyPolicy: 'Sometimes',
        timeZone: 'Mars/Olympus',
        jobTemplate: { spec: { template: tpl({}, { restartPolicy: 'Never' }) } },
      },
    },
    want: [
      'spec.schedule: Invalid value: "61 * * * *": end of range (61) above maximum (59): 61',
      'spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus',
      'spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"',
      `metadata.name: Invalid value: "${'c'.repeat(53)}": must be no more than 52 characters`,
    ],
  },
  {
    name: 'configmap keys',
    gvk: G.cm,
    obj: { metadata: meta('cm'), data: { 'a b': 'x', ok: 'y' } },
    want: [
      `data[a b]: Invalid value: "a b": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`,
    ],
  },
  {
    name: 'tls secret needs both keys',
    gvk: G.secret,
    obj: { metadata: meta('s'), type: 'kubernetes.io/tls', data: { 'tls.crt': 'YQ==' } },
    want: ['data[tls.key]: Required value'],
  },
  {
    name: 'namespace: DNS-1123 label, no namespace',
    gvk: G.ns,
    obj: { metadata: { name: 'a.b', namespace: 'x' } },
    want: [
      'metadata.name: Invalid value: "a.b": must not contain dots',
      'metadata.namespace: Forbidden: not allowed on this type',
    ],
  },
  {
    name: 'lease duration',
    gvk: G.lease,
    obj: { metadata: meta('l'), spec: { leaseDurationSeconds: 0 } },
    want: ['spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0'],
  },
  {
    name: 'CSR names need only be path segments (the kubelet digests its key into them)',
    gvk: { group: 'certificates.k8s.io', version: 'v1', kind: 'CertificateSigningRequest' },
    obj: { metadata: { name: 'node-csr-0xVKKRqufmIEDt2imGIdUZ69uQkdV_rKtL7MHO7FU8c' } },
    want: [],
  },
  {
    name: 'CSR names still may not hold a slash',
    gvk: { group: 'certificates.k8s.io', version: 'v1', kind: 'CertificateSigningRequest' },
    obj: { metadata: { name: 'a/b' } },
    want: ['metadata.name: Invalid value: "a/b": may not contain \'/\''],
  },
  {
    name: 'resource quota: standard names, non-negative and whole counts',
    gvk: { group: '', version: 'v1', kind: 'ResourceQuota' },
    obj: {
      metadata: meta('q'),
      spec: {
        hard: {
          pods: '-1',
          foo: '1',
          storage: '1Gi',
          secrets: '1500m',
          'count/deployments.apps': '2',
          'requests.hugepages-2Mi': '1Gi',
          'example.com/gpu': '2',
        },
      },
    },
    want: [
      'spec.hard[pods]: Invalid value: "-1": must be greater than or equal to 0',
      'spec.hard[foo]: Invalid value: "foo": must be a standard resource type or fully qualified',
      'spec.hard[foo]: Invalid value: "foo": must be a standard resource for quota',
      'spec.hard[storage]: Invalid value: "storage": must be a standard resource for quota',
      'spec.hard[secrets]: Invalid value: "1500m": must be an integer',
    ],
  },
  {
    name: 'priority class: user values capped, system- names reserved',
    gvk: { group: 'scheduling.k8s.io', version: 'v1', kind: 'PriorityClass' },
    obj: { metadata: { name: 'system-x' }, value: 5, preemptionPolicy: 'Sometimes' },
    want: [
      "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-x is not a known system priority class",
      'preemptionPolicy: Unsupported value: "Sometimes": supported values: "Never", "PreemptLowerPriority"',
    ],
  },
  {
    name: 'other kinds get metadata rules',
    gvk: G.widget,
    obj: { metadata: { name: 'w' } },
    want: ['metadata.namespace: Required value'],
  },
];

describe('validateObject', () => {
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(messages(structuredClone(c.obj), c.gvk), c.want));
  }
});

describe('validateObjectUpdate', () => {
  const stored = (obj: Obj, gvk: GVK): Obj => {
    applyDefaults(obj, gvk);
    (obj.metadata as Obj).resourceVersion = '5';
    return obj;
  };
  const upd = (n: Obj, o: Obj, gvk: GVK) => validateObjectUpdate(n, o, gvk).map(fieldErrorMessage);

  it('pods: image changes are allowed, other spec changes are not', () => {
    const old = stored(pod({}), G.pod);
    const ok = structuredClone(old) as { spec: { containers: Obj[] } };
    ok.spec.containers[0]!.image = 'nginx:2';
    assert.deepEqual(upd(ok, old, G.pod), []);
    const bad = structuredClone(old) as { spec: Obj };
    bad.spec.restartPolicy = 'Never';
    assert.deepEqual(upd(bad, old, G.pod), [
      'spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
    ]);
    const more = structuredClone(old) as { spec: { containers: Obj[] } };
    more.spec.containers.push(ctr({ name: 'd' }));
    applyDefaults(more, G.pod);
    assert.deepEqual(upd(more, old, G.pod), [
      'spec.containers: Forbidden: pod updates may not add or remove containers',
    ]);
  });

  it('deployment selector is immutable', () => {
    const old = stored(
      {
        metadata: meta('d'),
        spec: { selector: { matchLabels: { app: 'a' } }, template: tpl({ app: 'a', v: '1' }) },
      },
      G.deploy,
    );
    const n = structuredClone(old) as { spec: Obj };
    n.spec.selector = { matchLabels: { app: 'a', v: '1' } };
    // upstream prints the *metav1.LabelSelector with Go's %#v
    assert.deepEqual(upd(n, old, G.deploy), [
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"a", "v":"1"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
    ]);
    n.spec.selector = { matchExpressions: [{ key: 'app', operator: 'In', values: ['a', 'b'] }] };
    assert.deepEqual(upd(n, old, G.deploy), [
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement{v1.LabelSelectorRequirement{Key:"app", Operator:"In", Values:[]string{"a", "b"}}}}: field is immutable',
    ]);
  });

  it('service clusterIP may not change once set', () => {
    const old = stored(
      {
        metadata: meta('s'),
        spec: { clusterIP: '10.43.0.5', clusterIPs: ['10.43.0.5'], ports: [{ port: 80 }] },
      },
      G.svc,
    );
    const n = structuredClone(old) as { spec: Obj };
    n.spec.clusterIP = '10.43.0.6';
    n.spec.clusterIPs = ['10.43.0.6'];
    assert.deepEqual(upd(n, old, G.svc), [
      'spec.clusterIPs[0]: Invalid value: []string{"10.43.0.6"}: may not change once set',
    ]);
  });

  it('immutable configmap data and secret type', () => {
    const old = stored({ metadata: meta('c'), data: { a: 'b' }, immutable: true }, G.cm);
    const n = structuredClone(old) as Obj;
    n.data = { a: 'c' };
    assert.deepEqual(upd(n, old, G.cm), ['data: Forbidden: field is immutable when `immutable` is set']);
    const olds = stored({ metadata: meta('s'), data: {} }, G.secret);
    const ns = structuredClone(olds) as Obj;
    ns.type = 'kubernetes.io/tls';
    ns.data = { 'tls.crt': 'YQ==', 'tls.key': 'YQ==' };
    assert.deepEqual(upd(ns, olds, G.secret), [
      'type: Invalid value: "kubernetes.io/tls": field is immutable',
    ]);
  });

  it('job template is immutable; metadata identity is immutable', () => {
    const old = stored(
      {
        metadata: meta('j'),
        spec: {
          selector: { matchLabels: { a: 'b' } },
          template: tpl({ a: 'b' }, { restartPolicy: 'Never' }),
        },
      },
      G.job,
    );
    const n = structuredClone(old) as { metadata: Obj; spec: { template: { spec: { containers: Obj[] } } } };
    n.spec.template.spec.containers[0]!.image = 'other';
    n.metadata.name = 'k';
    const got = upd(n, old, G.job);
    assert.ok(got.includes('metadata.name: Invalid value: "k": field is immutable'), got.join('\n'));
    assert.ok(
      got.some((m) => m.startsWith('spec.template: Invalid value: ') && m.endsWith(': field is immutable')),
    );
  });
});

describe('cron schedules (robfig/cron standard parser)', () => {
  const cases: [string, string | undefined][] = [
    ['*/5 * * * *', undefined],
    ['0 0 1 jan,jul mon-fri', undefined],
    ['@hourly', undefined],
    ['@every 1h30m', undefined],
    ['* * * *', 'expected exactly 5 fields, found 4: [* * * *]'],
    ['x * * * *', 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'],
    ['5-1 * * * *', 'beginning of range (5) beyond end of range (1): 5-1'],
    ['*/0 * * * *', 'step of range should be a positive number: */0'],
    ['@sometimes', 'unrecognized descriptor: @sometimes'],
  ];
  for (const [s, want] of cases) it(s, () => assert.equal(cronScheduleError(s), want));
});
