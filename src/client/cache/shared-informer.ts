// A shared index informer (client-go SharedIndexInformer): one reflector keeps an indexed
// cache of a resource, and registered handlers hear about every change.
//
// client-go puts a DeltaFIFO between the reflector goroutine and the processing goroutine
// and buffers notifications per listener goroutine. Node runs one thread, so this informer
// is the reflector's sink directly: each watch event (and each relist) is applied to the
// indexer and delivered to the handlers in one synchronous step, in resourceVersion order.
// That gives the same guarantees the DeltaFIFO exists for — the cache is updated before a
// handler runs, events for one key are never reordered, and a relist turns objects that
// vanished meanwhile into deletes carrying a DeletedFinalStateUnknown tombstone — without a
// queue. Handlers must therefore be quick (compute a key, enqueue it), as upstream asks.
//
// Objects are not copied: the cache and every handler share one parsed object per
// version. Treat them as read-only.
import { type Clock, realClock, type TimerHandle } from '../clock.js';
import type { KubeObject, ResourceClient } from '../interface.js';
import { errorText, type Logger, noopLogger } from '../log.js';
import { type Indexer, type Indexers, newNamespaceIndexer } from './indexer.js';
import { Reflector, type ReflectorOptions } from './reflector.js';
import { DeletedFinalStateUnknown, metaNamespaceKeyFunc } from './store.js';

/** Callbacks for cache changes (ResourceEventHandlerFuncs). */
export interface ResourceEventHandler<T> {
  /** A new object; `isInInitialList` when it came from the first list. */
  onAdd?(obj: T, isInInitialList: boolean): void;
  /** A changed object (or the same object again on a resync or relist). */
  onUpdate?(oldObj: T, newObj: T): void;
  /** A removed object, or a tombstone when the deletion itself was missed. */
  onDelete?(obj: T | DeletedFinalStateUnknown<T>): void;
}

/** A handler's registration. */
export interface HandlerRegistration {
  /** Stops delivering to the handler. */
  remove(): void;
  /** True once the handler has seen the initial contents of the cache. */
  hasSynced(): boolean;
}

/** Options of a shared informer. */
export interface SharedInformerOptions<T> extends Omit<ReflectorOptions, 'name'> {
  /** Default resync period of handlers in ms (0: never). */
  resyncPeriodMs?: number;
  indexers?: Indexers<T>;
  /** Applied to each object before it is cached (e.g. to drop managedFields). */
  transform?: (obj: T) => T;
  clock?: Clock;
  logger?: Logger;
}

interface Listener<T> {
  handler: ResourceEventHandler<T>;
  resyncMs: number;
  timer?: TimerHandle;
  synced: boolean;
  removed: boolean;
}

/** An informer shared by every consumer of one resource (and selector). */
export class SharedIndexInformer<T extends KubeObject> {
  private readonly indexer: Indexer<T>;
  private readonly listeners = new Set<Listener<T>>();
  private readonly reflector: Reflector<T>;
  private readonly clock: Clock;
  private readonly log: Logger;
  private synced = false;
  private started = false;
  private stopped = false;
  private syncWaiters: Array<() => void> = [];

  /** An informer over `client` (call run to start it). */
  constructor(
    readonly client: ResourceClient<T>,
    private readonly opts: SharedInformerOptions<T> = {},
  ) {
    this.clock = opts.clock ?? realClock;
    this.log = opts.logger ?? noopLogger;
    this.indexer = newNamespaceIndexer<T>(opts.indexers ?? {});
    this.reflector = new Reflector<T>(
      client,
      {
        replace: (items, rv) => this.onReplace(items, rv),
        add: (obj) => this.onAddOrUpdate(obj),
        update: (obj) => this.onAddOrUpdate(obj),
        delete: (obj) => this.onDeleteEvent(obj),
      },
      { ...opts, name: client.gvr.resource },
    );
  }

  /** Registers a handler; when the cache is already filled it first hears an add for every object. */
  addEventHandler(handler: ResourceEventHandler<T>, resyncPeriodMs?: number): HandlerRegistration {
    const l: Listener<T> = {
      handler,
      resyncMs: resyncPeriodMs ?? this.opts.resyncPeriodMs ?? 0,
      synced: false,
      removed: false,
    };
    this.listeners.add(l);
    if (this.synced) {
      for (const obj of this.indexer.list()) this.call(l, 'onAdd', () => handler.onAdd?.(obj, true));
      l.synced = true;
    }
    if (this.started && !this.stopped) this.armResync(l);
    return {
      remove: () => {
        l.removed = true;
        l.timer?.cancel();
        this.listeners.delete(l);
      },
      hasSynced: () => l.synced,
    };
  }

