// Per-kind strategies: the handful of kinds whose create, update, delete or field
// selectors differ from the default. Facts are upstream's (pkg/registry/<group>/<kind>/strategy.go).
import type { ResourceInfo } from '../../api/registry-types.js';
import { hasWorkloadWarnings, warningsOnCreate, warningsOnUpdate } from '../../api/warnings/index.js';
import {
  ValidatingAdmissionPolicyBindingStrategy,
  ValidatingAdmissionPolicyStrategy,
} from './admission-policy-strategy.js';
import type { KObject } from './object.js';
import { podQOSClass } from './pod-qos.js';
import {
  DefaultStrategy,
  type GracefulDeleteInput,
  type Strategy,
  type StrategyContext,
} from './strategy.js';

type Obj = Record<string, unknown>;

function path(obj: KObject, ...keys: string[]): unknown {
  let cur: unknown = obj;
  for (const k of keys) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Obj)[k];
  }
  return cur;
}

function str(v: unknown): string {
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : String(v);
}

// Kinds whose metadata.generation follows spec changes.
const GENERATION_TRACKED = new Set([
  'apps/deployments',
  'apps/replicasets',
  'apps/statefulsets',
  'apps/daemonsets',
  'batch/jobs',
  'batch/cronjobs',
  '/replicationcontrollers',
  '/podtemplates',
  'autoscaling/horizontalpodautoscalers',
  'policy/poddisruptionbudgets',
  'networking.k8s.io/ingresses',
  'networking.k8s.io/networkpolicies',
  'apiextensions.k8s.io/customresourcedefinitions',
  'admissionregistration.k8s.io/validatingwebhookconfigurations',
  'admissionregistration.k8s.io/mutatingwebhookconfigurations',
  'admissionregistration.k8s.io/validatingadmissionpolicies',
  'admissionregistration.k8s.io/validatingadmissionpolicybindings',
  'flowcontrol.apiserver.k8s.io/flowschemas',
  'flowcontrol.apiserver.k8s.io/prioritylevelconfigurations',
]);

// Kinds a PUT may create (upstream AllowCreateOnUpdate() == true).
const CREATE_ON_UPDATE = new Set([
  '/endpoints',
  'discovery.k8s.io/endpointslices',
  '/events',
  'events.k8s.io/events',
]);

class PodStrategy extends DefaultStrategy {
  override prepareForCreate(obj: KObject, _ctx: StrategyContext): void {
    obj.status = { phase: 'Pending', qosClass: podQOSClass(obj.spec as Parameters<typeof podQOSClass>[0]) };
  }

  override selectableFields(obj: KObject): Record<string, string> {
    return {
      'spec.nodeName': str(path(obj, 'spec', 'nodeName')),
      'spec.restartPolicy': str(path(obj, 'spec', 'restartPolicy')),
      'spec.schedulerName': str(path(obj, 'spec', 'schedulerName')),
      'spec.serviceAccountName': str(path(obj, 'spec', 'serviceAccountName')),
      'spec.hostNetwork': path(obj, 'spec', 'hostNetwork') === true ? 'true' : 'false',
      'status.phase': str(path(obj, 'status', 'phase')),
      'status.podIP': str(path(obj, 'status', 'podIP')),
      // Accepted by upstream's field-label conversion but never set on the selectable fields.
      'status.podIPs': '',
      'status.nominatedNodeName': str(path(obj, 'status', 'nominatedNodeName')),
    };
  }

  // A pod bound to a node is deleted gracefully so its kubelet can stop it; an unscheduled
  // or finished pod goes at once.
  gracefulDelete(obj: KObject, input: GracefulDeleteInput): number | undefined {
    const phase = str(path(obj, 'status', 'phase'));
    if (str(path(obj, 'spec', 'nodeName')) === '' || phase === 'Succeeded' || phase === 'Failed') return 0;
    const grace =
      input.gracePeriodSeconds ??
      (path(obj, 'spec', 'terminationGracePeriodSeconds') as number | undefined) ??
      30;
    // Upstream treats a requested grace of 0 as immediate (force) deletion.
    return Math.max(grace, 0);
  }
}

/** Jobs get a selector on their own uid unless the user manages it (upstream generateSelector). */
class JobStrategy extends DefaultStrategy {
  override prepareForCreate(obj: KObject, ctx: StrategyContext): void {
    super.prepareForCreate(obj, ctx);
    const spec = (obj.spec ?? {}) as Obj;
    obj.spec = spec;
    if (spec.manualSelector === true) return;
    const uid = obj.metadata?.uid ?? '';
    const name = obj.metadata?.name ?? '';
    const template = (spec.template ?? {}) as Obj;
    spec.template = template;
    const tm = (template.metadata ?? {}) as { labels?: Record<string, string> };
    template.metadata = tm;
    tm.labels = {
      ...(tm.labels ?? {}),
      'batch.kubernetes.io/controller-uid': uid,
      'batch.kubernetes.io/job-name': name,
      'controller-uid': uid,
      'job-name': name,
    };
    if (spec.selector === undefined)
      spec.selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
  }

  override selectableFields(obj: KObject): Record<string, string> {
    return { 'status.successful': str(path(obj, 'status', 'successful')) };
  }

  unsupportedFieldLabel(label: string): string {
    return `field label ${JSON.stringify(label)} not supported for batchv1.Job`;
  }
}

