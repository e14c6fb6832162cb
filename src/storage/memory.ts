// The in-memory backend: the Storage semantics in plain data structures, for unit tests.
// It keeps full per-key history and an event log until compacted, exactly like the durable
// backends, so tests that exercise old revisions and watch replay behave the same.

import { checkKey, checkReadRevision, decodeContinue, encodeContinue, normaliseLimit } from './key-range.js';
import {
  compacted,
  conflict,
  type DeleteResult,
  futureRevision,
  keyExists,
  type KeyValue,
  keyNotFound,
  type ListOptions,
  type ListResult,
  type Revision,
  type Storage,
  unavailable,
  type Watch,
  type WatchEvent,
  type WatchOptions,
} from './storage.js';
import { WatchHub } from './watch-hub.js';

interface Version {
  rev: Revision;
  createRevision: Revision;
  value: Uint8Array;
  deleted: boolean;
}

/** A Storage held in memory; nothing survives `close()`. */
export class MemoryStorage implements Storage {
  /** See `Storage.promptProgress`. */
  readonly promptProgress = true;
  private rev = 0;
  private compactRev = 0;
  private closed = false;
  /** Every event after compactRev, in revision order. */
  private log: WatchEvent[] = [];
  /** Per key, its versions in ascending revision (tombstones included). */
  private readonly history = new Map<string, Version[]>();
  private readonly hub: WatchHub;

  constructor() {
    this.hub = new WatchHub({
      currentRevision: () => this.rev,
      compactRevision: () => this.compactRev,
      replay: (prefix, after, upTo, limit) => this.replay(prefix, after, upTo, limit),
    });
  }

  async create(key: string, value: Uint8Array): Promise<KeyValue> {
    this.checkOpen();
    checkKey(key);
    const latest = this.latest(key);
    if (latest && !latest.deleted) throw keyExists(key, toKv(key, latest));
    const rev = ++this.rev;
    this.append(key, { rev, createRevision: rev, value, deleted: false });
    this.emit({ type: 'ADDED', key, value, modRevision: rev, createRevision: rev });
    return { key, value, createRevision: rev, modRevision: rev };
  }

  async get(key: string, opts: { revision?: Revision } = {}): Promise<KeyValue | undefined> {
    this.checkOpen();
    checkKey(key);
    const at = this.readRevision(opts.revision);
    const v = this.versionAt(key, at);
    return v && !v.deleted ? toKv(key, v) : undefined;
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    this.checkOpen();
    const limit = normaliseLimit(opts.limit);
    let at: Revision;
    let after: string | undefined;
    if (opts.continue) {
      const c = decodeContinue(opts.continue, prefix);
      at = this.readRevision(c.revision);
      after = c.key;
    } else at = this.readRevision(opts.revision);
    const keys = [...this.history.keys()]
      .filter((k) => k.startsWith(prefix) && (after === undefined || k > after))
      .sort(compareKeys);
    const items: KeyValue[] = [];
    for (const k of keys) {
      const v = this.versionAt(k, at);
      if (!v || v.deleted) continue;
      if (limit !== undefined && items.length === limit) {
        const last = items[items.length - 1]!.key;
        return { items, revision: at, continue: encodeContinue({ key: last, revision: at, prefix }) };
      }
      items.push(toKv(k, v));
    }
    return { items, revision: at };
  }

  async count(prefix: string): Promise<number> {
    this.checkOpen();
    let n = 0;
    for (const [k, versions] of this.history) {
      if (k.startsWith(prefix) && !versions[versions.length - 1]!.deleted) n++;
    }
    return n;
  }

  async update(key: string, value: Uint8Array, expectedModRevision?: Revision): Promise<KeyValue> {
    this.checkOpen();
    checkKey(key);
    const latest = this.latest(key);
    if (!latest || latest.deleted) throw keyNotFound(key);
    if (expectedModRevision !== undefined && latest.rev !== expectedModRevision) {
      throw conflict(key, expectedModRevision, toKv(key, latest));
    }
    const rev = ++this.rev;
    const createRevision = latest.createRevision;
    this.append(key, { rev, createRevision, value, deleted: false });
    this.emit({ type: 'MODIFIED', key, value, prevValue: latest.value, modRevision: rev, createRevision });
    return { key, value, createRevision, modRevision: rev };
  }

