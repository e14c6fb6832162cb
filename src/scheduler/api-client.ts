// The SchedulerClient over the API (upstream's scheduler writes through client-go): bindings
// through the pods/binding subresource, PodScheduled conditions and nominations as
// strategic-merge patches of pods/status, preemption victims deleted with their own grace
// period, Events through the event recorder, and the selected-node annotation on
// WaitForFirstConsumer claims.
//
// The scheduling loop starts binding cycles without waiting for them, so a burst of pods
// could open one connection per in-flight request; writes here pass through a small
// semaphore so the API server sees a bounded number of concurrent scheduler requests.

import type {
  Binding,
  ObjectReference,
  PersistentVolumeClaim,
  Pod,
  PodCondition,
} from '../api/generated/types/core-v1.js';
import { EventBroadcaster, type EventRecorder } from '../client/events.js';
import { type Client, gvr, type ResourceClient } from '../client/interface.js';
import { type Logger, noopLogger } from '../client/log.js';
import { PERSISTENTVOLUMECLAIMS, PODS } from '../client/resources.js';
import type { EventType, SchedulerClient } from './client.js';
import { DEFAULT_SCHEDULER_NAME } from './config.js';

/** The annotation VolumeBinding sets on a delayed-binding claim. */
export const SELECTED_NODE_ANNOTATION = 'volume.kubernetes.io/selected-node';

const BINDINGS = gvr<Binding>('', 'v1', 'pods');

/** Options of ApiSchedulerClient. */
export interface ApiSchedulerClientOptions {
  client: Client;
  /** Writes events; one is created (and owned) when absent. */
  broadcaster?: EventBroadcaster;
  /** Most API writes in flight at once (default 64). */
  maxInFlight?: number;
  /** The instance name stamped on events as `source.host`/`reportingInstance`. */
  instance?: string;
  logger?: Logger;
}

/** A SchedulerClient writing through the REST client. */
export class ApiSchedulerClient implements SchedulerClient {
  private readonly pods: ResourceClient<Pod>;
  private readonly bindings: ResourceClient<Binding>;
  private readonly pvcs: ResourceClient<PersistentVolumeClaim>;
  private readonly broadcaster: EventBroadcaster;
  private readonly ownsBroadcaster: boolean;
  private readonly recorders = new Map<string, EventRecorder>();
  private readonly instance: string;
  private readonly maxInFlight: number;
  private inFlight = 0;
  private readonly waiters: Array<() => void> = [];

  /** A client over `opts.client`. */
  constructor(opts: ApiSchedulerClientOptions) {
    this.pods = opts.client.resource(PODS);
    this.bindings = opts.client.resource(BINDINGS);
    this.pvcs = opts.client.resource(PERSISTENTVOLUMECLAIMS);
    this.ownsBroadcaster = opts.broadcaster === undefined;
    this.broadcaster =
      opts.broadcaster ?? new EventBroadcaster({ client: opts.client, logger: opts.logger ?? noopLogger });
    this.instance = opts.instance ?? '';
    this.maxInFlight = Math.max(1, opts.maxInFlight ?? 64);
  }

