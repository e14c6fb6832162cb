import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyDefaults, defaultPullPolicy } from './index.js';

const gvk = (group: string, version: string, kind: string) => ({ group, version, kind });

function defaulted(obj: Record<string, unknown>, group: string, version: string, kind: string): unknown {
  applyDefaults(obj, gvk(group, version, kind));
  return obj;
}

const defaultedContainer = (image: string, pull: string) => ({
  name: 'nginx',
  image,
  imagePullPolicy: pull,
  resources: {},
  terminationMessagePath: '/dev/termination-log',
  terminationMessagePolicy: 'File',
});

const defaultedPodSpec = {
  containers: [defaultedContainer('nginx', 'Always')],
  dnsPolicy: 'ClusterFirst',
  restartPolicy: 'Always',
  schedulerName: 'default-scheduler',
  securityContext: {},
  terminationGracePeriodSeconds: 30,
};

describe('golden: objects as kubectl sends them become what upstream stores', () => {
  it('kubectl create deployment nginx --image=nginx', () => {
    const got = defaulted(
      {
        kind: 'Deployment',
        apiVersion: 'apps/v1',
        metadata: { name: 'nginx', labels: { app: 'nginx' } },
        spec: {
          selector: { matchLabels: { app: 'nginx' } },
          template: {
            metadata: { labels: { app: 'nginx' } },
            spec: { containers: [{ name: 'nginx', image: 'nginx' }] },
          },
          strategy: {},
        },
      },
      'apps',
      'v1',
      'Deployment',
    );
    assert.deepEqual(got, {
      kind: 'Deployment',
      apiVersion: 'apps/v1',
      metadata: { name: 'nginx', labels: { app: 'nginx' } },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'nginx' } },
        template: { metadata: { labels: { app: 'nginx' }, creationTimestamp: null }, spec: defaultedPodSpec },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
        revisionHistoryLimit: 10,
        progressDeadlineSeconds: 600,
      },
    });
  });

  it('kubectl run nginx --image=nginx (admission-set fields excluded)', () => {
    const got = defaulted(
      {
        kind: 'Pod',
        apiVersion: 'v1',
        metadata: { name: 'nginx', labels: { run: 'nginx' } },
        spec: { containers: [{ name: 'nginx', image: 'nginx', resources: {} }] },
      },
      '',
      'v1',
      'Pod',
    );
    assert.deepEqual((got as { spec: unknown }).spec, { ...defaultedPodSpec, enableServiceLinks: true });
  });

  it('kubectl create job and cronjob', () => {
    const template = {
      metadata: {},
      spec: { containers: [{ name: 'j', image: 'busybox:1.36' }], restartPolicy: 'Never' },
    };
    const job = defaulted(
      { kind: 'Job', metadata: { name: 'j' }, spec: { template: structuredClone(template) } },
      'batch',
      'v1',
      'Job',
    ) as { spec: Record<string, unknown> };
    const podSpec = {
      ...defaultedPodSpec,
      restartPolicy: 'Never',
      containers: [{ ...defaultedContainer('busybox:1.36', 'IfNotPresent'), name: 'j' }],
    };
    assert.deepEqual(job.spec, {
      template: { metadata: { creationTimestamp: null }, spec: podSpec },
      completions: 1,
      parallelism: 1,
      backoffLimit: 6,
      completionMode: 'NonIndexed',
      suspend: false,
      podReplacementPolicy: 'TerminatingOrFailed',
    });
    const cj = defaulted(
      {
        kind: 'CronJob',
        metadata: { name: 'c' },
        spec: { schedule: '* * * * *', jobTemplate: { metadata: { name: 'c' }, spec: { template } } },
      },
      'batch',
      'v1',
      'CronJob',
    ) as { spec: Record<string, unknown> };
    assert.deepEqual(cj.spec, {
      schedule: '* * * * *',
      concurrencyPolicy: 'Allow',
      suspend: false,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 1,
      jobTemplate: {
        metadata: { name: 'c', creationTimestamp: null },
        spec: { template: { metadata: { creationTimestamp: null }, spec: podSpec } },
      },
    });
  });

  it('kubectl create service clusterip / nodeport / loadbalancer', () => {
    const svc = (type: string) =>
      defaulted(
        {
          kind: 'Service',
          metadata: { name: 's' },
          spec: {
            type,
            ports: [{ name: '80-8080', port: 80, targetPort: 8080 }, { port: 81 }],
            selector: { app: 's' },
          },
        },
        '',
        'v1',
        'Service',
      ) as { spec: Record<string, unknown> };
    const ports = [
      { name: '80-8080', port: 80, targetPort: 8080, protocol: 'TCP' },
      { port: 81, protocol: 'TCP', targetPort: 81 },
    ];
    assert.deepEqual(svc('ClusterIP').spec, {
      type: 'ClusterIP',
      ports,
      selector: { app: 's' },
      sessionAffinity: 'None',
      internalTrafficPolicy: 'Cluster',
    });
    assert.deepEqual(svc('NodePort').spec, {
      type: 'NodePort',
      ports,
      selector: { app: 's' },
      sessionAffinity: 'None',
      externalTrafficPolicy: 'Cluster',
      internalTrafficPolicy: 'Cluster',
    });
    assert.equal(svc('LoadBalancer').spec.allocateLoadBalancerNodePorts, true);
    const ext = svc('ExternalName').spec;
    assert.equal(ext.internalTrafficPolicy, undefined);
  });

  it('StatefulSet, DaemonSet, ReplicaSet', () => {
    const tpl = () => ({
      metadata: { labels: { a: 'b' } },
      spec: { containers: [{ name: 'c', image: 'x:1' }] },
    });
    const ss = defaulted(
      {
        spec: {
          selector: {},
          template: tpl(),
          volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'] } }],
        },
      },
      'apps',
      'v1',
      'StatefulSet',
    ) as { spec: Record<string, unknown> };
    assert.equal(ss.spec.podManagementPolicy, 'OrderedReady');
    assert.deepEqual(ss.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
    assert.deepEqual(ss.spec.persistentVolumeClaimRetentionPolicy, {
      whenDeleted: 'Retain',
      whenScaled: 'Retain',
    });
    assert.equal(ss.spec.replicas, 1);
    assert.equal(ss.spec.revisionHistoryLimit, 10);
    assert.deepEqual(ss.spec.volumeClaimTemplates, [
      {
        metadata: { name: 'data', creationTimestamp: null },
        spec: { accessModes: ['ReadWriteOnce'], volumeMode: 'Filesystem' },
        status: { phase: 'Pending' },
      },
    ]);
    const ds = defaulted({ spec: { template: tpl() } }, 'apps', 'v1', 'DaemonSet') as {
      spec: Record<string, unknown>;
    };
    assert.deepEqual(ds.spec.updateStrategy, {
      type: 'RollingUpdate',
      rollingUpdate: { maxUnavailable: 1, maxSurge: 0 },
    });
    assert.equal(ds.spec.revisionHistoryLimit, 10);
    const rs = defaulted({ spec: { template: tpl() } }, 'apps', 'v1', 'ReplicaSet') as {
      spec: Record<string, unknown>;
    };
    assert.equal(rs.spec.replicas, 1);
    // an explicit OnDelete strategy gets no rolling-update defaults
    const ds2 = defaulted({ spec: { updateStrategy: { type: 'OnDelete' } } }, 'apps', 'v1', 'DaemonSet') as {
      spec: Record<string, unknown>;
    };
    assert.deepEqual(ds2.spec.updateStrategy, { type: 'OnDelete' });
  });
});