  /** Adds indices (allowed at any time; existing objects are indexed). */
  addIndexers(indexers: Indexers<T>): void {
    this.indexer.addIndexers(indexers);
  }

  /** The cache. */
  getIndexer(): Indexer<T> {
    return this.indexer;
  }

  /** True once the first list has been delivered. */
  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves once synced, or false if the signal aborts first. */
  waitForSync(signal?: AbortSignal): Promise<boolean> {
    if (this.synced) return Promise.resolve(true);
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const onAbort = (): void => resolve(false);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.syncWaiters.push(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve(true);
      });
    });
  }

  /** The resourceVersion the cache is at. */
  lastSyncResourceVersion(): string {
    return this.reflector.lastSyncResourceVersion();
  }

  /** True after run has returned. */
  isStopped(): boolean {
    return this.stopped;
  }

  /** The reflector (tests observe relists through it). */
  getReflector(): Reflector<T> {
    return this.reflector;
  }

  /** Runs until the signal aborts. A second call is a no-op. */
  async run(signal: AbortSignal): Promise<void> {
    if (this.started) return;
    this.started = true;
    for (const l of this.listeners) this.armResync(l);
    try {
      await this.reflector.run(signal);
    } finally {
      this.stopped = true;
      for (const l of this.listeners) l.timer?.cancel();
    }
  }

  private onReplace(items: T[], _rv: string): void {
    const transform = this.opts.transform;
    const first = !this.synced;
    const seen = new Set<string>();
    if (first && this.indexer.size() === 0) {
      // The common first list: no old state to compare with.
      const objs = transform ? items.map(transform) : items;
      this.indexer.replace(objs, _rv);
      for (const obj of objs) this.notifyAdd(obj, true);
    } else {
      for (const raw of items) {
        const obj = transform ? transform(raw) : raw;
        const key = metaNamespaceKeyFunc(obj);
        seen.add(key);
        const old = this.indexer.getByKey(key);
        this.indexer.add(obj);
        if (old !== undefined) this.notifyUpdate(old, obj);
        else this.notifyAdd(obj, first);
      }
      for (const key of this.indexer.listKeys()) {
        if (seen.has(key)) continue;
        const old = this.indexer.getByKey(key) as T;
        this.indexer.deleteByKey(key);
        this.notifyDelete(new DeletedFinalStateUnknown(key, old));
      }
    }
    if (first) {
      this.synced = true;
      for (const l of this.listeners) l.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
  }

  private onAddOrUpdate(raw: T): void {
    const obj = this.opts.transform ? this.opts.transform(raw) : raw;
    const old = this.indexer.get(obj);
    this.indexer.add(obj);
    if (old !== undefined) this.notifyUpdate(old, obj);
    else this.notifyAdd(obj, false);
  }

  private onDeleteEvent(raw: T): void {
    const obj = this.opts.transform ? this.opts.transform(raw) : raw;
    this.indexer.delete(obj);
    this.notifyDelete(obj);
  }

  private notifyAdd(obj: T, initial: boolean): void {
    for (const l of this.listeners) this.call(l, 'onAdd', () => l.handler.onAdd?.(obj, initial));
  }

  private notifyUpdate(old: T, obj: T): void {
    for (const l of this.listeners) this.call(l, 'onUpdate', () => l.handler.onUpdate?.(old, obj));
  }

  private notifyDelete(obj: T | DeletedFinalStateUnknown<T>): void {
    for (const l of this.listeners) this.call(l, 'onDelete', () => l.handler.onDelete?.(obj));
  }

  // A throwing handler must not starve the others or break the reflector.
  private call(l: Listener<T>, what: string, fn: () => void): void {
    if (l.removed) return;
    try {
      fn();
    } catch (err) {
      this.log.error('event handler failed', {
        resource: this.client.gvr.resource,
        handler: what,
        error: errorText(err),
      });
    }
  }

  private armResync(l: Listener<T>): void {
    if (l.resyncMs <= 0 || l.removed) return;
    l.timer?.cancel();
    l.timer = this.clock.setTimeout(() => {
      if (l.removed || this.stopped) return;
      // A resync replays the cache as updates so level-based handlers re-check everything.
      if (this.synced)
        for (const obj of this.indexer.list()) this.call(l, 'onUpdate', () => l.handler.onUpdate?.(obj, obj));
      this.armResync(l);
    }, l.resyncMs);
  }
}
