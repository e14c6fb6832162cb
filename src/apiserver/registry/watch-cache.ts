// The per-resource watch cache: one storage watch feeds an in-memory copy of every object
// and a ring of recent events, so LIST and WATCH are served from memory with upstream's
// resourceVersion semantics (most recent, not-older-than, 410 for history that is gone).
// Objects are kept with their JSON already rendered, so a list of 10,000 pods is a string
// join rather than 10,000 parse/stringify round trips.
import type { Storage, Watch, WatchEvent } from '../../storage/storage.js';
import { StorageError } from '../../storage/storage.js';
import type { KObject } from './object.js';

/** One cached object. */
export interface CacheEntry {
  key: string;
  namespace: string;
  name: string;
  /** Parsed object with metadata.resourceVersion set; shared: never mutate. */
  obj: KObject;
  /** JSON of `obj`. */
  json: string;
  /** modRevision. */
  rv: number;
}

/** One change, as the cache saw it. */
export interface CacheEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  rv: number;
  /** The object after the change (for DELETED: the last state, with rv = the delete's revision). */
  cur: CacheEntry;
  /** The object before the change (absent for ADDED). */
  prev?: CacheEntry;
}

/** Receives the cache's events in revision order, or the news that it must start over. */
export interface CacheListener {
  event(ev: CacheEvent): void;
  /** The cache lost its storage watch: the subscriber's stream cannot continue. */
  terminate(reason: string): void;
}

/** Builds an entry from stored bytes: sets metadata.resourceVersion from the revision. */
export type Decoder = (key: string, value: Uint8Array, rv: number) => CacheEntry;

const decoderText = new TextDecoder();

/** The default decoder: JSON bytes → object with resourceVersion. */
export function decodeEntry(prefix: string, key: string, value: Uint8Array, rv: number): CacheEntry {
  const text = decoderText.decode(value);
  const obj = JSON.parse(text) as KObject;
  if (obj.metadata === undefined) obj.metadata = {};
  const hadRV = obj.metadata.resourceVersion !== undefined;
  obj.metadata.resourceVersion = String(rv);
  // Stored objects have no resourceVersion: splicing it into the stored text is much
  // cheaper than stringifying the parsed object again.
  const json =
    (hadRV ? undefined : spliceResourceVersion(text, storedHead(obj.kind, obj.apiVersion), rv)) ??
    JSON.stringify(obj);
  return entryFor(prefix, key, obj, json, rv);
}

/** An entry for an object whose JSON is already rendered (`obj` becomes shared). */
export function entryFor(prefix: string, key: string, obj: KObject, json: string, rv: number): CacheEntry {
  const rest = key.slice(prefix.length).split('/');
  const namespace = rest.length > 1 ? rest[0]! : '';
  const name = rest[rest.length - 1]!;
  return { key, namespace, name, obj, json, rv };
}

/** The text every stored object of a kind starts with (the Store writes kind, apiVersion, metadata first). */
export function storedHead(kind: unknown, apiVersion: unknown): string | undefined {
  if (typeof kind !== 'string' || typeof apiVersion !== 'string') return undefined;
  return `{"kind":${JSON.stringify(kind)},"apiVersion":${JSON.stringify(apiVersion)},"metadata":{`;
}

/**
 * The stored JSON `text` (no resourceVersion) with `"resourceVersion":"<rv>"` inserted as
 * the first key of metadata; undefined when `text` does not have the layout the Store
 * writes (then the caller stringifies). Key order inside metadata is not significant.
 */
export function spliceResourceVersion(
  text: string,
  head: string | undefined,
  rv: number,
): string | undefined {
  if (head === undefined || !text.startsWith(head)) return undefined;
  // A key of that name anywhere (a foreign writer's metadata, a data key) makes the
  // position ambiguous: fall back rather than risk a duplicate key.
  if (text.includes('"resourceVersion":')) return undefined;
  const at = head.length;
  const sep = text.charCodeAt(at) === 0x7d /* } */ ? '' : ',';
  return `${text.slice(0, at)}"resourceVersion":"${rv}"${sep}${text.slice(at)}`;
}

/** Options of a WatchCache. */
export interface WatchCacheOptions {
  /** Events kept for watch resumption. */
  capacity?: number;
  /** Builds entries from stored bytes (default: `decodeEntry`). */
  decoder?: Decoder;
}