  async delete(key: string, expectedModRevision?: Revision): Promise<DeleteResult> {
    this.checkOpen();
    checkKey(key);
    const latest = this.latest(key);
    if (!latest || latest.deleted) throw keyNotFound(key);
    const prev = toKv(key, latest);
    if (expectedModRevision !== undefined && latest.rev !== expectedModRevision) {
      throw conflict(key, expectedModRevision, prev);
    }
    const rev = ++this.rev;
    const { createRevision, value } = latest;
    this.append(key, { rev, createRevision, value, deleted: true });
    this.emit({ type: 'DELETED', key, value, prevValue: value, modRevision: rev, createRevision });
    return { prev, revision: rev };
  }

  watch(prefix: string, opts?: WatchOptions): Watch {
    return this.hub.watch(prefix, opts);
  }

  async compact(revision: Revision): Promise<void> {
    this.checkOpen();
    if (revision > this.rev) throw futureRevision(revision, this.rev);
    if (revision <= this.compactRev) throw compacted(revision, this.compactRev);
    this.compactRev = revision;
    for (const [k, versions] of this.history) {
      let i = versions.length - 1;
      while (i >= 0 && versions[i]!.rev > revision) i--;
      if (i < 0) continue;
      // Keep the version visible at `revision` unless it is a tombstone.
      const drop = versions[i]!.deleted ? i + 1 : i;
      if (drop === versions.length) this.history.delete(k);
      else if (drop > 0) versions.splice(0, drop);
    }
    this.log = this.log.slice(firstAfter(this.log, revision));
  }

  async currentRevision(): Promise<Revision> {
    this.checkOpen();
    return this.rev;
  }

  async compactRevision(): Promise<Revision> {
    return this.compactRev;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.hub.close();
    this.history.clear();
    this.log = [];
  }

  private checkOpen(): void {
    if (this.closed) throw unavailable('storage is closed');
  }

  private readRevision(requested: Revision | undefined): Revision {
    if (requested === undefined || requested === 0) return this.rev;
    checkReadRevision(requested, this.compactRev, this.rev);
    return requested;
  }

  private latest(key: string): Version | undefined {
    const versions = this.history.get(key);
    return versions?.[versions.length - 1];
  }

  private versionAt(key: string, at: Revision): Version | undefined {
    const versions = this.history.get(key);
    if (!versions) return undefined;
    for (let i = versions.length - 1; i >= 0; i--) {
      if (versions[i]!.rev <= at) return versions[i];
    }
    return undefined;
  }

  private append(key: string, v: Version): void {
    const versions = this.history.get(key);
    if (versions) versions.push(v);
    else this.history.set(key, [v]);
  }

  private emit(ev: WatchEvent): void {
    this.log.push(ev);
    this.hub.publish([ev]);
  }

  private replay(prefix: string, after: Revision, upTo: Revision, limit: number): WatchEvent[] {
    const out: WatchEvent[] = [];
    for (let i = firstAfter(this.log, after); i < this.log.length && out.length < limit; i++) {
      const ev = this.log[i]!;
      if (ev.modRevision > upTo) break;
      if (ev.key.startsWith(prefix)) out.push(ev);
    }
    return out;
  }
}

/** Index of the first event with modRevision > rev (binary search). */
function firstAfter(log: readonly WatchEvent[], rev: Revision): number {
  let lo = 0;
  let hi = log.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (log[mid]!.modRevision <= rev) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function toKv(key: string, v: Version): KeyValue {
  return { key, value: v.value, createRevision: v.createRevision, modRevision: v.rev };
}

/** Byte order of the UTF-8 encodings (etcd's order), without encoding common ASCII keys. */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  // UTF-16 order differs from code point order only around surrogates; fall back then.
  if (/[\ud800-\udfff]/.test(a) || /[\ud800-\udfff]/.test(b)) {
    return Buffer.compare(Buffer.from(a), Buffer.from(b));
  }
  return a < b ? -1 : 1;
}
