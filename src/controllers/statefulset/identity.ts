// The stable identity of StatefulSet pods (upstream stateful_set_utils.go): pod `<set>-<i>`
// with hostname = its name and subdomain = the governing service, PVCs
// `<claim>-<set>-<i>` mounted in place of the template's same-named volumes, and the
// revision label saying which template the pod runs.
import type { StatefulSet } from '../../api/generated/types/apps-v1.js';
import type {
  PersistentVolumeClaim,
  Pod,
  PodTemplateSpec,
  Volume,
} from '../../api/generated/types/core-v1.js';
import type { OwnerReference } from '../../machinery/owner-references.js';
import { newControllerRef } from '../../machinery/owner-references.js';
import { CONTROLLER_REVISION_HASH_LABEL } from '../common/controller-history.js';

/** StatefulSet's group/version/kind. */
export const STATEFULSET_GVK = { group: 'apps', version: 'v1', kind: 'StatefulSet' };
/** Label with the pod's name (apps.StatefulSetPodNameLabel). */
export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
/** Label with the pod's ordinal (apps.PodIndexLabel). */
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';

/** The ordinal of a pod named `<set>-<i>`, or -1. */
export function getOrdinal(setName: string, podName: string): number {
  if (!podName.startsWith(`${setName}-`)) return -1;
  const rest = podName.slice(setName.length + 1);
  if (!/^(0|[1-9][0-9]*)$/.test(rest)) return -1;
  const n = Number(rest);
  return Number.isSafeInteger(n) ? n : -1;
}

/** The first ordinal (spec.ordinals.start, default 0). */
export function startOrdinal(set: StatefulSet): number {
  return set.spec?.ordinals?.start ?? 0;
}

/** One past the last ordinal the set wants. */
export function endOrdinal(set: StatefulSet): number {
  return startOrdinal(set) + (set.spec?.replicas ?? 1);
}

/** True when the ordinal lies in the set's range. */
export function ordinalInRange(set: StatefulSet, ord: number): boolean {
  return ord >= startOrdinal(set) && ord < endOrdinal(set);
}

/** `<set>-<ordinal>`. */
export function podName(set: StatefulSet, ord: number): string {
  return `${set.metadata?.name ?? ''}-${ord}`;
}

/** `<claim>-<set>-<ordinal>`. */
export function claimName(claimTemplate: string, set: StatefulSet, ord: number): string {
  return `${claimTemplate}-${podName(set, ord)}`;
}

/** The revision (name) a pod was created from. */
export function podRevision(pod: Pod): string {
  return pod.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? '';
}

/** True when the pod carries its identity (name labels, hostname, subdomain). */
export function identityMatches(set: StatefulSet, pod: Pod, ord: number): boolean {
  const name = podName(set, ord);
  const labels = pod.metadata?.labels ?? {};
  const svc = set.spec?.serviceName ?? '';
  return (
    pod.metadata?.name === name &&
    labels[POD_NAME_LABEL] === name &&
    labels[POD_INDEX_LABEL] === String(ord) &&
    (pod.spec?.hostname ?? '') === name &&
    (pod.spec?.subdomain ?? '') === svc
  );
}

/** Stamps the identity on pod (updateIdentity + updateStorage's labels). */
export function setIdentity(set: StatefulSet, pod: Pod, ord: number): void {
  const name = podName(set, ord);
  pod.metadata ??= {};
  pod.metadata.labels = {
    ...(pod.metadata.labels ?? {}),
    [POD_NAME_LABEL]: name,
    [POD_INDEX_LABEL]: String(ord),
  };
  pod.spec ??= { containers: [] };
  pod.spec.hostname = name;
  const svc = set.spec?.serviceName ?? '';
  if (svc !== '') pod.spec.subdomain = svc;
  else delete pod.spec.subdomain;
}

