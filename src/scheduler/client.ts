// What the scheduler writes to the API, as one small interface so the core is tested and
// benchmarked without a server. The wiring step implements it with the REST client
// (pods/binding, pods/status, events); RecordingSchedulerClient is the in-memory fake.

import type { PersistentVolumeClaim, Pod, PodCondition } from '../api/generated/types/core-v1.js';

/** Event types, as core/v1 Event.type. */
export type EventType = 'Normal' | 'Warning';

/** The scheduler's writes. Every method may reject with the API error. */
export interface SchedulerClient {
  /** POST pods/binding: assigns the pod to the node. */
  bind(pod: Pod, nodeName: string): Promise<void>;
  /** Sets (adds or replaces by type) a condition in the pod's status. */
  updatePodCondition(pod: Pod, condition: PodCondition): Promise<void>;
  /** Sets status.nominatedNodeName; '' clears it. */
  setNominatedNodeName(pod: Pod, nodeName: string): Promise<void>;
  /** Deletes a pod (a preemption victim). */
  deletePod(pod: Pod): Promise<void>;
  /** Records an Event about the pod (fire and forget, like upstream's recorder). */
  recordEvent(pod: Pod, type: EventType, reason: string, message: string): void;
  /**
   * Annotates a WaitForFirstConsumer claim with `volume.kubernetes.io/selected-node` so the
   * provisioner creates its volume there; optional (without it delayed binding only checks).
   */
  setSelectedNode?(pvc: PersistentVolumeClaim, nodeName: string): Promise<void>;
}

/** One recorded call of RecordingSchedulerClient. */
export type RecordedCall =
  | { verb: 'bind'; pod: string; node: string }
  | { verb: 'condition'; pod: string; condition: PodCondition }
  | { verb: 'nominate'; pod: string; node: string }
  | { verb: 'delete'; pod: string }
  | { verb: 'event'; pod: string; type: EventType; reason: string; message: string }
  | { verb: 'selectedNode'; pvc: string; node: string };

function nameOf(o: { metadata?: { namespace?: string; name?: string } }): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

/** An in-memory SchedulerClient that records every call; failures are injectable. */
export class RecordingSchedulerClient implements SchedulerClient {
  /** Calls in order (events included unless `recordEvents` is false). */
  readonly calls: RecordedCall[] = [];
  /** Bindings by pod namespace/name. */
  readonly bindings = new Map<string, string>();
  /** Set to make bind() reject (per pod namespace/name, or '*' for all). */
  readonly failBind = new Map<string, Error>();
  /** Called after every successful bind (tests feed the pod back as an informer would). */
  onBind: ((pod: Pod, nodeName: string) => void) | undefined;
  /** Keep the calls list (benchmarks turn it off to measure the scheduler, not the array). */
  record = true;

  async bind(pod: Pod, nodeName: string): Promise<void> {
    const key = nameOf(pod);
    const err = this.failBind.get(key) ?? this.failBind.get('*');
    if (err !== undefined) throw err;
    this.bindings.set(key, nodeName);
    if (this.record) this.calls.push({ verb: 'bind', pod: key, node: nodeName });
    this.onBind?.(pod, nodeName);
  }

  async updatePodCondition(pod: Pod, condition: PodCondition): Promise<void> {
    if (this.record) this.calls.push({ verb: 'condition', pod: nameOf(pod), condition });
  }

  async setNominatedNodeName(pod: Pod, nodeName: string): Promise<void> {
    if (this.record) this.calls.push({ verb: 'nominate', pod: nameOf(pod), node: nodeName });
  }

  async deletePod(pod: Pod): Promise<void> {
    if (this.record) this.calls.push({ verb: 'delete', pod: nameOf(pod) });
  }

  recordEvent(pod: Pod, type: EventType, reason: string, message: string): void {
    if (this.record) this.calls.push({ verb: 'event', pod: nameOf(pod), type, reason, message });
  }

  async setSelectedNode(pvc: PersistentVolumeClaim, nodeName: string): Promise<void> {
    if (this.record) this.calls.push({ verb: 'selectedNode', pvc: nameOf(pvc), node: nodeName });
  }

  /** The recorded events (reason and message). */
  events(): { pod: string; type: EventType; reason: string; message: string }[] {
    const out: { pod: string; type: EventType; reason: string; message: string }[] = [];
    for (const c of this.calls) if (c.verb === 'event') out.push(c);
    return out;
  }
}