class NodeStrategy extends DefaultStrategy {
  override selectableFields(obj: KObject): Record<string, string> {
    return { 'spec.unschedulable': path(obj, 'spec', 'unschedulable') === true ? 'true' : 'false' };
  }
}

/** Namespaces: Active at create; deletion is held by spec.finalizers until /finalize empties them. */
export class NamespaceStrategy extends DefaultStrategy {
  override prepareForCreate(obj: KObject, _ctx: StrategyContext): void {
    obj.status = { phase: 'Active' };
    const spec = (obj.spec ?? {}) as Obj;
    const fins = (spec.finalizers as string[] | undefined) ?? [];
    if (!fins.includes('kubernetes')) spec.finalizers = [...fins, 'kubernetes'];
    obj.spec = spec;
  }

  override prepareForUpdate(obj: KObject, old: KObject, ctx: StrategyContext): void {
    super.prepareForUpdate(obj, old, ctx);
    // spec.finalizers change only through the finalize subresource.
    obj.spec = {
      ...((obj.spec as Obj | undefined) ?? {}),
      finalizers: path(old, 'spec', 'finalizers') ?? [],
    };
  }

  override selectableFields(obj: KObject): Record<string, string> {
    return { 'status.phase': str(path(obj, 'status', 'phase')) };
  }

  beginDelete(obj: KObject, _ctx: StrategyContext): void {
    obj.status = { ...((obj.status as Obj | undefined) ?? {}), phase: 'Terminating' };
  }

  /** True while spec.finalizers hold the namespace. */
  holdsDeletion(obj: KObject): boolean {
    return ((path(obj, 'spec', 'finalizers') as string[] | undefined) ?? []).length > 0;
  }
}

class FieldStrategy extends DefaultStrategy {
  constructor(
    resource: ResourceInfo,
    private readonly fieldPaths: Record<string, string[]>,
    opts: ConstructorParameters<typeof DefaultStrategy>[1],
  ) {
    super(resource, opts);
  }

  override selectableFields(obj: KObject): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, p] of Object.entries(this.fieldPaths)) out[name] = str(path(obj, ...p));
    return out;
  }
}

const EVENT_FIELDS: Record<string, string[]> = {
  'involvedObject.kind': ['involvedObject', 'kind'],
  'involvedObject.namespace': ['involvedObject', 'namespace'],
  'involvedObject.name': ['involvedObject', 'name'],
  'involvedObject.uid': ['involvedObject', 'uid'],
  'involvedObject.apiVersion': ['involvedObject', 'apiVersion'],
  'involvedObject.resourceVersion': ['involvedObject', 'resourceVersion'],
  'involvedObject.fieldPath': ['involvedObject', 'fieldPath'],
  reason: ['reason'],
  reportingComponent: ['reportingComponent'],
  source: ['source', 'component'],
  type: ['type'],
};

const FIELD_TABLE: Record<string, Record<string, string[]>> = {
  '/events': EVENT_FIELDS,
  'events.k8s.io/events': {
    'regarding.kind': ['regarding', 'kind'],
    'regarding.namespace': ['regarding', 'namespace'],
    'regarding.name': ['regarding', 'name'],
    'regarding.uid': ['regarding', 'uid'],
    'regarding.apiVersion': ['regarding', 'apiVersion'],
    'regarding.resourceVersion': ['regarding', 'resourceVersion'],
    'regarding.fieldPath': ['regarding', 'fieldPath'],
    reason: ['reason'],
    reportingController: ['reportingController'],
    type: ['type'],
  },
  '/secrets': { type: ['type'] },
  '/replicationcontrollers': { 'status.replicas': ['status', 'replicas'] },
  'certificates.k8s.io/certificatesigningrequests': { 'spec.signerName': ['spec', 'signerName'] },
};

/** Adds upstream's create/update warnings of a kind with a pod template. */
function withWarnings(s: Strategy, key: string): Strategy {
  s.warningsOnCreate = (obj) => warningsOnCreate(key, obj);
  s.warningsOnUpdate = (obj, old) => warningsOnUpdate(key, obj, old);
  return s;
}

/** The strategy of a served resource. */
export function strategyFor(r: ResourceInfo): Strategy {
  const s = baseStrategyFor(r);
  const key = `${r.group}/${r.plural}`;
  return hasWorkloadWarnings(key) ? withWarnings(s, key) : s;
}

function baseStrategyFor(r: ResourceInfo): Strategy {
  const key = `${r.group}/${r.plural}`;
  const opts = {
    tracksGeneration: GENERATION_TRACKED.has(key),
    allowCreateOnUpdate: CREATE_ON_UPDATE.has(key),
  };
  switch (key) {
    case '/pods':
      return new PodStrategy(r, opts);
    case '/nodes':
      return new NodeStrategy(r, { ...opts, keepStatusOnCreate: true });
    case '/namespaces':
      return new NamespaceStrategy(r, opts);
    case 'batch/jobs':
      return new JobStrategy(r, opts);
    case 'admissionregistration.k8s.io/validatingadmissionpolicies':
      return new ValidatingAdmissionPolicyStrategy(r, opts);
    case 'admissionregistration.k8s.io/validatingadmissionpolicybindings':
      return new ValidatingAdmissionPolicyBindingStrategy(r, opts);
  }
  const fields = FIELD_TABLE[key];
  if (fields) return new FieldStrategy(r, fields, opts);
  return new DefaultStrategy(r, opts);
}