  async bind(pod: Pod, nodeName: string): Promise<void> {
    const m = pod.metadata ?? {};
    const binding: Binding = {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name: m.name ?? '', namespace: m.namespace ?? '', ...(m.uid ? { uid: m.uid } : {}) },
      target: { kind: 'Node', name: nodeName },
    };
    await this.limit(() => this.bindings.create(m.namespace ?? '', binding, { subresource: 'binding' }));
  }

  async updatePodCondition(pod: Pod, condition: PodCondition): Promise<void> {
    const old = pod.status?.conditions?.find((c) => c.type === condition.type);
    const next: PodCondition = { ...condition };
    // As podutil.UpdatePodCondition: the transition time moves only when the status does,
    // and a condition that would not change is not written at all.
    if (old !== undefined && old.status === next.status && old.lastTransitionTime !== undefined)
      next.lastTransitionTime = old.lastTransitionTime;
    if (old !== undefined && sameCondition(old, next)) return;
    // Strategic merge on status.conditions merges by `type`: only this condition is replaced.
    await this.patchStatus(pod, { status: { conditions: [next] } });
  }

  async setNominatedNodeName(pod: Pod, nodeName: string): Promise<void> {
    await this.patchStatus(pod, { status: { nominatedNodeName: nodeName === '' ? null : nodeName } });
  }

  async deletePod(pod: Pod): Promise<void> {
    const m = pod.metadata ?? {};
    const grace = pod.spec?.terminationGracePeriodSeconds;
    await this.limit(() =>
      this.pods.delete(m.namespace ?? '', m.name ?? '', {
        ...(grace !== undefined ? { gracePeriodSeconds: grace } : {}),
        // Never delete a newer pod that reused the victim's name.
        ...(m.uid ? { preconditions: { uid: m.uid } } : {}),
      }),
    );
  }

  recordEvent(pod: Pod, type: EventType, reason: string, message: string): void {
    this.recorderFor(pod.spec?.schedulerName || DEFAULT_SCHEDULER_NAME).event(
      podReference(pod),
      type,
      reason,
      message,
    );
  }

  async setSelectedNode(pvc: PersistentVolumeClaim, nodeName: string): Promise<void> {
    const m = pvc.metadata ?? {};
    await this.limit(() =>
      this.pvcs.patch(m.namespace ?? '', m.name ?? '', 'merge', {
        metadata: { annotations: { [SELECTED_NODE_ANNOTATION]: nodeName } },
      }),
    );
  }

  /** Waits for queued events to be written. */
  async flushEvents(): Promise<void> {
    await this.broadcaster.flush();
  }

  /** Writes the queued events and stops the broadcaster when this client created it. */
  async close(): Promise<void> {
    if (this.ownsBroadcaster) await this.broadcaster.shutdown();
  }

  // Upstream keeps one recorder per profile, named after its schedulerName, so events of a
  // second profile show that profile as their source.
  private recorderFor(component: string): EventRecorder {
    let r = this.recorders.get(component);
    if (r === undefined) {
      r = this.broadcaster.newRecorder({
        component,
        ...(this.instance !== '' ? { host: this.instance } : {}),
      });
      this.recorders.set(component, r);
    }
    return r;
  }

  private async patchStatus(pod: Pod, body: unknown): Promise<void> {
    const m = pod.metadata ?? {};
    await this.limit(() =>
      this.pods.patch(m.namespace ?? '', m.name ?? '', 'strategic', body, { subresource: 'status' }),
    );
  }

  private async limit<R>(fn: () => Promise<R>): Promise<R> {
    if (this.inFlight >= this.maxInFlight) await new Promise<void>((r) => this.waiters.push(r));
    else this.inFlight++;
    try {
      return await fn();
    } finally {
      // Hand the slot straight to the next waiter (inFlight stays the same) or release it.
      const next = this.waiters.shift();
      if (next !== undefined) next();
      else this.inFlight--;
    }
  }
}

/** The involvedObject of an event about a pod (cached list items carry no kind). */
export function podReference(pod: Pod): ObjectReference {
  const m = pod.metadata ?? {};
  const ref: ObjectReference = { kind: 'Pod', apiVersion: 'v1' };
  if (m.namespace !== undefined) ref.namespace = m.namespace;
  if (m.name !== undefined) ref.name = m.name;
  if (m.uid !== undefined) ref.uid = m.uid;
  if (m.resourceVersion !== undefined) ref.resourceVersion = m.resourceVersion;
  return ref;
}

function sameCondition(a: PodCondition, b: PodCondition): boolean {
  return (
    a.status === b.status &&
    (a.reason ?? '') === (b.reason ?? '') &&
    (a.message ?? '') === (b.message ?? '') &&
    (a.lastProbeTime ?? '') === (b.lastProbeTime ?? '') &&
    (a.lastTransitionTime ?? '') === (b.lastTransitionTime ?? '')
  );
}