describe('pod defaults in detail', () => {
  it('probes, handlers, ports, env, volumes, requests from limits', () => {
    const pod = defaulted(
      {
        spec: {
          containers: [
            {
              name: 'c',
              image: 'reg.example.com:5000/app@sha256:abc',
              ports: [{ containerPort: 80 }],
              env: [{ name: 'N', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
              livenessProbe: { httpGet: { port: 80 } },
              readinessProbe: { grpc: { port: 9 }, periodSeconds: 5 },
              lifecycle: { preStop: { httpGet: { port: 1, path: '/stop' } } },
              resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '500m' } },
            },
          ],
          volumes: [
            { name: 'e' },
            { name: 's', secret: { secretName: 'x' } },
            { name: 'cm', configMap: { name: 'x', defaultMode: 256 } },
            { name: 'h', hostPath: { path: '/tmp' } },
            { name: 'p', projected: { sources: [{ serviceAccountToken: { path: 't' } }] } },
          ],
        },
      },
      '',
      'v1',
      'Pod',
    ) as { spec: { containers: Record<string, unknown>[]; volumes: unknown[] } };
    const c = pod.spec.containers[0]!;
    assert.equal(c.imagePullPolicy, 'IfNotPresent');
    assert.deepEqual(c.ports, [{ containerPort: 80, protocol: 'TCP' }]);
    assert.deepEqual(c.env, [
      { name: 'N', valueFrom: { fieldRef: { fieldPath: 'metadata.name', apiVersion: 'v1' } } },
    ]);
    assert.deepEqual(c.livenessProbe, {
      httpGet: { port: 80, path: '/', scheme: 'HTTP' },
      timeoutSeconds: 1,
      periodSeconds: 10,
      successThreshold: 1,
      failureThreshold: 3,
    });
    assert.deepEqual(c.readinessProbe, {
      grpc: { port: 9, service: '' },
      periodSeconds: 5,
      timeoutSeconds: 1,
      successThreshold: 1,
      failureThreshold: 3,
    });
    assert.deepEqual(c.lifecycle, { preStop: { httpGet: { port: 1, path: '/stop', scheme: 'HTTP' } } });
    assert.deepEqual(c.resources, {
      limits: { cpu: '1', memory: '1Gi' },
      requests: { cpu: '500m', memory: '1Gi' },
    });
    assert.deepEqual(pod.spec.volumes, [
      { name: 'e', emptyDir: {} },
      { name: 's', secret: { secretName: 'x', defaultMode: 420 } },
      { name: 'cm', configMap: { name: 'x', defaultMode: 256 } },
      { name: 'h', hostPath: { path: '/tmp', type: '' } },
      {
        name: 'p',
        projected: {
          sources: [{ serviceAccountToken: { path: 't', expirationSeconds: 3600 } }],
          defaultMode: 420,
        },
      },
    ]);
  });

  it('templates do not get requests from limits or enableServiceLinks', () => {
    const d = defaulted(
      {
        spec: {
          template: {
            spec: { containers: [{ name: 'c', image: 'x', resources: { limits: { cpu: '1' } } }] },
          },
        },
      },
      'apps',
      'v1',
      'Deployment',
    ) as { spec: { template: { spec: Record<string, unknown> & { containers: { resources: unknown }[] } } } };
    assert.deepEqual(d.spec.template.spec.containers[0]!.resources, { limits: { cpu: '1' } });
    assert.equal(d.spec.template.spec.enableServiceLinks, undefined);
  });

  it('image pull policy follows the tag', () => {
    const cases: [string, string][] = [
      ['nginx', 'Always'],
      ['nginx:latest', 'Always'],
      ['docker.io/library/nginx:1.25', 'IfNotPresent'],
      ['localhost:5000/app', 'Always'],
      ['localhost:5000/app:v1', 'IfNotPresent'],
      ['nginx@sha256:0123', 'IfNotPresent'],
      ['nginx:latest@sha256:0123', 'Always'],
      ['Nginx', 'IfNotPresent'],
      ['', 'IfNotPresent'],
    ];
    for (const [image, want] of cases) assert.equal(defaultPullPolicy(image), want, image);
  });
});

