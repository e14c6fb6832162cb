// Builders for bootstrap RBAC objects, shaped as upstream's rbac helpers build them: rule
// lists sorted, every object labelled `kubernetes.io/bootstrapping: rbac-defaults` and
// annotated `rbac.authorization.kubernetes.io/autoupdate: "true"`.
import type {
  ClusterRole,
  ClusterRoleBinding,
  PolicyRule,
  Subject,
} from '../../../api/generated/types/rbac-v1.js';

/** The label every bootstrap object carries. */
export const BOOTSTRAP_LABEL = { 'kubernetes.io/bootstrapping': 'rbac-defaults' } as const;
/** The annotation that lets the server reconcile an object with its default at start. */
export const AUTOUPDATE_ANNOTATION = 'rbac.authorization.kubernetes.io/autoupdate';
/** The RBAC API group. */
export const RBAC_GROUP = 'rbac.authorization.k8s.io';

function list(csv: string): string[] {
  return [...new Set(csv.split(','))].sort();
}

/** A resource rule: comma-separated verbs, groups (`''` is core) and resources, sorted as upstream's builder does. */
export function rule(verbs: string, groups: string, resources: string, names?: string): PolicyRule {
  return {
    apiGroups: list(groups),
    resources: list(resources),
    ...(names ? { resourceNames: list(names) } : {}),
    verbs: list(verbs),
  };
}

/** A non-resource rule. */
export function urlRule(verbs: string, urls: string): PolicyRule {
  return { nonResourceURLs: list(urls), verbs: list(verbs) };
}

/** Upstream's eventsRule: create/patch/update of core and events.k8s.io events. */
export const eventsRule = (): PolicyRule => rule('create,patch,update', ',events.k8s.io', 'events');

/** Bootstrap object metadata: the defaults label and the autoupdate annotation. */
export function meta(name: string, labels: Record<string, string> = {}, namespace?: string) {
  return {
    name,
    ...(namespace ? { namespace } : {}),
    labels: { ...BOOTSTRAP_LABEL, ...labels },
    annotations: { [AUTOUPDATE_ANNOTATION]: 'true' },
  };
}

/** A bootstrap ClusterRole. */
export function clusterRole(name: string, rules: PolicyRule[], labels?: Record<string, string>): ClusterRole {
  return { apiVersion: `${RBAC_GROUP}/v1`, kind: 'ClusterRole', metadata: meta(name, labels), rules };
}

/** Subjects: `User:x`, `Group:x`, `ServiceAccount:ns/name`. */
export function subjects(...specs: string[]): Subject[] {
  return specs.map((s) => {
    const [kind, rest] = s.split(/:(.*)/s) as [string, string];
    if (kind === 'ServiceAccount') {
      const [namespace, name] = rest.split('/') as [string, string];
      return { kind, name, namespace };
    }
    return { apiGroup: RBAC_GROUP, kind, name: rest };
  });
}

/** A bootstrap ClusterRoleBinding to the ClusterRole of the same name. */
export function clusterBinding(name: string, subs: Subject[], roleName = name): ClusterRoleBinding {
  return {
    apiVersion: `${RBAC_GROUP}/v1`,
    kind: 'ClusterRoleBinding',
    metadata: meta(name),
    roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: roleName },
    ...(subs.length > 0 ? { subjects: subs } : {}),
  };
}
