// The `endpoints.kubernetes.io/last-change-trigger-time` bookkeeping (upstream's
// TriggerTimeTracker): for each service it remembers the trigger time of every pod it saw
// at the last sync, and reports the earliest trigger time among the pods (and the service)
// that changed since, i.e. the oldest change this write of the endpoints reflects.
import type { Pod, Service } from '../../api/generated/types/core-v1.js';
import { podTriggerTime } from './pod-util.js';

interface ServiceState {
  service: number | undefined;
  pods: Map<string, number>;
}

/** Annotation naming the time of the oldest change an Endpoints/EndpointSlice write reflects. */
export const LAST_CHANGE_TRIGGER_TIME = 'endpoints.kubernetes.io/last-change-trigger-time';

/** Per-service trigger time tracking. */
export class TriggerTimeTracker {
  private readonly state = new Map<string, ServiceState>();

  /** The trigger time of this sync, or undefined when nothing new changed. */
  compute(key: string, service: Service, pods: Pod[]): number | undefined {
    const prev = this.state.get(key);
    const next: ServiceState = { service: serviceTime(service), pods: new Map() };
    let min: number | undefined;
    const consider = (t: number | undefined): void => {
      if (t !== undefined && (min === undefined || t < min)) min = t;
    };
    if (prev === undefined || prev.service !== next.service) consider(next.service);
    for (const pod of pods) {
      const t = podTriggerTime(pod);
      if (t === undefined) continue;
      const name = pod.metadata?.name ?? '';
      next.pods.set(name, t);
      if (prev?.pods.get(name) !== t) consider(t);
    }
    this.state.set(key, next);
    return min;
  }

  /** Forgets a deleted service. */
  forget(key: string): void {
    this.state.delete(key);
  }
}

function serviceTime(svc: Service): number | undefined {
  const t = svc.metadata?.creationTimestamp;
  if (t === undefined) return undefined;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Go's RFC3339Nano rendering of a millisecond time (trailing zero fractions dropped). */
export function rfc3339Nano(ms: number): string {
  return new Date(ms).toISOString().replace(/\.?0+Z$/, 'Z');
}
