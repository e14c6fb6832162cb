// Event correlation as client-go's tools/record/events_cache.go does it, before an Event is
// written:
//
// 1. Spam filter: a token bucket per source + involved object (+ type): 25 events at once,
//    then one per 5 minutes; events beyond that are dropped.
// 2. Aggregation: events that differ only in their message (same source, object, type and
//    reason) within 10 minutes are "similar"; from the 10th distinct message on they are
//    folded into one Event whose message reads `(combined from similar events): <msg>`.
// 3. Observation (the event logger): an event identical to one already written (same
//    object, reason and message) within 10 minutes becomes an update of the existing Event
//    (count + 1, lastTimestamp now, firstTimestamp and name kept) instead of a new object.
import type { Event } from '../api/generated/types/core-v1.js';
import { formatTimestamp } from '../machinery/object-meta.js';
import type { Clock } from './clock.js';
import { TokenBucket } from './token-bucket.js';

/** Upstream's similar-event threshold. */
export const MAX_SIMILAR_EVENTS = 10;
/** The aggregation and observation window (10 minutes). */
export const EVENT_WINDOW_MS = 600_000;
/** Spam filter: burst and refill (one token per 5 minutes). */
export const SPAM_BURST = 25;
export const SPAM_QPS = 1 / 300;
const CACHE_SIZE = 4096;

/** What to do with an event. */
export interface CorrelationResult {
  /** The event to write (possibly aggregated, possibly with count > 1). */
  event: Event;
  /** Set when the event updates an existing Event: the fields to patch. */
  patch?: { count: number; lastTimestamp: string; message: string };
  /** True when the spam filter dropped the event. */
  skip: boolean;
  /** The observation key (pass to `written`/`forget`). */
  key: string;
}

interface Observation {
  count: number;
  firstTimestamp: string;
  name: string;
  resourceVersion: string;
  at: number;
}

interface AggregateRecord {
  localKeys: Set<string>;
  at: number;
}

// A small LRU on Map insertion order.
class Lru<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(k: string): V | undefined {
    const v = this.map.get(k);
    if (v !== undefined) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }
  set(k: string, v: V): void {
    this.map.delete(k);
    this.map.set(k, v);
    if (this.map.size > this.max) {
      const first = this.map.keys().next();
      if (!first.done) this.map.delete(first.value);
    }
  }
  delete(k: string): void {
    this.map.delete(k);
  }
}

function spamKey(e: Event): string {
  const o = e.involvedObject;
  return [e.source?.component, e.source?.host, o.kind, o.namespace, o.name, o.uid, o.apiVersion, e.type].join(
    '',
  );
}

function aggregateKey(e: Event): string {
  const o = e.involvedObject;
  return [
    e.source?.component,
    e.source?.host,
    o.kind,
    o.namespace,
    o.name,
    o.uid,
    o.apiVersion,
    e.type,
    e.reason,
  ].join('');
}

function eventKey(e: Event): string {
  return `${aggregateKey(e)}${e.message ?? ''}`;
}

/** Correlates events (spam filter → aggregation → observation). */
export class EventCorrelator {
  private readonly spam = new Lru<TokenBucket>(CACHE_SIZE);
  private readonly aggregates = new Lru<AggregateRecord>(CACHE_SIZE);
  private readonly observed = new Lru<Observation>(CACHE_SIZE);

  /** A correlator on `clock`; `newName` names an aggregated event. */
  constructor(
    private readonly clock: Clock,
    private readonly newName: (base: string) => string,
  ) {}

  /** Decides how `event` is written. */
  correlate(event: Event): CorrelationResult {
    const sk = spamKey(event);
    let bucket = this.spam.get(sk);
    if (bucket === undefined) {
      bucket = new TokenBucket(SPAM_QPS, SPAM_BURST, this.clock);
      this.spam.set(sk, bucket);
    }
    if (!bucket.tryAccept()) return { event, skip: true, key: '' };

    const now = this.clock.now();
    let e = event;
    let key = eventKey(e);
    const ak = aggregateKey(e);
    let rec = this.aggregates.get(ak);
    if (rec === undefined || now - rec.at > EVENT_WINDOW_MS) rec = { localKeys: new Set(), at: now };
    rec.localKeys.add(e.message ?? '');
    rec.at = now;
    this.aggregates.set(ak, rec);
    if (rec.localKeys.size >= MAX_SIMILAR_EVENTS) {
      // Every later similar event shares one aggregate Event, keyed without the message.
      key = ak;
      e = {
        ...e,
        metadata: { ...e.metadata, name: this.newName(e.involvedObject.name ?? '') },
        message: `(combined from similar events): ${e.message ?? ''}`,
      };
    }
    return this.observe(e, key, now);
  }

  /** Records the name and resourceVersion the API server gave a written event. */
  written(event: Event, key: string): void {
    const o = this.observed.get(key);
    if (o === undefined) return;
    o.name = event.metadata.name ?? o.name;
    o.resourceVersion = event.metadata.resourceVersion ?? '';
  }

  /** Forgets an observation (its Event is gone; the next one is created anew). */
  forget(key: string): void {
    this.observed.delete(key);
  }

  private observe(e: Event, key: string, now: number): CorrelationResult {
    const last = this.observed.get(key);
    if (last !== undefined && now - last.at <= EVENT_WINDOW_MS) {
      last.count++;
      last.at = now;
      const lastTimestamp = e.lastTimestamp ?? formatTimestamp(now);
      const event: Event = {
        ...e,
        count: last.count,
        firstTimestamp: last.firstTimestamp,
        metadata: { ...e.metadata, name: last.name, resourceVersion: last.resourceVersion },
      };
      return {
        event,
        skip: false,
        key,
        patch: { count: last.count, lastTimestamp, message: e.message ?? '' },
      };
    }
    this.observed.set(key, {
      count: 1,
      firstTimestamp: e.firstTimestamp ?? formatTimestamp(now),
      name: e.metadata.name ?? '',
      resourceVersion: '',
      at: now,
    });
    return { event: e, skip: false, key };
  }
}
