// Caching of the API objects pods consume (upstream's TTL-based configmap/secret manager,
// `configMapAndSecretChangeDetectionStrategy: Cache`) and a bound on concurrent work.
//
// Every sync of every pod reads the ConfigMaps and Secrets its volumes and env reference;
// 100 pods projecting `kube-root-ca.crt` would otherwise GET it hundreds of times while
// they start (and spend the kubelet's client rate limit doing so). The cache serves an
// object fetched within the last `ttlMs`, and concurrent reads of one object share one
// request. "Not found" is never cached: a pod waiting for its ConfigMap sees it on the
// next sync after it is created. Updated contents reach pods within the TTL plus a sync.

import type { Clock } from '../client/clock.js';

/** Default freshness of a cached object (short: bursts share a read, updates stay prompt). */
export const OBJECT_CACHE_TTL_MS = 2000;

interface Entry<T> {
  value: T;
  fetchedAt: number;
}

/** Reads of namespaced objects, cached for a short time and coalesced while in flight. */
export class ObjectCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly inFlight = new Map<string, Promise<T | undefined>>();

  /** A cache over `fetch` (resolves to undefined when the object does not exist). */
  constructor(
    private readonly fetch: (namespace: string, name: string) => Promise<T | undefined>,
    private readonly clock: Clock,
    private readonly ttlMs = OBJECT_CACHE_TTL_MS,
  ) {}

  /** The object, from the cache when fresh, else from one (shared) fetch. */
  get(namespace: string, name: string): Promise<T | undefined> {
    const key = `${namespace}/${name}`;
    const e = this.entries.get(key);
    if (e !== undefined && this.clock.now() - e.fetchedAt < this.ttlMs) return Promise.resolve(e.value);
    const pending = this.inFlight.get(key);
    if (pending !== undefined) return pending;
    const startedAt = this.clock.now();
    const p = this.fetch(namespace, name)
      .then((value) => {
        if (value === undefined) this.entries.delete(key);
        else this.entries.set(key, { value, fetchedAt: startedAt });
        return value;
      })
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, p);
    return p;
  }

  /** Drops every cached object of a namespace (or everything). */
  clear(namespace?: string): void {
    if (namespace === undefined) {
      this.entries.clear();
      return;
    }
    for (const k of this.entries.keys()) if (k.startsWith(`${namespace}/`)) this.entries.delete(k);
  }
}

/** A counting semaphore: at most `limit` holders at a time, the rest wait in order. */
export class Semaphore {
  private active = 0;
  private readonly waiters: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];

  /** A semaphore admitting `limit` (at least 1) holders. */
  constructor(private readonly limit: number) {}

  /** Runs fn once a slot is free, releasing the slot when it settles. */
  async run<R>(fn: () => Promise<R>): Promise<R> {
    if (this.active >= Math.max(1, this.limit)) await new Promise<void>((r) => this.waiters.push(r));
    else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.waiters.shift();
      // The slot passes straight to the next waiter, so `active` stays counted.
      if (next !== undefined) next();
      else if (--this.active === 0) {
        const idle = this.idleWaiters;
        this.idleWaiters = [];
        for (const r of idle) r();
      }
    }
  }

  /**
   * Resolves once nothing holds or waits for a slot, or after `maxMs`: lets work that
   * matters less go after this traffic without starving behind it.
   */
  idle(maxMs: number): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, maxMs);
      timer.unref?.();
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
