// Facts about built-in resources that the OpenAPI document does not carry: short names,
// categories, and the order and preferred versions of API groups in discovery. They are
// upstream facts (Kubernetes 1.32 and later), written down by hand:
// - short names and categories are what each upstream REST storage returns from
//   `ShortNames()` / `Categories()` (pkg/registry/**/storage/storage.go,
//   apiextensions-apiserver and kube-aggregator registries), i.e. the SHORTNAMES column of
//   `kubectl api-resources` and `kubectl get all`;
// - group order and version priority come from the APIService priorities kube-apiserver
//   registers (cmd/kube-apiserver/app/aggregator.go and pkg/controlplane/apiserver/
//   aggregator.go: GroupPriorityMinimum / VersionPriority); the aggregator lists its own
//   group (apiregistration.k8s.io) first after the core group.
// The generator applies them only to resources that swagger.json actually serves.

/** Key of a resource in the tables below: `<group>/<plural>` (`/pods` for the core group). */
export type GroupResourceKey = `${string}/${string}`;

/** Upstream short names per group/resource (the order is upstream's). */
export const SHORT_NAMES: Readonly<Record<GroupResourceKey, readonly string[]>> = {
  '/componentstatuses': ['cs'],
  '/configmaps': ['cm'],
  '/endpoints': ['ep'],
  '/events': ['ev'],
  '/limitranges': ['limits'],
  '/namespaces': ['ns'],
  '/nodes': ['no'],
  '/persistentvolumeclaims': ['pvc'],
  '/persistentvolumes': ['pv'],
  '/pods': ['po'],
  '/replicationcontrollers': ['rc'],
  '/resourcequotas': ['quota'],
  '/serviceaccounts': ['sa'],
  '/services': ['svc'],
  'apiextensions.k8s.io/customresourcedefinitions': ['crd', 'crds'],
  'apps/daemonsets': ['ds'],
  'apps/deployments': ['deploy'],
  'apps/replicasets': ['rs'],
  'apps/statefulsets': ['sts'],
  'autoscaling/horizontalpodautoscalers': ['hpa'],
  'batch/cronjobs': ['cj'],
  'certificates.k8s.io/certificatesigningrequests': ['csr'],
  'events.k8s.io/events': ['ev'],
  'networking.k8s.io/ingresses': ['ing'],
  'networking.k8s.io/ipaddresses': ['ip'],
  'networking.k8s.io/networkpolicies': ['netpol'],
  'policy/poddisruptionbudgets': ['pdb'],
  'scheduling.k8s.io/priorityclasses': ['pc'],
  'storage.k8s.io/storageclasses': ['sc'],
  'storage.k8s.io/volumeattributesclasses': ['vac'],
};

/** Upstream categories per group/resource (`kubectl get all`, `kubectl get api-extensions`). */
export const CATEGORIES: Readonly<Record<GroupResourceKey, readonly string[]>> = {
  '/pods': ['all'],
  '/replicationcontrollers': ['all'],
  '/services': ['all'],
  'apps/daemonsets': ['all'],
  'apps/deployments': ['all'],
  'apps/replicasets': ['all'],
  'apps/statefulsets': ['all'],
  'autoscaling/horizontalpodautoscalers': ['all'],
  'batch/cronjobs': ['all'],
  'batch/jobs': ['all'],
  'admissionregistration.k8s.io/mutatingadmissionpolicies': ['api-extensions'],
  'admissionregistration.k8s.io/mutatingadmissionpolicybindings': ['api-extensions'],
  'admissionregistration.k8s.io/mutatingwebhookconfigurations': ['api-extensions'],
  'admissionregistration.k8s.io/validatingadmissionpolicies': ['api-extensions'],
  'admissionregistration.k8s.io/validatingadmissionpolicybindings': ['api-extensions'],
  'admissionregistration.k8s.io/validatingwebhookconfigurations': ['api-extensions'],
  'apiextensions.k8s.io/customresourcedefinitions': ['api-extensions'],
  'apiregistration.k8s.io/apiservices': ['api-extensions'],
};

/**
 * Groups in upstream discovery order: descending GroupPriorityMinimum, ties broken by name
 * (admissionregistration before apiextensions at 16700, discovery before resource at 16200).
 * A served group missing here is appended after these, sorted by name.
 */
export const GROUP_ORDER: readonly string[] = [
  '', // 18000
  'apiregistration.k8s.io', // the aggregator's own group
  'apps', // 17800
  'events.k8s.io', // 17750
  'authentication.k8s.io', // 17700
  'authorization.k8s.io', // 17600
  'autoscaling', // 17500
  'batch', // 17400
  'certificates.k8s.io', // 17300
  'networking.k8s.io', // 17200
  'policy', // 17100
  'rbac.authorization.k8s.io', // 17000
  'storage.k8s.io', // 16800
  'admissionregistration.k8s.io', // 16700
  'apiextensions.k8s.io', // 16700
  'scheduling.k8s.io', // 16600
  'coordination.k8s.io', // 16500
  'node.k8s.io', // 16300
  'discovery.k8s.io', // 16200
  'resource.k8s.io', // 16200
  'flowcontrol.apiserver.k8s.io', // 16100
  'internal.apiserver.k8s.io', // 16000
  'storagemigration.k8s.io', // 15800
];

/**
 * Preferred versions where upstream names one explicitly (highest VersionPriority). Every
 * other group prefers its first version in Kubernetes version order (GA, then beta, then
 * alpha, higher numbers first), which is what the priorities amount to for all of them.
 * Only applied when swagger.json serves that version.
 */
export const PREFERRED_VERSIONS: Readonly<Record<string, string>> = {
  '': 'v1',
  autoscaling: 'v2',
  'flowcontrol.apiserver.k8s.io': 'v1',
  'resource.k8s.io': 'v1',
};

/** Short names of a resource, or none. */
export function shortNamesFor(group: string, plural: string): string[] {
  return [...(SHORT_NAMES[`${group}/${plural}`] ?? [])];
}

/** Categories of a resource, or none. */
export function categoriesFor(group: string, plural: string): string[] {
  return [...(CATEGORIES[`${group}/${plural}`] ?? [])];
}

const VERSION_RE = /^v(\d+)(?:(alpha|beta)(\d+))?$/;

/**
 * Compares two version strings the way upstream orders versions (version.CompareKubeAware…):
 * GA before beta before alpha, higher major first, then higher minor; non-matching strings
 * last, by name. Negative when `a` sorts first.
 */
export function compareVersions(a: string, b: string): number {
  const ma = VERSION_RE.exec(a);
  const mb = VERSION_RE.exec(b);
  if (!ma || !mb) {
    if (ma) return -1;
    if (mb) return 1;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  const rank = (m: RegExpExecArray): number => (m[2] === undefined ? 0 : m[2] === 'beta' ? 1 : 2);
  const ra = rank(ma);
  const rb = rank(mb);
  if (ra !== rb) return ra - rb;
  const major = Number(mb[1]) - Number(ma[1]);
  if (major !== 0) return major;
  return Number(mb[3] ?? 0) - Number(ma[3] ?? 0);
}

/** Orders group names: GROUP_ORDER first, then the rest by name. */
export function compareGroups(a: string, b: string): number {
  const ia = GROUP_ORDER.indexOf(a);
  const ib = GROUP_ORDER.indexOf(b);
  if (ia >= 0 && ib >= 0) return ia - ib;
  if (ia >= 0) return -1;
  if (ib >= 0) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
