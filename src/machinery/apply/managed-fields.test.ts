import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { StatusError } from '../status-error.js';
import { apply, type ManagedFieldsEntry, updateManagedFields } from './index.js';

type Obj = Record<string, unknown>;
const DEPLOYMENT = { ref: 'io.k8s.api.apps.v1.Deployment' };
const POD = { ref: 'io.k8s.api.core.v1.Pod' };
const T0 = new Date('2024-05-01T10:00:00.999Z');

const upd = (manager: string, now = T0, extra: Obj = {}) => ({
  manager,
  apiVersion: 'apps/v1',
  schema: DEPLOYMENT,
  now,
  ...extra,
});

function kubectlCreateDeployment(): Obj {
  // `kubectl create deployment nginx --image=nginx` after the API server's defaulting
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'nginx', namespace: 'default', labels: { app: 'nginx' } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'nginx' } },
      template: {
        metadata: { creationTimestamp: null, labels: { app: 'nginx' } },
        spec: {
          containers: [
            {
              name: 'nginx',
              image: 'nginx',
              resources: {},
              terminationMessagePath: '/dev/termination-log',
              terminationMessagePolicy: 'File',
              imagePullPolicy: 'Always',
            },
          ],
          restartPolicy: 'Always',
          terminationGracePeriodSeconds: 30,
          dnsPolicy: 'ClusterFirst',
          securityContext: {},
          schedulerName: 'default-scheduler',
        },
      },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    },
    status: {},
  };
}

// What a real cluster stores for the object above (JSON of the managedFields entry).
const KUBECTL_CREATE_ENTRY =
  '{"manager":"kubectl-create","operation":"Update","apiVersion":"apps/v1","time":"2024-05-01T10:00:00Z",' +
  '"fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{' +
  '"f:progressDeadlineSeconds":{},"f:replicas":{},"f:revisionHistoryLimit":{},"f:selector":{},' +
  '"f:strategy":{"f:rollingUpdate":{".":{},"f:maxSurge":{},"f:maxUnavailable":{}},"f:type":{}},' +
  '"f:template":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:containers":{' +
  '"k:{\\"name\\":\\"nginx\\"}":{".":{},"f:image":{},"f:imagePullPolicy":{},"f:name":{},"f:resources":{},' +
  '"f:terminationMessagePath":{},"f:terminationMessagePolicy":{}}},"f:dnsPolicy":{},"f:restartPolicy":{},' +
  '"f:schedulerName":{},"f:securityContext":{},"f:terminationGracePeriodSeconds":{}}}}}}';

function mf(obj: Obj): ManagedFieldsEntry[] {
  return ((obj.metadata as Obj).managedFields as ManagedFieldsEntry[] | undefined) ?? [];
}

function withReplicas(obj: Obj, replicas: number): Obj {
  return { ...obj, spec: { ...(obj.spec as Obj), replicas } };
}

