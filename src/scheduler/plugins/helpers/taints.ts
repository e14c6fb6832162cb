// Taint/toleration matching (upstream's v1helper.TolerationsTolerateTaint and
// FindMatchingUntoleratedTaint), shared by TaintToleration, NodeUnschedulable and
// PodTopologySpread's nodeTaintsPolicy.

import type { Taint, Toleration } from '../../../api/generated/types/core-v1.js';

/** True when the toleration tolerates the taint. */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect !== undefined && t.effect !== '' && t.effect !== taint.effect) return false;
  if (t.key !== undefined && t.key !== '' && t.key !== taint.key) return false;
  switch (t.operator ?? '') {
    case '':
    case 'Equal':
      return (t.value ?? '') === (taint.value ?? '');
    case 'Exists':
      return true;
    default:
      return false;
  }
}

/** True when any toleration tolerates the taint. */
export function tolerationsTolerateTaint(tols: readonly Toleration[] | undefined, taint: Taint): boolean {
  if (tols === undefined) return false;
  for (const t of tols) if (toleratesTaint(t, taint)) return true;
  return false;
}

/** The first taint passing `filter` that no toleration tolerates. */
export function findMatchingUntoleratedTaint(
  taints: readonly Taint[] | undefined,
  tols: readonly Toleration[] | undefined,
  filter: (t: Taint) => boolean,
): Taint | undefined {
  if (taints === undefined) return undefined;
  for (const taint of taints) {
    if (!filter(taint)) continue;
    if (!tolerationsTolerateTaint(tols, taint)) return taint;
  }
  return undefined;
}

/** NoSchedule and NoExecute taints block scheduling. */
export function isScheduleBlockingTaint(t: Taint): boolean {
  return t.effect === 'NoSchedule' || t.effect === 'NoExecute';
}