/** The pod of ordinal `ord` from `template`, labelled with `revision`. */
export function newStatefulSetPod(
  set: StatefulSet,
  template: PodTemplateSpec,
  ord: number,
  revision: string,
): Pod {
  const t = JSON.parse(JSON.stringify(template)) as PodTemplateSpec;
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...(t.metadata ?? {}),
      name: podName(set, ord),
      namespace: set.metadata?.namespace ?? '',
      labels: { ...(t.metadata?.labels ?? {}), [CONTROLLER_REVISION_HASH_LABEL]: revision },
      ownerReferences: [newControllerRef(set, STATEFULSET_GVK)],
    },
    spec: t.spec ?? { containers: [] },
  };
  delete pod.metadata?.creationTimestamp;
  setIdentity(set, pod, ord);
  // Each claim template replaces the template volume of the same name with the pod's PVC.
  const claims = set.spec?.volumeClaimTemplates ?? [];
  if (claims.length > 0 && pod.spec !== undefined) {
    const byName = new Map<string, Volume>();
    for (const v of pod.spec.volumes ?? []) byName.set(v.name, v);
    for (const c of claims) {
      const cn = c.metadata?.name ?? '';
      byName.set(cn, { name: cn, persistentVolumeClaim: { claimName: claimName(cn, set, ord) } });
    }
    pod.spec.volumes = [...byName.values()];
  }
  return pod;
}

/** The PVCs pod `ord` needs, without owner references (getPersistentVolumeClaims). */
export function claimsFor(set: StatefulSet, ord: number): PersistentVolumeClaim[] {
  const matchLabels = set.spec?.selector?.matchLabels ?? {};
  return (set.spec?.volumeClaimTemplates ?? []).map((tpl) => {
    const c = JSON.parse(JSON.stringify(tpl)) as PersistentVolumeClaim;
    const cn = tpl.metadata?.name ?? '';
    c.apiVersion = 'v1';
    c.kind = 'PersistentVolumeClaim';
    c.metadata = {
      ...(c.metadata ?? {}),
      name: claimName(cn, set, ord),
      namespace: set.metadata?.namespace ?? '',
      labels: { ...(c.metadata?.labels ?? {}), ...matchLabels },
    };
    delete c.metadata.creationTimestamp;
    delete c.status;
    return c;
  });
}

function plainRef(apiVersion: string, kind: string, name: string, uid: string): OwnerReference {
  return { apiVersion, kind, name, uid };
}

/**
 * The owner references a claim should carry under the retention policy
 * (updateClaimOwnerRefForSetAndPod): the set's when whenDeleted=Delete, the pod's when
 * whenScaled=Delete and the pod is scaled away. Other owners are kept.
 */
export function claimOwnerRefs(
  set: StatefulSet,
  claim: PersistentVolumeClaim,
  pod: Pod | undefined,
  ord: number,
): OwnerReference[] {
  const policy = set.spec?.persistentVolumeClaimRetentionPolicy;
  const whenDeleted = policy?.whenDeleted ?? 'Retain';
  const whenScaled = policy?.whenScaled ?? 'Retain';
  const setUID = set.metadata?.uid ?? '';
  const podUID = pod?.metadata?.uid ?? '';
  const refs = (claim.metadata?.ownerReferences ?? []).filter(
    (r) =>
      !(r.kind === 'StatefulSet' && r.uid === setUID) &&
      !(r.kind === 'Pod' && r.uid === podUID && podUID !== ''),
  ) as OwnerReference[];
  if (whenDeleted === 'Delete')
    refs.push(plainRef('apps/v1', 'StatefulSet', set.metadata?.name ?? '', setUID));
  if (whenScaled === 'Delete' && pod !== undefined && podUID !== '' && !ordinalInRange(set, ord)) {
    refs.push(plainRef('v1', 'Pod', pod.metadata?.name ?? '', podUID));
  }
  return refs;
}

/** True when two owner-reference lists name the same owners. */
export function sameOwnerRefs(a: OwnerReference[] | undefined, b: OwnerReference[] | undefined): boolean {
  const key = (l: OwnerReference[] | undefined): string =>
    (l ?? [])
      .map((r) => `${r.kind}/${r.uid}`)
      .sort()
      .join(',');
  return key(a) === key(b);
}
