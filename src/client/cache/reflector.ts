// The reflector (client-go tools/cache/reflector.go) mirrors one collection into a sink:
// list (paged), hand the items over as one replace, then watch from the list's
// resourceVersion with bookmarks, forwarding every event, and keep track of the newest
// resourceVersion seen (bookmarks advance it without an object).
//
// Recovery follows upstream:
// - the server ends the watch normally (timeout): watch again from the last resourceVersion;
// - an ERROR event (410 Expired/Gone: history compacted) or a broken connection: relist,
//   after a jittered exponential backoff for anything but Expired;
// - a list that fails: backoff and retry; a list at a resourceVersion the server no longer
//   has (410) is retried at once as a consistent list (resourceVersion "").
// The first list asks for resourceVersion "0" so the API server answers from its watch
// cache in one response; relists after an error are consistent reads, paged.
import { isGone, isTooManyRequests } from '../../machinery/status-error.js';
import { Backoff } from '../backoff.js';
import { type Clock, isAbortError, realClock } from '../clock.js';
import type { KubeObject, ListOptions, ObjectList, ResourceClient } from '../interface.js';
import { errorText, type Logger, noopLogger } from '../log.js';

/** Where a reflector delivers what it sees. */
export interface ReflectorSink<T> {
  /** The complete state at `resourceVersion` (after every list). */
  replace(items: T[], resourceVersion: string): void;
  /** A watch ADDED event. */
  add(obj: T): void;
  /** A watch MODIFIED event. */
  update(obj: T): void;
  /** A watch DELETED event (the object's last state). */
  delete(obj: T): void;
}

/** Options of a Reflector. */
export interface ReflectorOptions {
  /** '' for all namespaces or a cluster-scoped resource. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Page size of paged lists (default 500, as client-go's pager). */
  pageSize?: number;
  clock?: Clock;
  logger?: Logger;
  /** Name for logs (default the resource). */
  name?: string;
  /** Backoff between failed attempts (default 800 ms doubling to 30 s, jitter 1). */
  backoff?: { initialMs: number; maxMs: number; jitter?: number };
  /** Server-side watch timeout range in seconds (default [300, 600), as client-go). */
  watchTimeoutSeconds?: () => number;
}

/** Lists and watches one resource into a sink. */
export class Reflector<T extends KubeObject> {
  private lastRV = '';
  // Set when the server told us our resourceVersion is gone: the next list must be consistent.
  private rvUnavailable = false;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly name: string;
  private readonly backoff: Backoff;
  private listCount = 0;

  /** A reflector of `client` into `sink`. */
  constructor(
    private readonly client: ResourceClient<T>,
    private readonly sink: ReflectorSink<T>,
    private readonly opts: ReflectorOptions = {},
  ) {
    this.clock = opts.clock ?? realClock;
    this.log = opts.logger ?? noopLogger;
    this.name = opts.name ?? client.gvr.resource;
    const b = opts.backoff ?? { initialMs: 800, maxMs: 30_000, jitter: 1 };
    this.backoff = new Backoff({ initialMs: b.initialMs, maxMs: b.maxMs, jitter: b.jitter ?? 0 }, this.clock);
  }

  /** The resourceVersion of the newest state delivered to the sink. */
  lastSyncResourceVersion(): string {
    return this.lastRV;
  }

  /** How many lists have completed (tests observe relists through it). */
  lists(): number {
    return this.listCount;
  }

  /** Lists and watches until the signal aborts; never rejects because of API errors. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.listAndWatch(signal);
      } catch (err) {
        if (signal.aborted) break;
        if (isGone(err)) {
          this.log.info('watch expired; relisting', { reflector: this.name, error: errorText(err) });
          continue;
        }
        this.log.error('list/watch failed', { reflector: this.name, error: errorText(err) });
        try {
          await this.clock.sleep(this.backoff.next(), signal);
        } catch {
          break;
        }
      }
    }
  }

  /** One list followed by watches until the watch fails; rejects with the failure. */
  async listAndWatch(signal: AbortSignal): Promise<void> {
    await this.list(signal);
    for (;;) {
      if (signal.aborted) return;
      const started = this.clock.now();
      const events = await this.watch(signal);
      if (signal.aborted) return;
      // A watch that ends at once with nothing in it would otherwise spin; pace it.
      if (events === 0 && this.clock.now() - started < 1000)
        await this.clock.sleep(this.backoff.next(), signal);
    }
  }

