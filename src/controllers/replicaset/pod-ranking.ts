// Which pods a ReplicaSet deletes first when it scales down (upstream's
// ActivePodsWithRanks), plus the pod predicates the ReplicaSet status needs. The order
// prefers losing the least: pods not yet scheduled, then not running, then not ready, then
// cheap ones (pod-deletion-cost), then pods doubled up on a node with their siblings, then
// the most recently ready, the most restarted, and the newest — with upstream's
// logarithmic bucketing of ages (LogarithmicScaleDown, on by default), so pods of similar
// age are treated alike and ties fall back to the uid.
import type { Pod } from '../../api/generated/types/core-v1.js';
import { parseTimestamp } from '../../machinery/object-meta.js';

/** The annotation that orders pods for deletion (lower cost goes first). */
export const POD_DELETION_COST_ANNOTATION = 'controller.kubernetes.io/pod-deletion-cost';

/** True for a pod that counts as a replica: not terminal and not being deleted. */
export function isPodActive(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && pod.metadata?.deletionTimestamp === undefined;
}

/** Pods that count as replicas (upstream FilterActivePods). */
export function filterActivePods(pods: readonly Pod[]): Pod[] {
  return pods.filter(isPodActive);
}

/** The pod's Ready condition, if any. */
export function podReadyCondition(pod: Pod): { status: string; lastTransitionTime?: string } | undefined {
  return pod.status?.conditions?.find((c) => c.type === 'Ready');
}

/** True when the pod's Ready condition is True. */
export function isPodReady(pod: Pod): boolean {
  return podReadyCondition(pod)?.status === 'True';
}

/** True when the pod has been ready for at least minReadySeconds at `nowMs`. */
export function isPodAvailable(pod: Pod, minReadySeconds: number, nowMs: number): boolean {
  const c = podReadyCondition(pod);
  if (c?.status !== 'True') return false;
  if (minReadySeconds <= 0) return true;
  const since = parseTimestamp(c.lastTransitionTime);
  return since !== undefined && since + minReadySeconds * 1000 <= nowMs;
}

/** The pod-deletion-cost annotation as an int32 (0 when absent or invalid). */
export function podDeletionCost(pod: Pod): number {
  const v = pod.metadata?.annotations?.[POD_DELETION_COST_ANNOTATION];
  if (v === undefined || !/^[+-]?\d+$/.test(v.trim())) return 0;
  const n = Number(v.trim());
  return n >= -2147483648 && n <= 2147483647 ? n : 0;
}

const PHASE_ORDINAL: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

function phaseOrdinal(pod: Pod): number {
  return PHASE_ORDINAL[pod.status?.phase ?? ''] ?? 0;
}

function maxRestarts(pod: Pod): { regular: number; sidecar: number } {
  let regular = 0;
  for (const c of pod.status?.containerStatuses ?? []) regular = Math.max(regular, c.restartCount ?? 0);
  const sidecars = new Set(
    (pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always').map((c) => c.name),
  );
  let sidecar = 0;
  for (const c of pod.status?.initContainerStatuses ?? []) {
    if (sidecars.has(c.name)) sidecar = Math.max(sidecar, c.restartCount ?? 0);
  }
  return { regular, sidecar };
}

// Go's time.Duration is in nanoseconds; ranks are floor(log2(age in ns)), -1 for no age.
function logRank(t: number, now: number): number {
  const d = (now - t) * 1e6;
  return d > 0 ? Math.floor(Math.log2(d)) : -1;
}

// afterOrZero: a missing time sorts first, otherwise the later time sorts first.
function afterOrZero(a: number | undefined, b: number | undefined): boolean {
  if (a === undefined || b === undefined) return a === undefined;
  return a > b;
}

function compareTimes(
  a: number | undefined,
  b: number | undefined,
  now: number,
  ua: string,
  ub: string,
): boolean | undefined {
  if (a === b) return undefined;
  if (a === undefined || b === undefined) return afterOrZero(a, b);
  const diff = logRank(a, now) - logRank(b, now);
  if (diff === 0) return ua < ub;
  return diff < 0;
}

/** A pod with its rank (active sibling pods on the same node). */
export interface RankedPod {
  pod: Pod;
  rank: number;
}

/** True when `i` should be deleted before `j` (upstream ActivePodsWithRanks.Less). */
export function deleteBefore(i: RankedPod, j: RankedPod, now: number): boolean {
  const pi = i.pod;
  const pj = j.pod;
  const ni = pi.spec?.nodeName ?? '';
  const nj = pj.spec?.nodeName ?? '';
  if (ni !== nj && (ni === '' || nj === '')) return ni === '';
  const oi = phaseOrdinal(pi);
  const oj = phaseOrdinal(pj);
  if (oi !== oj) return oi < oj;
  const ri = isPodReady(pi);
  const rj = isPodReady(pj);
  if (ri !== rj) return !ri;
  const ci = podDeletionCost(pi);
  const cj = podDeletionCost(pj);
  if (ci !== cj) return ci < cj;
  if (i.rank !== j.rank) return i.rank > j.rank;
  const ui = pi.metadata?.uid ?? '';
  const uj = pj.metadata?.uid ?? '';
  if (ri && rj) {
    const r = compareTimes(
      parseTimestamp(podReadyCondition(pi)?.lastTransitionTime),
      parseTimestamp(podReadyCondition(pj)?.lastTransitionTime),
      now,
      ui,
      uj,
    );
    if (r !== undefined) return r;
  }
  const mi = maxRestarts(pi);
  const mj = maxRestarts(pj);
  if (mi.regular !== mj.regular) return mi.regular > mj.regular;
  if (mi.sidecar !== mj.sidecar) return mi.sidecar > mj.sidecar;
  const r = compareTimes(
    parseTimestamp(pi.metadata?.creationTimestamp),
    parseTimestamp(pj.metadata?.creationTimestamp),
    now,
    ui,
    uj,
  );
  return r ?? false;
}

/**
 * The `diff` pods to delete from `pods` (upstream getPodsToDelete): ranked by how many
 * active `related` pods (siblings under the same owner) share their node.
 */
export function getPodsToDelete(
  pods: readonly Pod[],
  related: readonly Pod[],
  diff: number,
  now: number,
): Pod[] {
  if (diff >= pods.length) return pods.slice(0, diff);
  const onNode = new Map<string, number>();
  for (const p of related) {
    if (!isPodActive(p)) continue;
    const n = p.spec?.nodeName ?? '';
    onNode.set(n, (onNode.get(n) ?? 0) + 1);
  }
  const ranked: RankedPod[] = pods.map((pod) => ({ pod, rank: onNode.get(pod.spec?.nodeName ?? '') ?? 0 }));
  // A stable sort with a strict-weak "less", as Go's sort.Sort is used upstream.
  ranked.sort((a, b) => (deleteBefore(a, b, now) ? -1 : deleteBefore(b, a, now) ? 1 : 0));
  return ranked.slice(0, diff).map((r) => r.pod);
}
