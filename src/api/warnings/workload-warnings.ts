// The warnings upstream's strategies return on create and update (WarningsOnCreate /
// WarningsOnUpdate in pkg/registry/<group>/<kind>/strategy.go) for pods and for every kind
// that carries a pod template. Pure: the object (and the stored one on update) in, warning
// texts out. Updates warn only when the template may have changed (a new generation), so a
// scale or a label edit does not repeat what the create already said.
import type { StatefulSetSpec } from '../generated/types/apps-v1.js';
import type { JobSpec } from '../generated/types/batch-v1.js';
import type { PodSpec } from '../generated/types/core-v1.js';
import type { ObjectMeta } from '../generated/types/meta-v1.js';
import { deepEqual } from '../../machinery/patch/json-values.js';
import { isDNS1123Label } from '../../machinery/validation/names.js';
import {
  APPARMOR_ANNOTATION_PREFIX,
  persistentVolumeClaimSpecWarnings,
  type PodTemplateLike,
  podTemplateWarnings,
  podWarnings,
} from './pod-warnings.js';

/** An API object as the registry holds it: decoded JSON. */
export type WorkloadObject = Record<string, unknown> & { metadata?: ObjectMeta };

// Indexed Jobs past these sizes may lose track of failed indexes (pkg/api/job/warnings.go).
const COMPLETIONS_SOFT_LIMIT = 100_000;
const PARALLELISM_SOFT_LIMIT = 10_000;