  private async list(signal: AbortSignal): Promise<void> {
    let rv = this.rvUnavailable ? '' : this.lastRV === '' ? '0' : this.lastRV;
    for (;;) {
      try {
        const { items, resourceVersion } = await this.listAll(rv, signal);
        this.rvUnavailable = false;
        this.sink.replace(items, resourceVersion);
        this.lastRV = resourceVersion;
        this.listCount++;
        return;
      } catch (err) {
        if (isGone(err) && rv !== '') {
          // Our resourceVersion is compacted away: a consistent list always works.
          this.rvUnavailable = true;
          rv = '';
          continue;
        }
        throw err;
      }
    }
  }

  private async listAll(rv: string, signal: AbortSignal): Promise<{ items: T[]; resourceVersion: string }> {
    const base: ListOptions = { signal, limit: this.opts.pageSize ?? 500, resourceVersion: rv };
    if (rv !== '' && rv !== '0') base.resourceVersionMatch = 'NotOlderThan';
    if (this.opts.labelSelector) base.labelSelector = this.opts.labelSelector;
    if (this.opts.fieldSelector) base.fieldSelector = this.opts.fieldSelector;
    const ns = this.opts.namespace ?? '';
    let page: ObjectList<T> = await this.client.list(ns, base);
    let items = page.items ?? [];
    // Continue tokens pin the snapshot; later pages drop resourceVersion (the API requires it).
    while (page.metadata?.continue) {
      const next: ListOptions = { ...base, continue: page.metadata.continue };
      delete next.resourceVersion;
      delete next.resourceVersionMatch;
      page = await this.client.list(ns, next);
      items = items.concat(page.items ?? []);
    }
    return { items, resourceVersion: page.metadata?.resourceVersion ?? '' };
  }

  // Returns the number of events seen when the server ends the watch normally; throws on
  // ERROR events and broken connections.
  private async watch(signal: AbortSignal): Promise<number> {
    const timeout = this.opts.watchTimeoutSeconds?.() ?? Math.floor(300 + Math.random() * 300);
    const opts: ListOptions = {
      signal,
      resourceVersion: this.lastRV,
      allowWatchBookmarks: true,
      timeoutSeconds: timeout,
    };
    if (this.opts.labelSelector) opts.labelSelector = this.opts.labelSelector;
    if (this.opts.fieldSelector) opts.fieldSelector = this.opts.fieldSelector;
    let n = 0;
    try {
      for await (const ev of this.client.watch(this.opts.namespace ?? '', opts)) {
        n++;
        if (ev.type === 'ERROR') {
          if (isGone(ev.error)) this.rvUnavailable = true;
          throw ev.error;
        }
        const rv = ev.object.metadata?.resourceVersion;
        switch (ev.type) {
          case 'ADDED':
            this.sink.add(ev.object);
            break;
          case 'MODIFIED':
            this.sink.update(ev.object);
            break;
          case 'DELETED':
            this.sink.delete(ev.object);
            break;
          case 'BOOKMARK':
            break;
        }
        if (rv !== undefined && rv !== '') this.lastRV = rv;
      }
    } catch (err) {
      if (signal.aborted && isAbortError(err)) return n;
      // Throttled or refused watches retry the watch, not the list (as upstream).
      if (isTooManyRequests(err) || (err as { code?: unknown }).code === 'ECONNREFUSED') {
        await this.clock.sleep(this.backoff.next(), signal);
        return n;
      }
      throw err;
    }
    return n;
  }
}