/** An in-memory mirror of one storage prefix. */
export class WatchCache {
  private readonly entries = new Map<string, CacheEntry>();
  private ring: CacheEvent[] = [];
  private ringStart = 0;
  private readonly capacity: number;
  private readonly listeners = new Set<CacheListener>();
  private watch: Watch | undefined;
  private rev = 0;
  /** Events before this revision are not in the ring (the initial list revision or later). */
  private oldestRV = 0;
  private readyPromise: Promise<void> | undefined;
  private failure: Error | undefined;
  private closed = false;
  private waiters: Array<{ rv: number; resolve: () => void }> = [];
  /** Objects the Store just wrote, by key, waiting for their storage event (see `offer`). */
  private readonly handoff = new Map<string, CacheEntry>();

  constructor(
    private readonly storage: Storage,
    readonly prefix: string,
    options: WatchCacheOptions = {},
  ) {
    this.capacity = options.capacity ?? 4096;
    this.decode = options.decoder ?? ((key, value, rv) => decodeEntry(this.prefix, key, value, rv));
  }

  private readonly decode: Decoder;

  /** Loads the prefix and starts following it; resolves once the initial list is in. */
  start(): Promise<void> {
    if (!this.readyPromise) this.readyPromise = this.run();
    return this.readyPromise;
  }

  private async run(): Promise<void> {
    let cont: string | undefined;
    let revision = 0;
    do {
      const page = await this.storage.list(this.prefix, {
        limit: 10000,
        ...(cont ? { continue: cont } : {}),
      });
      revision = page.revision;
      for (const kv of page.items) {
        const e = this.decode(kv.key, kv.value, kv.modRevision);
        this.entries.set(kv.key, e);
      }
      cont = page.continue;
    } while (cont);
    this.rev = revision;
    // Writes offered while the initial list ran are in the list; their events never come.
    for (const [k, h] of this.handoff) if (h.rv <= revision) this.handoff.delete(k);
    this.oldestRV = revision;
    this.follow(revision);
  }

  private follow(from: number): void {
    const w = this.storage.watch(this.prefix, { fromRevision: from, bufferSize: 100000 });
    this.watch = w;
    void (async () => {
      try {
        for await (const ev of w) this.apply(ev);
        if (!this.closed) this.restart(new Error('storage watch ended'));
      } catch (err) {
        if (!this.closed) this.restart(err instanceof Error ? err : new Error(String(err)));
      }
    })();
  }

  // A broken storage watch (overflow, compaction, lost connection) is repaired by a
  // re-list: watchers are told to start over (they get 410 and re-list themselves).
  private restart(err: Error): void {
    this.failure = err;
    const listeners = [...this.listeners];
    this.listeners.clear();
    for (const l of listeners) l.terminate(err.message);
    this.entries.clear();
    this.handoff.clear();
    this.ring = [];
    this.ringStart = 0;
    this.readyPromise = this.run().then(() => {
      this.failure = undefined;
    });
  }

  private apply(ev: WatchEvent): void {
    const prev = this.entries.get(ev.key);
    let cur: CacheEntry;
    if (ev.type === 'DELETED') {
      const base = prev ?? this.decode(ev.key, ev.value, ev.modRevision);
      // A deleted object is reported with the revision of the delete, as upstream does.
      const obj = {
        ...base.obj,
        metadata: { ...base.obj.metadata, resourceVersion: String(ev.modRevision) },
      };
      cur = { ...base, obj, json: JSON.stringify(obj), rv: ev.modRevision };
      this.entries.delete(ev.key);
      this.handoff.delete(ev.key);
    } else {
      const h = this.handoff.get(ev.key);
      if (h !== undefined) this.handoff.delete(ev.key);
      cur = h !== undefined && h.rv === ev.modRevision ? h : this.decode(ev.key, ev.value, ev.modRevision);
      this.entries.set(ev.key, cur);
    }
    const ce: CacheEvent = { type: ev.type, rv: ev.modRevision, cur, ...(prev ? { prev } : {}) };
    this.rev = ev.modRevision;
    this.push(ce);
    for (const l of this.listeners) l.event(ce);
    this.wake();
  }

  private push(ev: CacheEvent): void {
    if (this.ring.length - this.ringStart >= this.capacity) {
      const dropped = this.ring[this.ringStart]!;
      this.oldestRV = dropped.rv;
      this.ringStart++;
      if (this.ringStart > this.capacity) {
        this.ring = this.ring.slice(this.ringStart);
        this.ringStart = 0;
      }
    }
    this.ring.push(ev);
  }

