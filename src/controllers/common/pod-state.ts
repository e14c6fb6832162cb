// Reading a pod's state as workload controllers do (upstream podutil): phase and
// conditions decide whether a pod is active, ready or available, and which pod to keep
// when scaling down.
import type { Pod, PodCondition } from '../../api/generated/types/core-v1.js';
import { parseTimestamp } from '../../machinery/object-meta.js';

/** The pod's condition of a type, if any. */
export function podCondition(pod: Pod, type: string): PodCondition | undefined {
  return (pod.status?.conditions ?? []).find((c) => c.type === type);
}

/** True when the Ready condition is True. */
export function isPodReady(pod: Pod): boolean {
  return podCondition(pod, 'Ready')?.status === 'True';
}

/** True when ready for at least minReadySeconds (podutil.IsPodAvailable). */
export function isPodAvailable(pod: Pod, minReadySeconds: number, now: number): boolean {
  const c = podCondition(pod, 'Ready');
  if (c?.status !== 'True') return false;
  if (minReadySeconds <= 0) return true;
  const since = parseTimestamp(c.lastTransitionTime);
  return since !== undefined && since + minReadySeconds * 1000 <= now;
}

/** Succeeded or Failed. */
export function isPodTerminal(pod: Pod): boolean {
  const p = pod.status?.phase;
  return p === 'Succeeded' || p === 'Failed';
}

/** Not terminal and not being deleted (controller.IsPodActive). */
export function isPodActive(pod: Pod): boolean {
  return !isPodTerminal(pod) && (pod.metadata?.deletionTimestamp ?? '') === '';
}

/** Being deleted but not yet terminal. */
export function isPodTerminating(pod: Pod): boolean {
  return (pod.metadata?.deletionTimestamp ?? '') !== '' && !isPodTerminal(pod);
}

/** Running and Ready (what OrderedReady waits for). */
export function isRunningAndReady(pod: Pod): boolean {
  return pod.status?.phase === 'Running' && isPodReady(pod);
}
