import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isConflict, StatusError } from '../status-error.js';
import {
  apply,
  fieldManagerRequired,
  LAST_APPLIED_ANNOTATION,
  type ManagedFieldsEntry,
  managerOrUserAgent,
  updateManagedFields,
} from './index.js';

const DEPLOYMENT = { ref: 'io.k8s.api.apps.v1.Deployment' };
const CONFIGMAP = { ref: 'io.k8s.api.core.v1.ConfigMap' };
const SERVICE = { ref: 'io.k8s.api.core.v1.Service' };
const T0 = new Date('2024-05-01T10:00:00.750Z');
const T1 = new Date('2024-05-01T10:05:00Z');

type Obj = Record<string, unknown>;

function deployment(replicas: number, image = 'nginx:1.25'): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'nginx', image }] },
      },
    },
  };
}

function configMap(data: Record<string, string>): Obj {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'default' }, data };
}

const dep = (manager: string, force = false, now = T1) => ({
  manager,
  force,
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  schema: DEPLOYMENT,
  now,
});
const cm = (manager: string, force = false, now = T1) => ({
  manager,
  force,
  apiVersion: 'v1',
  kind: 'ConfigMap',
  schema: CONFIGMAP,
  now,
});

function entries(obj: Obj): ManagedFieldsEntry[] {
  return ((obj.metadata as Obj).managedFields as ManagedFieldsEntry[]) ?? [];
}

function entry(obj: Obj, manager: string, operation = 'Apply'): ManagedFieldsEntry | undefined {
  return entries(obj).find((e) => e.manager === manager && e.operation === operation);
}

function catchStatus(f: () => unknown): StatusError {
  try {
    f();
  } catch (err) {
    if (err instanceof StatusError) return err;
    throw err;
  }
  assert.fail('expected a StatusError');
}

/** A deployment written by kubectl's client-side apply (an Update by kubectl-client-side-apply). */
function clientSideApplied(replicas: number): Obj {
  const obj = deployment(replicas);
  const meta = obj.metadata as Obj;
  const last = JSON.stringify(deployment(replicas));
  meta.annotations = { [LAST_APPLIED_ANNOTATION]: `${last}\n` };
  return updateManagedFields(undefined, obj, {
    manager: 'kubectl-client-side-apply',
    apiVersion: 'apps/v1',
    schema: DEPLOYMENT,
    now: T0,
  }).object;
}

describe('apply conflicts', () => {
  it('reports one conflict with an Update manager as upstream words it', () => {
    const live = clientSideApplied(3);
    const err = catchStatus(() => apply(live, deployment(5), dep('mgr')));
    assert.ok(isConflict(err));
    assert.equal(err.code, 409);
    assert.equal(
      err.status.message,
      'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas',
    );
    assert.deepEqual(err.status.details, {
      causes: [
        {
          reason: 'FieldManagerConflict',
          message: 'conflict with "kubectl-client-side-apply" using apps/v1',
          field: '.spec.replicas',
        },
      ],
    });
  });

  it('groups several conflicts by manager', () => {
    const live = clientSideApplied(3);
    const err = catchStatus(() => apply(live, deployment(5, 'nginx:1.26'), dep('mgr')));
    assert.equal(
      err.status.message,
      'Apply failed with 2 conflicts: conflicts with "kubectl-client-side-apply" using apps/v1:\n' +
        '- .spec.replicas\n' +
        '- .spec.template.spec.containers[name="nginx"].image',
    );
    assert.deepEqual(
      err.status.details?.causes?.map((c) => c.field),
      ['.spec.replicas', '.spec.template.spec.containers[name="nginx"].image'],
    );
  });

  it('names Apply managers without a version', () => {
    const first = apply(undefined, configMap({ a: '1' }), cm('alice')).object;
    const err = catchStatus(() => apply(first, configMap({ a: '2' }), cm('bob')));
    assert.equal(err.status.message, 'Apply failed with 1 conflict: conflict with "alice": .data.a');
  });

  it('force moves the conflicting fields to the applier', () => {
    const live = clientSideApplied(3);
    const { object } = apply(live, deployment(5), dep('mgr', true));
    assert.equal((object.spec as Obj).replicas, 5);
    const csa = JSON.stringify(entry(object, 'kubectl-client-side-apply', 'Update')?.fieldsV1);
    assert.ok(!csa.includes('f:replicas'), csa);
    assert.ok(JSON.stringify(entry(object, 'mgr')?.fieldsV1).includes('f:replicas'));
  });

  it('shares ownership of fields applied with the same value', () => {
    const live = clientSideApplied(3);
    const { object } = apply(live, deployment(3), dep('mgr'));
    assert.ok(
      JSON.stringify(entry(object, 'kubectl-client-side-apply', 'Update')?.fieldsV1).includes('f:replicas'),
    );
    assert.ok(JSON.stringify(entry(object, 'mgr')?.fieldsV1).includes('f:replicas'));
    // nothing changed, so the applier's entry carries no time of its own (as upstream)
    assert.equal(entry(object, 'mgr')?.time, undefined);
  });

  it('lets kubectl take over fields it applied client-side (upgrade to server-side apply)', () => {
    const live = clientSideApplied(3);
    // another manager may not change them
    assert.ok(isConflict(catchStatus(() => apply(live, deployment(4), dep('other')))));
    // kubectl may: the live values still match its last-applied configuration
    const { object } = apply(live, deployment(4), dep('kubectl'));
    assert.equal((object.spec as Obj).replicas, 4);
    const ann = ((object.metadata as Obj).annotations as Obj)[LAST_APPLIED_ANNOTATION] as string;
    assert.ok(ann.endsWith('\n'));
    assert.equal(JSON.parse(ann).spec.replicas, 4);
  });

  it('still conflicts for kubectl when someone else changed the field since', () => {
    const live = clientSideApplied(3);
    const scaled = updateManagedFields(
      live,
      { ...live, spec: { ...(live.spec as Obj), replicas: 7 } },
      { manager: 'kube-controller-manager', apiVersion: 'apps/v1', schema: DEPLOYMENT, now: T1 },
    ).object;
    const err = catchStatus(() => apply(scaled, deployment(4), dep('kubectl')));
    assert.equal(
      err.status.message,
      'Apply failed with 1 conflict: conflict with "kube-controller-manager" using apps/v1: .spec.replicas',
    );
  });
});

