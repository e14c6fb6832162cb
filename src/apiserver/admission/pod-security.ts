// PodSecurity (upstream staging/src/k8s.io/pod-security-admission): each namespace chooses,
// through its `pod-security.kubernetes.io/{enforce,audit,warn}[-version]` labels, the Pod
// Security Standard its pods must meet. `enforce` refuses pods that violate it, `warn`
// answers with `Warning` headers; workload resources (Deployments, Jobs, …) are checked
// against their pod template for warn and audit only. Updating a namespace's enforce level
// warns about existing pods that would violate it. Audit annotations are not recorded (kts
// has no audit log yet).
import type { Namespace, PodSpec } from '../../api/generated/types/core-v1.js';
import type { ObjectMeta } from '../../api/generated/types/meta-v1.js';
import { invalid, type FieldError } from '../../machinery/status-error.js';
import type { KObject } from '../registry/object.js';
import type { StoreRegistry } from '../stores.js';
import { denied, getOrUndefined, isResource, listObjects } from './attributes.js';
import {
  checkPod,
  forbiddenDetail,
  forbiddenReason,
  type LevelVersion,
  levelVersionString,
  type PodSecurityLevel,
} from './pod-security-checks.js';
import type { AdmissionPlugin, AdmissionRequest } from './types.js';

const PREFIX = 'pod-security.kubernetes.io/';
const MODES = ['enforce', 'audit', 'warn'] as const;
type Mode = (typeof MODES)[number];
const LEVELS: PodSecurityLevel[] = ['privileged', 'baseline', 'restricted'];

/** Cluster-wide defaults and exemptions (upstream PodSecurityConfiguration). */
export interface PodSecurityOptions {
  defaults?: Partial<Record<Mode, string>>;
  exemptNamespaces?: string[];
  exemptUsernames?: string[];
  exemptRuntimeClasses?: string[];
}

/** The workload resources whose pod templates are checked, and where the template is. */
const TEMPLATES: Record<string, (o: KObject) => { metadata?: ObjectMeta; spec?: PodSpec } | undefined> = {
  '/podtemplates': (o) => o.template as never,
  '/replicationcontrollers': (o) => (o.spec as { template?: never } | undefined)?.template,
  'apps/deployments': (o) => (o.spec as { template?: never } | undefined)?.template,
  'apps/replicasets': (o) => (o.spec as { template?: never } | undefined)?.template,
  'apps/statefulsets': (o) => (o.spec as { template?: never } | undefined)?.template,
  'apps/daemonsets': (o) => (o.spec as { template?: never } | undefined)?.template,
  'batch/jobs': (o) => (o.spec as { template?: never } | undefined)?.template,
  'batch/cronjobs': (o) =>
    (o.spec as { jobTemplate?: { spec?: { template?: never } } } | undefined)?.jobTemplate?.spec?.template,
};

function parseLevel(v: string | undefined): PodSecurityLevel | undefined {
  return LEVELS.find((l) => l === v);
}

function parseVersion(v: string | undefined): number | undefined {
  if (v === undefined || v === '' || v === 'latest') return Number.POSITIVE_INFINITY;
  const m = /^v1\.(0|[1-9][0-9]*)$/.exec(v);
  return m ? Number(m[1]) : undefined;
}

/** The policy of one mode from namespace labels (falling back to the defaults). */
function policyFor(labels: Record<string, string>, mode: Mode, opts: PodSecurityOptions): LevelVersion {
  const level = parseLevel(labels[PREFIX + mode]) ?? parseLevel(opts.defaults?.[mode]) ?? 'privileged';
  const minor = parseVersion(labels[`${PREFIX}${mode}-version`]) ?? Number.POSITIVE_INFINITY;
  return { level, minor };
}

/** Validates the pod-security labels of a namespace (422 as upstream). */
function labelErrors(labels: Record<string, string>): FieldError[] {
  const errs: FieldError[] = [];
  for (const mode of MODES) {
    const l = labels[PREFIX + mode];
    if (l !== undefined && !parseLevel(l)) {
      errs.push({
        type: 'FieldValueInvalid',
        field: `metadata.labels[${PREFIX}${mode}]`,
        badValue: l,
        detail: 'must be one of privileged, baseline, restricted',
      });
    }
    const v = labels[`${PREFIX}${mode}-version`];
    if (v !== undefined && parseVersion(v) === undefined) {
      errs.push({
        type: 'FieldValueInvalid',
        field: `metadata.labels[${PREFIX}${mode}-version]`,
        badValue: v,
        detail: 'must be "latest" or of the form "v1.x"',
      });
    }
  }
  return errs;
}

function samePolicy(a: LevelVersion, b: LevelVersion): boolean {
  return a.level === b.level && a.minor === b.minor;
}