  private wake(): void {
    if (this.waiters.length === 0) return;
    const rv = this.currentRV();
    const keep: typeof this.waiters = [];
    for (const w of this.waiters) {
      if (w.rv <= rv) w.resolve();
      else keep.push(w);
    }
    this.waiters = keep;
  }

  /** The revision the cache reflects (events of other prefixes advance it via progress). */
  currentRV(): number {
    const p = this.watch?.progressRevision() ?? 0;
    return Math.max(this.rev, p);
  }

  /** Resolves when the cache reflects at least `rv`; false after `timeoutMs`. */
  async waitFor(rv: number, timeoutMs = 3000): Promise<boolean> {
    await this.start();
    if (this.currentRV() >= rv) return true;
    const deadline = Date.now() + timeoutMs;
    // progressRevision moves without events of our own prefix, so poll it briefly too.
    while (Date.now() < deadline) {
      const ok = await new Promise<boolean>((resolve) => {
        const w = { rv, resolve: () => resolve(true) };
        this.waiters.push(w);
        setTimeout(() => {
          this.waiters = this.waiters.filter((x) => x !== w);
          resolve(false);
        }, 5);
      });
      if (ok || this.currentRV() >= rv) return true;
    }
    return false;
  }

  /**
   * Hands the cache an object the Store has just written at revision `rv`, with its JSON
   * (resourceVersion included), so the storage event for it needs no decoding. The object
   * becomes shared: neither the Store nor its callers may mutate it afterwards. Ignored
   * when the event was already applied (it raced ahead of the write's reply); events of
   * writes never offered (another process on etcd) are decoded as before.
   */
  offer(key: string, rv: number, obj: KObject, json: string): void {
    if (rv <= this.rev || this.readyPromise === undefined || this.failure !== undefined) return;
    this.handoff.set(key, entryFor(this.prefix, key, obj, json, rv));
  }

  /** All entries whose key starts with `prefix` (a namespace prefix, or the whole resource). */
  list(prefix: string): CacheEntry[] {
    const out: CacheEntry[] = [];
    for (const e of this.entries.values()) if (e.key.startsWith(prefix)) out.push(e);
    out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return out;
  }

  /** One entry by key. */
  get(key: string): CacheEntry | undefined {
    return this.entries.get(key);
  }

  /** Number of cached objects. */
  size(): number {
    return this.entries.size;
  }

  /**
   * Subscribes from `fromRV`: replays buffered events after it, then live events.
   * Returns undefined when events after `fromRV` are no longer buffered (the caller falls
   * back to a storage watch, or answers 410).
   */
  subscribe(
    fromRV: number,
    listener: CacheListener,
  ): { replay: CacheEvent[]; unsubscribe: () => void } | undefined {
    if (this.failure) return undefined;
    if (fromRV < this.oldestRV) return undefined;
    const replay: CacheEvent[] = [];
    for (let i = this.ringStart; i < this.ring.length; i++) {
      const ev = this.ring[i]!;
      if (ev.rv > fromRV) replay.push(ev);
    }
    this.listeners.add(listener);
    return { replay, unsubscribe: () => this.listeners.delete(listener) };
  }

  /** The oldest revision from which a watch can resume from memory. */
  oldestResumableRV(): number {
    return this.oldestRV;
  }

  /**
   * Atomically takes the current objects under `prefix` and subscribes to every later
   * event, so nothing falls between the snapshot and the stream. Undefined while the cache
   * is re-listing after a failure.
   */
  snapshotAndSubscribe(
    prefix: string,
    listener: CacheListener,
  ): { items: CacheEntry[]; rv: number; unsubscribe: () => void } | undefined {
    if (this.failure) return undefined;
    const items = this.list(prefix);
    this.listeners.add(listener);
    return { items, rv: this.rev, unsubscribe: () => this.listeners.delete(listener) };
  }

  /**
   * Stops following storage. With `reason` the subscribed watchers are told to start over
   * (their resource was replaced, e.g. a custom resource whose CRD changed) instead of
   * being left waiting for events that will never come.
   */
  close(reason?: string): void {
    this.closed = true;
    this.watch?.close();
    const listeners = [...this.listeners];
    this.listeners.clear();
    if (reason !== undefined) for (const l of listeners) l.terminate(reason);
  }
}

export { StorageError };