describe('apply merging and pruning', () => {
  it('removes a field the manager stops applying', () => {
    const a = apply(undefined, configMap({ a: '1', b: '2' }), cm('alice', false, T0)).object;
    const b = apply(a, configMap({ a: '1' }), cm('alice')).object;
    assert.deepEqual(b.data, { a: '1' });
    assert.deepEqual(entry(b, 'alice')?.fieldsV1, { 'f:data': { 'f:a': {} } });
  });

  it('keeps a field another applier also owns, releasing ownership only', () => {
    const a = apply(undefined, configMap({ a: '1', b: '2' }), cm('alice', false, T0)).object;
    const shared = apply(a, configMap({ b: '2' }), cm('bob')).object;
    const after = apply(shared, configMap({ a: '1' }), cm('alice')).object;
    assert.deepEqual(after.data, { a: '1', b: '2' });
    assert.deepEqual(entry(after, 'alice')?.fieldsV1, { 'f:data': { 'f:a': {} } });
    assert.deepEqual(entry(after, 'bob')?.fieldsV1, { 'f:data': { 'f:b': {} } });
  });

  it('transfers ownership: the new owner applies it, the old one drops it', () => {
    const a = apply(undefined, deployment(3), dep('handover-old', false, T0)).object;
    const b = apply(
      a,
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 3 } },
      dep('hpa'),
    ).object;
    const without = deployment(3);
    delete (without.spec as Obj).replicas;
    const c = apply(b, without, dep('handover-old')).object;
    assert.equal((c.spec as Obj).replicas, 3);
    assert.ok(!JSON.stringify(entry(c, 'handover-old')?.fieldsV1).includes('f:replicas'));
    assert.deepEqual(entry(c, 'hpa')?.fieldsV1, { 'f:spec': { 'f:replicas': {} } });
  });

  it('merges list-map items by key and removes the items a manager stops applying', () => {
    const two = deployment(1);
    ((two.spec as Obj).template as { spec: { containers: Obj[] } }).spec.containers.push({
      name: 'sidecar',
      image: 'busybox',
    });
    const a = apply(undefined, two, dep('alice', false, T0)).object;
    const b = apply(a, deployment(1), dep('alice')).object;
    const containers = ((b.spec as Obj).template as { spec: { containers: Obj[] } }).spec.containers;
    assert.deepEqual(
      containers.map((c) => c.name),
      ['nginx'],
    );
  });

  it('keys Service ports by port and the defaulted protocol', () => {
    const svc = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 's' },
      spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
    };
    const { managedFields } = apply(undefined, svc, {
      manager: 'alice',
      force: false,
      apiVersion: 'v1',
      schema: SERVICE,
      now: T1,
    });
    assert.deepEqual(managedFields?.[0]?.fieldsV1, {
      'f:spec': {
        'f:ports': { 'k:{"port":80,"protocol":"TCP"}': { '.': {}, 'f:port': {}, 'f:targetPort': {} } },
        'f:selector': {},
      },
    });
  });

  it('rejects applied managedFields and objects of another kind or version', () => {
    const withMf = configMap({ a: '1' });
    (withMf.metadata as Obj).managedFields = [];
    assert.equal(
      catchStatus(() => apply(undefined, withMf, cm('x'))).status.message,
      'metadata.managedFields must be nil',
    );
    const wrong = { ...configMap({}), apiVersion: 'v2' };
    const err = catchStatus(() => apply(undefined, wrong, cm('x')));
    assert.equal(err.code, 400);
    assert.equal(err.status.message, 'invalid object type: /v2, Kind=ConfigMap');
  });
});

describe('request helpers', () => {
  it('derives managers from the user agent', () => {
    const cases: Array<[string | undefined, string | undefined, string]> = [
      ['', 'kubectl-client-side-apply/v1.32.0 (linux/amd64) kubernetes/abc', 'kubectl-client-side-apply'],
      [undefined, 'kubectl-edit/v1.32.0 (linux/amd64)', 'kubectl-edit'],
      ['mine', 'kubectl/v1.32.0', 'mine'],
      [undefined, undefined, ''],
      [undefined, 'a\u0001b/1', 'ab'],
    ];
    for (const [m, ua, want] of cases) assert.equal(managerOrUserAgent(m, ua), want);
  });

  it('words the missing fieldManager error as upstream', () => {
    const err = fieldManagerRequired();
    assert.equal(err.code, 422);
    assert.equal(
      err.status.message,
      'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
    );
  });
});
