// Keeps an in-memory index in step with one resource's watch cache: a snapshot of every
// object, then each later event in revision order. When the cache loses its storage watch
// it re-lists, and the follower re-subscribes and rebuilds its index from the new snapshot,
// so an index never silently misses a change.
import type { Store } from '../../registry/store.js';
import type { CacheEntry, CacheEvent } from '../../registry/watch-cache.js';

/** What a follower feeds. */
export interface CacheSink {
  /** Replaces the whole index with these objects. */
  reset(entries: readonly CacheEntry[]): void;
  /** Applies one change. */
  event(ev: CacheEvent): void;
}

const RETRY_MS = 50;

/** Follows one Store's watch cache into a sink. */
export class CacheFollower {
  private unsubscribe: (() => void) | undefined;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly store: Store,
    private readonly sink: CacheSink,
  ) {}

  /** Loads the cache and subscribes; resolves once the sink holds the snapshot. */
  async start(): Promise<void> {
    await this.store.start();
    if (!this.subscribe()) await this.retryUntilSubscribed();
  }

  /** Resolves once the sink reflects every write storage had committed when called. */
  async synced(timeoutMs = 3000): Promise<boolean> {
    const rev = await this.store.storage.currentRevision();
    return this.store.cache.waitFor(rev, timeoutMs);
  }

  private subscribe(): boolean {
    if (this.closed) return true;
    const sub = this.store.cache.snapshotAndSubscribe(this.store.prefix, {
      event: (ev) => this.sink.event(ev),
      terminate: () => this.scheduleResubscribe(),
    });
    if (!sub) return false;
    this.unsubscribe = sub.unsubscribe;
    this.sink.reset(sub.items);
    return true;
  }

  private async retryUntilSubscribed(): Promise<void> {
    while (!this.closed) {
      await new Promise((r) => setTimeout(r, RETRY_MS));
      await this.store.start().catch(() => undefined);
      if (this.subscribe()) return;
    }
  }

  // terminate() is called while the cache is still tearing down; the re-list it starts
  // is awaited through start() before taking a new snapshot.
  private scheduleResubscribe(): void {
    this.unsubscribe = undefined;
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.retryUntilSubscribed();
    }, 0);
  }

  /** Stops following. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }
}