function record(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function generation(obj: WorkloadObject): number | undefined {
  return obj.metadata?.generation;
}

// Go's `%v` of the []string IsDNS1123Label returns.
function nameWarning(obj: WorkloadObject, usedIn: string): string[] {
  const msgs = isDNS1123Label(obj.metadata?.name ?? '');
  if (msgs.length === 0) return [];
  return [
    `metadata.name: this is used in ${usedIn}, which can result in surprising behavior; a DNS label is recommended: [${msgs.join(' ')}]`,
  ];
}

const POD_NAMES = 'Pod names and hostnames';

/** Upstream's WarningsForJobSpec: Indexed Job size limits, then the pod template. */
export function jobSpecWarnings(path: string, spec: JobSpec | undefined): string[] {
  const out: string[] = [];
  if (spec?.completionMode === 'Indexed') {
    const completions = spec.completions ?? 0;
    const parallelism = spec.parallelism ?? 0;
    if (completions > COMPLETIONS_SOFT_LIMIT && parallelism > PARALLELISM_SOFT_LIMIT) {
      out.push(
        `${path}: In Indexed Jobs with a number of completions higher than 10^5 and a parallelism higher than 10^4, Kubernetes might not be able to track completedIndexes when a big number of indexes fail`,
      );
    }
  }
  out.push(...podTemplateWarnings(`${path}.template`, spec?.template));
  return out;
}

function template(obj: WorkloadObject): PodTemplateLike | undefined {
  const t = record(obj.spec).template;
  return t === undefined || t === null ? undefined : (t as PodTemplateLike);
}

function statefulSetExtras(obj: WorkloadObject, claimSegment: string): string[] {
  const spec = record(obj.spec) as Partial<StatefulSetSpec>;
  const out: string[] = [];
  (spec.volumeClaimTemplates ?? []).forEach((pvc, i) => {
    out.push(
      ...persistentVolumeClaimSpecWarnings(`spec.volumeClaimTemplates[${i}]${claimSegment}`, pvc.spec),
    );
  });
  if (typeof spec.revisionHistoryLimit === 'number' && spec.revisionHistoryLimit < 0) {
    out.push(
      'spec.revisionHistoryLimit: a negative value retains all historical revisions; a value >= 0 is recommended',
    );
  }
  return out;
}

function jobSpecOf(obj: WorkloadObject, cron: boolean): JobSpec | undefined {
  const spec = record(obj.spec);
  const js = cron ? record(spec.jobTemplate).spec : spec;
  return js === undefined ? undefined : (record(js) as unknown as JobSpec);
}

const CRON_JOB_SPEC = 'spec.jobTemplate.spec';

// The AppArmor annotation a pod's create would sync to a field (upstream's
// applyAppArmorVersionSkew): unconfined, runtime/default or localhost/<profile>.
function appArmorProfileFor(annotation: string): { type: string; localhostProfile?: string } | undefined {
  if (annotation === 'unconfined') return { type: 'Unconfined' };
  if (annotation === 'runtime/default') return { type: 'RuntimeDefault' };
  if (annotation.startsWith('localhost/')) {
    const profile = annotation.slice('localhost/'.length);
    if (profile !== '' && profile.length <= 4095) return { type: 'Localhost', localhostProfile: profile };
  }
  return undefined;
}

/**
 * Warnings upstream adds while syncing a new pod's deprecated AppArmor annotations to the
 * `appArmorProfile` fields: every annotation of a container without the field is reported,
 * except one that names exactly the pod-level profile (nothing would be copied then).
 */
export function podAppArmorAnnotationWarnings(pod: PodTemplateLike): string[] {
  const spec: PodSpec = pod.spec ?? { containers: [] };
  if (spec.os?.name === 'windows') return [];
  const annotations = pod.metadata?.annotations ?? {};
  const podProfile = spec.securityContext?.appArmorProfile;
  const out: string[] = [];
  const containers = [
    ...(spec.initContainers ?? []),
    ...(spec.containers ?? []),
    ...(spec.ephemeralContainers ?? []),
  ];
  for (const c of containers) {
    const key = APPARMOR_ANNOTATION_PREFIX + c.name;
    const annotation = annotations[key];
    if (annotation === undefined || c.securityContext?.appArmorProfile != null) continue;
    const field = appArmorProfileFor(annotation);
    if (field === undefined || !deepEqual(field, podProfile ?? null)) {
      out.push(
        `metadata.annotations[${key}]: deprecated since v1.30; use the "appArmorProfile" field instead`,
      );
    }
  }
  return out;
}

// Resources whose strategies upstream gives create/update warnings.
const WARNING_RESOURCES: ReadonlySet<string> = new Set([
  'batch/cronjobs',
  'apps/daemonsets',
  'apps/deployments',
  'batch/jobs',
  '/pods',
  '/podtemplates',
  'apps/replicasets',
  '/replicationcontrollers',
  'apps/statefulsets',
]);

/** Whether the resource `<group>/<plural>` has create/update warnings at all. */
export function hasWorkloadWarnings(resource: string): boolean {
  return WARNING_RESOURCES.has(resource);
}

/** Upstream's WarningsOnCreate for the resource `<group>/<plural>`; [] for kinds without any. */
export function warningsOnCreate(resource: string, obj: WorkloadObject): string[] {
  switch (resource) {
    case '/pods':
      return [
        ...podAppArmorAnnotationWarnings(obj as PodTemplateLike),
        ...nameWarning(obj, "the Pod's hostname"),
        ...podWarnings(obj as PodTemplateLike),
      ];
    case '/podtemplates':
      return podTemplateWarnings('template', record(obj).template as PodTemplateLike | undefined);
    case '/replicationcontrollers':
    case 'apps/deployments':
    case 'apps/replicasets':
      return [...nameWarning(obj, POD_NAMES), ...podTemplateWarnings('spec.template', template(obj))];
    case 'apps/daemonsets':
      return podTemplateWarnings('spec.template', template(obj));
    case 'apps/statefulsets':
      return [...podTemplateWarnings('spec.template', template(obj)), ...statefulSetExtras(obj, '')];
    case 'batch/jobs':
      return [...nameWarning(obj, POD_NAMES), ...jobSpecWarnings('spec', jobSpecOf(obj, false))];
    case 'batch/cronjobs':
      return [...nameWarning(obj, POD_NAMES), ...jobSpecWarnings(CRON_JOB_SPEC, jobSpecOf(obj, true))];
  }
  return [];
}

/**
 * Upstream's WarningsOnUpdate for the resource `<group>/<plural>` of a main-resource update
 * (status updates warn about nothing). `obj` already carries its new generation.
 */
export function warningsOnUpdate(resource: string, obj: WorkloadObject, old: WorkloadObject): string[] {
  const bumped = generation(obj) !== generation(old);
  switch (resource) {
    case '/podtemplates':
      return bumped
        ? podTemplateWarnings('template', record(obj).template as PodTemplateLike | undefined)
        : [];
    case '/replicationcontrollers':
      // Upstream passes the templates the wrong way round and so reports the stored one.
      return bumped ? podTemplateWarnings('spec.template', template(old)) : [];
    case 'apps/deployments':
    case 'apps/replicasets':
      return bumped ? podTemplateWarnings('spec.template', template(obj)) : [];
    case 'apps/daemonsets':
      // Upstream keys this on spec.templateGeneration, which moves only with the template.
      return deepEqual(template(obj) ?? null, template(old) ?? null)
        ? []
        : podTemplateWarnings('spec.template', template(obj));
    case 'apps/statefulsets':
      return [
        ...(bumped ? podTemplateWarnings('spec.template', template(obj)) : []),
        ...statefulSetExtras(obj, '.Spec'),
      ];
    case 'batch/jobs':
      return bumped ? jobSpecWarnings('spec', jobSpecOf(obj, false)) : [];
    case 'batch/cronjobs':
      return bumped ? jobSpecWarnings(CRON_JOB_SPEC, jobSpecOf(obj, true)) : [];
  }
  return [];
}