describe('updateManagedFields', () => {
  it('writes byte for byte what a cluster writes for kubectl create deployment', () => {
    const { object, managedFields } = updateManagedFields(
      undefined,
      kubectlCreateDeployment(),
      upd('kubectl-create'),
    );
    assert.equal(managedFields?.length, 1);
    assert.equal(JSON.stringify(managedFields?.[0]), KUBECTL_CREATE_ENTRY);
    assert.deepEqual(mf(object), managedFields);
  });

  it('gives changed fields to the writer and takes them from their previous owner', () => {
    const created = updateManagedFields(undefined, kubectlCreateDeployment(), upd('kubectl-create')).object;
    const scaled = updateManagedFields(
      created,
      withReplicas(created, 4),
      upd('kubectl-scale', new Date('2024-05-01T10:01:00Z')),
    ).object;
    const [create, scale] = mf(scaled);
    assert.equal(create?.manager, 'kubectl-create');
    assert.ok(!JSON.stringify(create?.fieldsV1).includes('f:replicas'));
    assert.deepEqual(scale, {
      manager: 'kubectl-scale',
      operation: 'Update',
      apiVersion: 'apps/v1',
      time: '2024-05-01T10:01:00Z',
      fieldsType: 'FieldsV1',
      fieldsV1: { 'f:spec': { 'f:replicas': {} } },
    });
  });

  it('leaves entries (and times) alone when a write changes nothing', () => {
    const created = updateManagedFields(undefined, kubectlCreateDeployment(), upd('kubectl-create')).object;
    const same = updateManagedFields(created, created, upd('other', new Date('2024-06-01T00:00:00Z'))).object;
    assert.deepEqual(mf(same), mf(created));
  });

  it('respects valid managedFields sent by the client and resets on []', () => {
    const created = updateManagedFields(undefined, kubectlCreateDeployment(), upd('kubectl-create')).object;
    const sent: ManagedFieldsEntry[] = [
      {
        manager: 'someone',
        operation: 'Apply',
        apiVersion: 'apps/v1',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:spec': { 'f:replicas': {} } },
      },
    ];
    const edited = updateManagedFields(
      created,
      { ...created, metadata: { ...(created.metadata as Obj), managedFields: sent } },
      upd('x'),
    );
    assert.deepEqual(edited.managedFields, sent);
    const reset = updateManagedFields(
      created,
      withReplicas({ ...created, metadata: { ...(created.metadata as Obj), managedFields: [] } }, 2),
      upd('resetter'),
    );
    assert.deepEqual(
      reset.managedFields?.map((e) => [e.manager, e.fieldsV1]),
      [['resetter', { 'f:spec': { 'f:replicas': {} } }]],
    );
  });

  it('keeps the live managedFields on subresource writes and records the subresource', () => {
    const created = updateManagedFields(undefined, kubectlCreateDeployment(), upd('kubectl-create')).object;
    const next = {
      ...created,
      status: { replicas: 1 },
      metadata: { ...(created.metadata as Obj), managedFields: [] },
    };
    const { managedFields } = updateManagedFields(
      created,
      next,
      upd('kube-controller-manager', T0, { subresource: 'status' }),
    );
    assert.equal(managedFields?.length, 2);
    // same second: ordered by manager name
    assert.deepEqual(managedFields?.[0], {
      manager: 'kube-controller-manager',
      operation: 'Update',
      apiVersion: 'apps/v1',
      time: '2024-05-01T10:00:00Z',
      fieldsType: 'FieldsV1',
      fieldsV1: { 'f:status': { 'f:replicas': {} } },
      subresource: 'status',
    });
  });

  it('merges the oldest of more than 10 Update managers into ancient-changes', () => {
    let obj = updateManagedFields(undefined, kubectlCreateDeployment(), upd('m0')).object;
    for (let i = 1; i <= 11; i++) {
      const labels = { ...((obj.metadata as Obj).labels as Obj), [`l${i}`]: 'x' };
      obj = updateManagedFields(
        obj,
        { ...obj, metadata: { ...(obj.metadata as Obj), labels } },
        upd(`m${i}`, new Date(T0.getTime() + i * 1000)),
      ).object;
    }
    const names = mf(obj).map((e) => e.manager);
    assert.equal(names.length, 10);
    assert.deepEqual(names.slice(0, 2), ['ancient-changes', 'm3']);
    const ancient = JSON.stringify(mf(obj)[0]?.fieldsV1);
    for (const l of ['f:l1', 'f:l2', 'f:replicas']) assert.ok(ancient.includes(l), l);
    assert.equal(mf(obj)[0]?.time, '2024-05-01T10:00:02Z');
  });

  it('sorts Apply entries before Update entries', () => {
    const created = updateManagedFields(undefined, kubectlCreateDeployment(), upd('kubectl-create')).object;
    const applied = apply(
      created,
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'nginx' }, spec: { paused: true } },
      {
        manager: 'z-applier',
        force: false,
        apiVersion: 'apps/v1',
        schema: DEPLOYMENT,
        now: new Date('2024-05-02T00:00:00Z'),
      },
    ).object;
    assert.deepEqual(
      mf(applied).map((e) => `${e.operation}:${e.manager}`),
      ['Apply:z-applier', 'Update:kubectl-create'],
    );
  });

  // Speed is measured by the benchmarks, not asserted here (timed tests are flaky on shared
  // machines); this checks the large-object path gives the right ownership.
  it('tracks a status update of a 5 KB Pod', () => {
    const containers = Array.from({ length: 6 }, (_, i) => ({
      name: `c${i}`,
      image: `registry.example.com/team/app-${i}:1.2.3`,
      args: ['--port=8080', '--verbose'],
      env: Array.from({ length: 12 }, (_, j) => ({ name: `VAR_${j}`, value: `value-${j}` })),
      ports: [{ containerPort: 8080 + i, protocol: 'TCP', name: `p${i}` }],
      resources: { limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '100m', memory: '64Mi' } },
      volumeMounts: [{ name: 'data', mountPath: `/data/${i}` }],
      terminationMessagePath: '/dev/termination-log',
      terminationMessagePolicy: 'File',
      imagePullPolicy: 'IfNotPresent',
    }));
    const pod: Obj = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'p',
        namespace: 'default',
        labels: { app: 'a', tier: 'b' },
        annotations: { note: 'x' },
      },
      spec: {
        containers,
        volumes: [{ name: 'data', emptyDir: {} }],
        restartPolicy: 'Always',
        dnsPolicy: 'ClusterFirst',
        nodeName: 'node-1',
        tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoSchedule' }],
      },
      status: { phase: 'Pending' },
    };
    assert.ok(JSON.stringify(pod).length > 5000, `pod is ${JSON.stringify(pod).length} bytes`);
    const opts = { manager: 'kubelet', apiVersion: 'v1', schema: POD, now: T0 };
    const created = updateManagedFields(undefined, pod, opts).object;
    // decoded request bodies share nothing with the stored object
    const next = structuredClone({ ...created, status: { phase: 'Running', podIP: '10.42.0.7' } });
    const mf =
      updateManagedFields(created, next, { ...opts, manager: 'kubelet-status', subresource: 'status' })
        .managedFields ?? [];
    const entry = mf.find((e) => e.manager === 'kubelet-status');
    assert.equal(entry?.subresource, 'status');
    assert.deepEqual(entry?.fieldsV1, { 'f:status': { 'f:phase': {}, 'f:podIP': {} } });
  });
});

