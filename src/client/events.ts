// Recording core/v1 Events (client-go tools/record). A recorder turns
// `event(obj, 'Warning', 'FailedCreate', msg)` into an Event and hands it to the
// broadcaster, which never blocks the caller: events go into a bounded queue (dropped when
// full, as upstream's 1000-entry channel drops) and one background writer correlates
// them (event-correlator.ts: spam filter, similar-event aggregation, count updates) and
// writes them in order, creating new Events or patching the count of existing ones.
import type { Event, EventSource, ObjectReference } from '../api/generated/types/core-v1.js';
import { formatTimestamp } from '../machinery/object-meta.js';
import { isNotFound } from '../machinery/status-error.js';
import { type Clock, realClock } from './clock.js';
import { type CorrelationResult, EventCorrelator } from './event-correlator.js';
import type { Client, KubeObject, ResourceClient } from './interface.js';
import { errorText, type Logger, noopLogger } from './log.js';
import { EVENTS } from './resources.js';

/** Event types. */
export type EventType = 'Normal' | 'Warning';

/** Emits events about objects. */
export interface EventRecorder {
  /** Records an event about obj (an object or a reference to one). */
  event(obj: KubeObject | ObjectReference, type: EventType, reason: string, message: string): void;
  /** Same, with annotations on the Event. */
  annotatedEvent(
    obj: KubeObject | ObjectReference,
    annotations: Record<string, string>,
    type: EventType,
    reason: string,
    message: string,
  ): void;
}

/** Options of an EventBroadcaster. */
export interface EventBroadcasterOptions {
  client: Client;
  clock?: Clock;
  logger?: Logger;
  /** Most events waiting to be written (default 1000). */
  maxQueued?: number;
  /** Write attempts per event (default 3). */
  maxAttempts?: number;
  /**
   * Awaited before each write: lets the component's own urgent requests go first (the
   * kubelet's status writes during a burst of pod starts); it must resolve in bounded time.
   */
  yieldTo?: () => Promise<void>;
}

const MAX_QUEUED = 1000;

/** A reference to an object for `involvedObject`. */
export function objectReference(obj: KubeObject | ObjectReference): ObjectReference {
  if (!('metadata' in obj) || obj.metadata === undefined) return { ...(obj as ObjectReference) };
  const o = obj as KubeObject;
  const m = o.metadata ?? {};
  const ref: ObjectReference = {};
  if (o.kind !== undefined) ref.kind = o.kind;
  if (m.namespace !== undefined && m.namespace !== '') ref.namespace = m.namespace;
  if (m.name !== undefined) ref.name = m.name;
  if (m.uid !== undefined) ref.uid = m.uid;
  if (o.apiVersion !== undefined) ref.apiVersion = o.apiVersion;
  if (m.resourceVersion !== undefined) ref.resourceVersion = m.resourceVersion;
  return ref;
}

/** Writes events for any number of recorders through one queue. */
export class EventBroadcaster {
  private readonly events: ResourceClient<Event>;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly correlator: EventCorrelator;
  private readonly queue: Event[] = [];
  private readonly yieldTo: (() => Promise<void>) | undefined;
  private readonly maxQueued: number;
  private readonly maxAttempts: number;
  private draining: Promise<void> | undefined;
  private stopped = false;
  /** Aborts the write in flight once shutdown's grace is over. */
  private readonly abort = new AbortController();
  private seq = 0;

  /** A broadcaster writing through `opts.client`. */
  constructor(opts: EventBroadcasterOptions) {
    this.events = opts.client.resource(EVENTS);
    this.clock = opts.clock ?? realClock;
    this.log = opts.logger ?? noopLogger;
    this.maxQueued = opts.maxQueued ?? MAX_QUEUED;
    this.maxAttempts = opts.maxAttempts ?? 3;
    this.yieldTo = opts.yieldTo;
    this.correlator = new EventCorrelator(this.clock, (base) => this.eventName(base));
  }

