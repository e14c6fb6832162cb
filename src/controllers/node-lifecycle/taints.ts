// Taints and tolerations as the node lifecycle controller and the taint eviction
// controller use them: which taints a node's conditions call for (TaintNodesByCondition
// and the NoExecute taints of taint-based eviction), and upstream's toleration matching.
import type { Node, NodeCondition, Pod, Taint, Toleration } from '../../api/generated/types/core-v1.js';

/** `node.kubernetes.io/not-ready`: Ready is False. */
export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
/** `node.kubernetes.io/unreachable`: Ready is Unknown. */
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
/** `node.kubernetes.io/unschedulable`: spec.unschedulable. */
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';

/** Condition (type, status) → NoSchedule taint key (upstream nodeConditionToTaintKeyStatusMap). */
const CONDITION_TAINTS: Array<{ type: string; status: string; key: string }> = [
  { type: 'Ready', status: 'False', key: TAINT_NOT_READY },
  { type: 'Ready', status: 'Unknown', key: TAINT_UNREACHABLE },
  { type: 'MemoryPressure', status: 'True', key: 'node.kubernetes.io/memory-pressure' },
  { type: 'DiskPressure', status: 'True', key: 'node.kubernetes.io/disk-pressure' },
  { type: 'NetworkUnavailable', status: 'True', key: 'node.kubernetes.io/network-unavailable' },
  { type: 'PIDPressure', status: 'True', key: 'node.kubernetes.io/pid-pressure' },
];

/** Every taint key this controller manages (others on the node are left alone). */
export const MANAGED_TAINT_KEYS = new Set([...CONDITION_TAINTS.map((c) => c.key), TAINT_UNSCHEDULABLE]);

/** The node's condition of a type. */
export function nodeCondition(node: Node, type: string): NodeCondition | undefined {
  return node.status?.conditions?.find((c) => c.type === type);
}

/** The managed taints a node's status and spec call for (NoSchedule and NoExecute). */
export function desiredTaints(node: Node): Array<{ key: string; effect: string }> {
  const out: Array<{ key: string; effect: string }> = [];
  for (const c of CONDITION_TAINTS) {
    if (nodeCondition(node, c.type)?.status === c.status) out.push({ key: c.key, effect: 'NoSchedule' });
  }
  if (node.spec?.unschedulable === true) out.push({ key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' });
  const ready = nodeCondition(node, 'Ready')?.status;
  if (ready === 'False') out.push({ key: TAINT_NOT_READY, effect: 'NoExecute' });
  if (ready === 'Unknown') out.push({ key: TAINT_UNREACHABLE, effect: 'NoExecute' });
  return out;
}

/**
 * The node's taints with the managed ones replaced by `want`; existing taints keep their
 * timeAdded, new NoExecute taints get `now`. Undefined when nothing changes.
 */
export function reconcileTaints(
  node: Node,
  want: Array<{ key: string; effect: string }>,
  now: string,
): Taint[] | undefined {
  const current = node.spec?.taints ?? [];
  const same = (t: Taint, w: { key: string; effect: string }): boolean =>
    t.key === w.key && t.effect === w.effect;
  const keep = current.filter((t) => !MANAGED_TAINT_KEYS.has(t.key) || want.some((w) => same(t, w)));
  const add = want
    .filter((w) => !current.some((t) => same(t, w)))
    .map((w): Taint => (w.effect === 'NoExecute' ? { ...w, timeAdded: now } : { ...w }));
  if (add.length === 0 && keep.length === current.length) return undefined;
  return [...keep, ...add];
}

/** True when the toleration tolerates the taint (upstream Toleration.ToleratesTaint). */
export function toleratesTaint(tol: Toleration, taint: Taint): boolean {
  if ((tol.effect ?? '') !== '' && tol.effect !== taint.effect) return false;
  if ((tol.key ?? '') !== '' && tol.key !== taint.key) return false;
  switch (tol.operator ?? 'Equal') {
    case 'Exists':
      return true;
    case 'Equal':
      return (tol.value ?? '') === (taint.value ?? '');
    default:
      return false;
  }
}

/**
 * How long the pod may stay on a node with these NoExecute taints: 0 when some taint is
 * not tolerated, Infinity when all are tolerated forever, else the smallest
 * tolerationSeconds among the tolerations used (upstream getMinTolerationTime).
 */
export function minTolerationMs(pod: Pod, taints: Taint[]): number {
  const tolerations = pod.spec?.tolerations ?? [];
  let min = Number.POSITIVE_INFINITY;
  for (const taint of taints) {
    const used = tolerations.filter((t) => toleratesTaint(t, taint));
    if (used.length === 0) return 0;
    for (const t of used) {
      if (t.tolerationSeconds === undefined || t.tolerationSeconds === null) continue;
      min = Math.min(min, Math.max(0, t.tolerationSeconds) * 1000);
    }
  }
  return min;
}