// Golden sequences: testdata/<name>.yaml lists writes; <name>.golden.yaml holds the
// managedFields (or the error) after each one. UPDATE_GOLDEN=1 rewrites the golden files.
interface Step {
  op: 'create' | 'update' | 'apply';
  manager: string;
  time: string;
  force?: boolean;
  subresource?: string;
  object?: Obj;
  patch?: Obj;
}

function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Obj =
    target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Obj) } : {};
  for (const [k, v] of Object.entries(patch as Obj)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

const here = join(fileURLToPath(import.meta.url), '..', 'testdata');

describe('golden managedFields sequences', () => {
  for (const file of readdirSync(here).filter((f) => f.endsWith('.yaml') && !f.endsWith('.golden.yaml'))) {
    it(file, () => {
      const spec = parse(readFileSync(join(here, file), 'utf8')) as {
        schema: string;
        apiVersion: string;
        kind: string;
        steps: Step[];
      };
      const schema = { ref: spec.schema };
      let live: Obj | undefined;
      const results: unknown[] = [];
      for (const step of spec.steps) {
        const now = new Date(step.time);
        const base = { manager: step.manager, apiVersion: spec.apiVersion, schema, now };
        try {
          if (step.op === 'apply') {
            live = apply(live, step.object ?? {}, {
              ...base,
              force: step.force === true,
              kind: spec.kind,
            }).object;
          } else {
            const next = (step.object ?? mergePatch(live, step.patch ?? {})) as Obj;
            const opts = step.subresource === undefined ? base : { ...base, subresource: step.subresource };
            live = updateManagedFields(step.op === 'create' ? undefined : live, next, opts).object;
          }
          const { managedFields: _mf, ...meta } = (live?.metadata ?? {}) as Obj;
          results.push({
            step: `${step.op} ${step.manager}`,
            managedFields: mf(live ?? {}),
            object: { ...live, metadata: meta },
          });
        } catch (err) {
          if (!(err instanceof StatusError)) throw err;
          results.push({ step: `${step.op} ${step.manager}`, error: err.status });
        }
      }
      const goldenPath = join(here, file.replace(/\.yaml$/, '.golden.yaml'));
      const text = stringify(results);
      if (process.env.UPDATE_GOLDEN === '1') writeFileSync(goldenPath, text);
      assert.equal(text, readFileSync(goldenPath, 'utf8'));
    });
  }
});
