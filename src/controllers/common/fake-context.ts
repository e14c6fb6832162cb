// A ControllerContext over the FakeClient for controller unit tests: a shared informer
// factory on the fake, a recorder that keeps events in memory, and helpers to start the
// informers and wait until the cache has caught up with the fake's writes.
import type { ObjectReference } from '../../api/generated/types/core-v1.js';
import { SharedInformerFactory } from '../../client/cache/informer-factory.js';
import { type Clock, realClock } from '../../client/clock.js';
import type { EventRecorder, EventType } from '../../client/events.js';
import type { KubeObject } from '../../client/interface.js';
import { noopLogger } from '../../client/log.js';
import { FakeClient } from '../../client/testing/fake-client.js';
import { flushMicrotasks } from '../../client/testing/fake-clock.js';
import { type ControllerContext, DEFAULT_CONTROLLER_OPTIONS } from '../types.js';

/** An event the fake recorder kept. */
export interface RecordedEvent {
  object: string;
  type: EventType;
  reason: string;
  message: string;
}

/** A context, its fake client and what it recorded. */
export interface FakeControllerContext {
  ctx: ControllerContext;
  client: FakeClient;
  events: RecordedEvent[];
  /** Starts the informers and waits for their first sync. */
  start(signal: AbortSignal): Promise<void>;
  /** Lets watch events reach the caches. */
  settle(): Promise<void>;
}

/** A fake context on `clock` (the real clock by default). */
export function newFakeControllerContext(
  clock: Clock = realClock,
  client = new FakeClient(),
): FakeControllerContext {
  const informers = new SharedInformerFactory(client, { clock });
  const events: RecordedEvent[] = [];
  const name = (o: KubeObject | ObjectReference): string => {
    const m = 'metadata' in o && o.metadata !== undefined ? o.metadata : (o as ObjectReference);
    return `${m.namespace ?? ''}/${m.name ?? ''}`;
  };
  const recorder: EventRecorder = {
    event: (o, type, reason, message) => events.push({ object: name(o), type, reason, message }),
    annotatedEvent: (o, _a, type, reason, message) => events.push({ object: name(o), type, reason, message }),
  };
  const ctx: ControllerContext = {
    client,
    informers,
    recorder: () => recorder,
    clock,
    log: noopLogger,
    options: { ...DEFAULT_CONTROLLER_OPTIONS, workers: 1 },
  };
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 5; i++) await flushMicrotasks();
  };
  return {
    ctx,
    client,
    events,
    async start(signal) {
      informers.start(signal);
      await informers.waitForCacheSync(signal);
    },
    settle,
  };
}