describe('other kinds', () => {
  it('Secret, Namespace, PVC, Endpoints, EndpointSlice, NetworkPolicy, RoleBinding', () => {
    assert.deepEqual(defaulted({ data: {} }, '', 'v1', 'Secret'), { data: {}, type: 'Opaque' });
    assert.deepEqual(defaulted({ metadata: { name: 'ns1' } }, '', 'v1', 'Namespace'), {
      metadata: { name: 'ns1', labels: { 'kubernetes.io/metadata.name': 'ns1' } },
      status: { phase: 'Active' },
    });
    assert.deepEqual(defaulted({ spec: {} }, '', 'v1', 'PersistentVolumeClaim'), {
      spec: { volumeMode: 'Filesystem' },
      status: { phase: 'Pending' },
    });
    assert.deepEqual(defaulted({ subsets: [{ ports: [{ port: 1 }] }] }, '', 'v1', 'Endpoints'), {
      subsets: [{ ports: [{ port: 1, protocol: 'TCP' }] }],
    });
    assert.deepEqual(defaulted({ ports: [{ port: 1 }] }, 'discovery.k8s.io', 'v1', 'EndpointSlice'), {
      ports: [{ port: 1, name: '', protocol: 'TCP' }],
    });
    assert.deepEqual(
      defaulted(
        { spec: { egress: [{ ports: [{ port: 53 }] }] } },
        'networking.k8s.io',
        'v1',
        'NetworkPolicy',
      ),
      { spec: { egress: [{ ports: [{ port: 53, protocol: 'TCP' }] }], policyTypes: ['Ingress', 'Egress'] } },
    );
    assert.deepEqual(
      defaulted(
        {
          subjects: [
            { kind: 'User', name: 'u' },
            { kind: 'ServiceAccount', name: 's', namespace: 'n' },
          ],
        },
        'rbac.authorization.k8s.io',
        'v1',
        'RoleBinding',
      ),
      {
        subjects: [
          { kind: 'User', name: 'u', apiGroup: 'rbac.authorization.k8s.io' },
          { kind: 'ServiceAccount', name: 's', namespace: 'n', apiGroup: '' },
        ],
      },
    );
  });

  it('LimitRange: Container defaults fall back to max, default requests to defaults then min', () => {
    const lr = {
      spec: {
        limits: [
          {
            type: 'Container',
            default: { cpu: '500m' },
            defaultRequest: { cpu: '100m' },
            max: { cpu: '1', memory: '512Mi' },
            min: { 'ephemeral-storage': '1Mi' },
          },
          { type: 'Pod', max: { memory: '1Gi' } },
        ],
      },
    };
    assert.deepEqual(defaulted(lr, '', 'v1', 'LimitRange'), {
      spec: {
        limits: [
          {
            type: 'Container',
            default: { cpu: '500m', memory: '512Mi' },
            defaultRequest: { cpu: '100m', memory: '512Mi', 'ephemeral-storage': '1Mi' },
            max: { cpu: '1', memory: '512Mi' },
            min: { 'ephemeral-storage': '1Mi' },
          },
          { type: 'Pod', max: { memory: '1Gi' } },
        ],
      },
    });
  });

  it('admission webhooks and ValidatingAdmissionPolicies fail closed with match-all selectors', () => {
    const rule = { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] };
    const hook = {
      name: 'h.example.com',
      clientConfig: { service: { name: 's', namespace: 'n' } },
      rules: [rule],
    };
    const defaultedHook = {
      ...hook,
      clientConfig: { service: { name: 's', namespace: 'n', port: 443 } },
      rules: [{ ...rule, scope: '*' }],
      failurePolicy: 'Fail',
      matchPolicy: 'Equivalent',
      namespaceSelector: {},
      objectSelector: {},
      timeoutSeconds: 10,
    };
    const copy = () => structuredClone(hook);
    const group = 'admissionregistration.k8s.io';
    assert.deepEqual(defaulted({ webhooks: [copy()] }, group, 'v1', 'ValidatingWebhookConfiguration'), {
      webhooks: [defaultedHook],
    });
    assert.deepEqual(defaulted({ webhooks: [copy()] }, group, 'v1', 'MutatingWebhookConfiguration'), {
      webhooks: [{ ...defaultedHook, reinvocationPolicy: 'Never' }],
    });
    const matched = {
      resourceRules: [{ ...rule, scope: '*' }],
      matchPolicy: 'Equivalent',
      namespaceSelector: {},
      objectSelector: {},
    };
    assert.deepEqual(
      defaulted(
        { spec: { matchConstraints: { resourceRules: [rule] } } },
        group,
        'v1',
        'ValidatingAdmissionPolicy',
      ),
      { spec: { failurePolicy: 'Fail', matchConstraints: matched } },
    );
    assert.deepEqual(
      defaulted({ spec: { policyName: 'p' } }, group, 'v1', 'ValidatingAdmissionPolicyBinding'),
      {
        spec: { policyName: 'p' },
      },
    );
  });

  it('unknown kinds and non-objects are left alone', () => {
    const o = { a: 1 };
    applyDefaults(o, gvk('example.com', 'v1', 'Thing'));
    assert.deepEqual(o, { a: 1 });
    applyDefaults(null, gvk('', 'v1', 'Pod'));
  });
});