  /** A recorder stamping `source` (component, host) on its events. */
  newRecorder(source: EventSource): EventRecorder {
    const make = (
      obj: KubeObject | ObjectReference,
      annotations: Record<string, string> | undefined,
      type: EventType,
      reason: string,
      message: string,
    ): void => {
      if (type !== 'Normal' && type !== 'Warning') {
        this.log.error('unsupported event type', { type, reason });
        return;
      }
      const ref = objectReference(obj);
      const now = formatTimestamp(this.clock.now());
      const event: Event = {
        metadata: {
          name: this.eventName(ref.name ?? ''),
          namespace: ref.namespace ?? 'default',
          ...(annotations !== undefined ? { annotations: { ...annotations } } : {}),
        },
        involvedObject: ref,
        reason,
        message,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
        type,
        source: { ...source },
        reportingComponent: source.component ?? '',
        reportingInstance: source.host ?? '',
      };
      this.enqueue(event);
    };
    return {
      event: (obj, type, reason, message) => make(obj, undefined, type, reason, message),
      annotatedEvent: (obj, annotations, type, reason, message) =>
        make(obj, annotations, type, reason, message),
    };
  }

  /** Resolves once every queued event has been written (or given up on). */
  async flush(): Promise<void> {
    while (this.draining !== undefined) await this.draining;
  }

  /**
   * Stops accepting events and waits for the queued ones to be written, for at most
   * `graceMs`: what is still queued then is dropped and the write in flight aborted, as
   * upstream's broadcaster drops its queue on Shutdown. Without the bound, a component
   * stopping after its API server (a test, a bench, a server going down) would retry
   * hundreds of queued events against a closed port.
   */
  async shutdown(graceMs = 2000): Promise<void> {
    this.stopped = true;
    if (this.draining === undefined) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), graceMs);
    });
    const timedOut = await Promise.race([this.flush().then(() => false), expired]);
    clearTimeout(timer);
    if (!timedOut) return;
    if (this.queue.length > 0)
      this.log.error('dropping queued events at shutdown', { count: this.queue.length });
    this.queue.length = 0;
    this.abort.abort();
    await this.flush();
  }

  private enqueue(event: Event): void {
    if (this.stopped) return;
    if (this.queue.length >= this.maxQueued) {
      this.log.error('event queue full; dropping event', {
        reason: event.reason,
        object: event.involvedObject.name,
      });
      return;
    }
    this.queue.push(event);
    if (this.draining === undefined) {
      this.draining = this.drain().finally(() => {
        this.draining = undefined;
      });
    }
  }

  // One writer, in order: correlation depends on the previous write's result.
  private async drain(): Promise<void> {
    // Yield first so a burst of events from one sync is batched into this drain.
    await Promise.resolve();
    for (;;) {
      const event = this.queue.shift();
      if (event === undefined) return;
      if (this.yieldTo !== undefined && !this.stopped) await this.yieldTo();
      const result = this.correlator.correlate(event);
      if (result.skip) continue;
      await this.write(result);
    }
  }

  private async write(r: CorrelationResult): Promise<void> {
    const ns = r.event.metadata.namespace ?? 'default';
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      try {
        let written: Event;
        if (r.patch !== undefined) {
          try {
            written = await this.events.patch(ns, r.event.metadata.name ?? '', 'strategic', r.patch, {
              signal: this.abort.signal,
            });
          } catch (err) {
            if (!isNotFound(err)) throw err;
            // The Event was deleted (TTL): start a new one, keeping the count.
            const fresh: Event = { ...r.event, metadata: { ...r.event.metadata } };
            delete fresh.metadata.resourceVersion;
            written = await this.events.create(ns, fresh, { signal: this.abort.signal });
          }
        } else {
          written = await this.events.create(ns, r.event, { signal: this.abort.signal });
        }
        this.correlator.written(written, r.key);
        return;
      } catch (err) {
        if (this.abort.signal.aborted) return;
        this.log.error('unable to write event', {
          event: r.event.metadata.name,
          attempt,
          error: errorText(err),
        });
        // A namespace being deleted or an invalid event will not improve with retries.
        const code = (err as { code?: unknown }).code;
        if (code === 403 || code === 422 || code === 409) {
          this.correlator.forget(r.key);
          return;
        }
        if (attempt < this.maxAttempts) await this.clock.sleep(100 * 2 ** attempt).catch(() => {});
      }
    }
    this.correlator.forget(r.key);
  }

  // `<name>.<unix nanoseconds in hex>` as upstream; a counter keeps names unique within a ms.
  private eventName(base: string): string {
    const nanos = BigInt(this.clock.now()) * 1_000_000n + BigInt(this.seq++ % 1_000_000);
    return `${base}.${nanos.toString(16)}`;
  }
}