// Only changes a policy can judge differently make a pod update worth checking: images,
// the seccomp annotations and the set of containers (upstream isSignificantPodUpdate).
function significantPodUpdate(pod: KObject, old: KObject): boolean {
  const a = pod.metadata?.annotations ?? {};
  const oa = old.metadata?.annotations ?? {};
  if (a['seccomp.security.alpha.kubernetes.io/pod'] !== oa['seccomp.security.alpha.kubernetes.io/pod'])
    return true;
  const spec = (pod.spec ?? {}) as PodSpec;
  const ospec = (old.spec ?? {}) as PodSpec;
  for (const key of ['containers', 'initContainers', 'ephemeralContainers'] as const) {
    const cs = spec[key] ?? [];
    const ocs = ospec[key] ?? [];
    if (cs.length !== ocs.length) return true;
    for (let i = 0; i < cs.length; i++) {
      const c = cs[i]!;
      if (c.image !== ocs[i]!.image) return true;
      const k = `container.seccomp.security.alpha.kubernetes.io/${c.name}`;
      if (a[k] !== oa[k]) return true;
    }
  }
  return false;
}

/** The PodSecurity plugin. */
export function podSecurity(stores: StoreRegistry, opts: PodSecurityOptions = {}): AdmissionPlugin {
  const exemptNamespaces = new Set(opts.exemptNamespaces ?? []);
  const exemptUsers = new Set(opts.exemptUsernames ?? []);
  const exemptRuntimeClasses = new Set(opts.exemptRuntimeClasses ?? []);

  async function namespaceLabels(ns: string): Promise<Record<string, string> | undefined> {
    const o = (await getOrUndefined(stores, '', 'namespaces', '', ns)) as Namespace | undefined;
    return o ? (o.metadata?.labels ?? {}) : undefined;
  }

  async function validateNamespace(req: AdmissionRequest): Promise<void> {
    if (req.subresource !== '' || (req.operation !== 'CREATE' && req.operation !== 'UPDATE')) return;
    const labels = req.object?.metadata?.labels ?? {};
    const errs = labelErrors(labels);
    if (errs.length > 0) throw invalid('Namespace', '', req.object?.metadata?.name ?? req.name, errs);
    if (req.operation !== 'UPDATE' || !req.warn) return;
    const name = req.object?.metadata?.name ?? req.name;
    const enforce = policyFor(labels, 'enforce', opts);
    const before = policyFor(req.oldObject?.metadata?.labels ?? {}, 'enforce', opts);
    if (samePolicy(enforce, before) || enforce.level === 'privileged' || exemptNamespaces.has(name)) return;
    // Tightening enforce does not touch running pods; upstream tells the user which ones would now fail.
    const pods = await listObjects(stores, '', 'pods', name);
    const bad: string[] = [];
    for (const p of pods) {
      const results = checkPod(enforce, p.metadata ?? {}, (p.spec ?? {}) as PodSpec);
      if (results.length > 0) bad.push(`${p.metadata?.name ?? ''}: ${forbiddenReason(results)}`);
    }
    if (bad.length === 0) return;
    req.warn(
      `existing pods in namespace "${name}" violate the new PodSecurity enforce level "${levelVersionString(enforce)}"`,
    );
    for (const b of bad) req.warn(b);
  }

  function exempt(req: AdmissionRequest, spec: PodSpec | undefined): boolean {
    if (exemptNamespaces.has(req.namespace) || exemptUsers.has(req.user.username)) return true;
    return spec?.runtimeClassName !== undefined && exemptRuntimeClasses.has(spec.runtimeClassName);
  }

  return {
    name: 'PodSecurity',
    async validate(req: AdmissionRequest): Promise<void> {
      if (isResource(req, '', 'namespaces')) return validateNamespace(req);
      if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return;
      const obj = req.object;
      if (!obj) return;
      const isPod = isResource(req, '', 'pods');
      let meta: ObjectMeta;
      let spec: PodSpec;
      if (isPod) {
        if (req.subresource !== '' && req.subresource !== 'ephemeralcontainers') return;
        if (req.operation === 'UPDATE' && req.oldObject && !significantPodUpdate(obj, req.oldObject)) return;
        meta = obj.metadata ?? {};
        spec = (obj.spec ?? {}) as PodSpec;
      } else {
        const get = TEMPLATES[`${req.resource.group}/${req.resource.plural}`];
        if (!get || req.subresource !== '') return;
        const t = get(obj);
        if (!t) return;
        meta = t.metadata ?? {};
        spec = t.spec ?? ({ containers: [] } as PodSpec);
      }
      if (exempt(req, spec)) return;
      const labels = await namespaceLabels(req.namespace);
      if (labels === undefined) return;
      const enforce = policyFor(labels, 'enforce', opts);
      const warn = policyFor(labels, 'warn', opts);
      let enforceFailed = false;
      if (isPod) {
        const results = checkPod(enforce, meta, spec);
        if (results.length > 0) {
          enforceFailed = true;
          throw denied(
            req,
            `violates PodSecurity "${levelVersionString(enforce)}": ${forbiddenDetail(results)}`,
          );
        }
      }
      if (!req.warn || (enforceFailed && samePolicy(enforce, warn))) return;
      const results = checkPod(warn, meta, spec);
      if (results.length > 0) {
        req.warn(`would violate PodSecurity "${levelVersionString(warn)}": ${forbiddenDetail(results)}`);
      }
    },
  };
}