describe('autoscaling/v2 HorizontalPodAutoscaler', () => {
  const gvk = { group: 'autoscaling', version: 'v2', kind: 'HorizontalPodAutoscaler' };
  const target = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' };

  it('defaults minReplicas and an 80% CPU target, and leaves behavior unset', () => {
    const hpa = { spec: { scaleTargetRef: target, maxReplicas: 5 } };
    applyDefaults(hpa, gvk);
    assert.deepEqual(hpa.spec, {
      scaleTargetRef: target,
      maxReplicas: 5,
      minReplicas: 1,
      metrics: [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } },
        },
      ],
    });
  });

  it('keeps given metrics and fills a given behavior with the controller defaults', () => {
    const metrics = [
      {
        type: 'Resource',
        resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '1Gi' } },
      },
    ];
    const hpa = {
      spec: {
        scaleTargetRef: target,
        minReplicas: 2,
        maxReplicas: 5,
        metrics,
        behavior: { scaleDown: { stabilizationWindowSeconds: 30 } },
      },
    };
    applyDefaults(hpa, gvk);
    assert.equal(hpa.spec.minReplicas, 2);
    assert.deepEqual(hpa.spec.metrics, metrics);
    assert.deepEqual(hpa.spec.behavior, {
      scaleUp: {
        stabilizationWindowSeconds: 0,
        selectPolicy: 'Max',
        policies: [
          { type: 'Pods', value: 4, periodSeconds: 15 },
          { type: 'Percent', value: 100, periodSeconds: 15 },
        ],
      },
      scaleDown: {
        stabilizationWindowSeconds: 30,
        selectPolicy: 'Max',
        policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
      },
    });
  });
});
