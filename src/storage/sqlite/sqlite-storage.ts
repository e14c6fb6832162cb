// The embedded backend: the Storage contract on one sqlite file (see schema.ts for the
// table and settings, compactor.ts for history retention).
//
// Writes are group-committed: every write queued during one turn of the event loop is
// applied in a single IMMEDIATE transaction, each with its own compare-and-swap check, and
// its promise settles only after COMMIT returned (so after the WAL write; after its fsync
// too in `full` mode). Events are published to watchers right after the commit and before
// any promise resolves, in the same synchronous step: a watcher registered at revision C
// sees every event after C live, and a client never sees its write acknowledged before
// watchers have it queued.
//
// This process owns the file (exclusive locking) and caches the revision counter.

import {
  checkKey,
  checkReadRevision,
  decodeContinue,
  encodeContinue,
  normaliseLimit,
  prefixEnd,
} from '../key-range.js';
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
  StorageError,
  unavailable,
  type Watch,
  type WatchEvent,
  type WatchOptions,
} from '../storage.js';
import { WatchHub } from '../watch-hub.js';
import { type CompactionPolicy, Compactor, DEFAULT_COMPACTION_POLICY } from './compactor.js';
import { type LogRow, openDatabase, type ReplayRow, Statements, type SyncMode } from './schema.js';
import type Database from 'better-sqlite3';

/** Options of a sqlite store. */
export interface SqliteStorageOptions {
  /** Absolute path of the database file (created if missing). */
  path: string;
  /** `normal` (default): survives a process crash; `full`: also survives power loss. */
  sync?: SyncMode;
  /** History retention; unset fields take `DEFAULT_COMPACTION_POLICY`'s values. */
  compaction?: Partial<CompactionPolicy>;
  /** Clock for the age-based retention (tests). */
  now?: () => number;
  /** Receives background (compaction) failures; they never reach a caller's promise. */
  onError?: (err: unknown) => void;
}

type Op = 'create' | 'update' | 'delete';

interface PendingWrite {
  op: Op;
  key: string;
  value: Uint8Array | undefined;
  expected: Revision | undefined;
  resolve(result: KeyValue | DeleteResult): void;
  reject(err: unknown): void;
}

type Outcome = { ok: KeyValue | DeleteResult } | { err: StorageError };

/** The Storage on a local sqlite file. */
export class SqliteStorage implements Storage {
  /** See `Storage.promptProgress`. */
  readonly promptProgress = true;
  private readonly db: Database.Database;
  private readonly stmts: Statements;
  private readonly hub: WatchHub;
  private readonly compactor: Compactor;
  private readonly applyBatch: Database.Transaction<
    (ops: PendingWrite[], out: Outcome[], ev: WatchEvent[]) => void
  >;
  private rev: Revision;
  private queue: PendingWrite[] = [];
  private flushScheduled = false;
  private closed = false;

  constructor(opts: SqliteStorageOptions) {
    this.db = openDatabase(opts.path, opts.sync ?? 'normal');
    try {
      this.stmts = new Statements(this.db);
      this.rev = this.stmts.maxRevision.get()?.rev ?? 0;
      this.applyBatch = this.db.transaction((ops: PendingWrite[], out: Outcome[], ev: WatchEvent[]) => {
        for (const w of ops) {
          try {
            out.push({ ok: this.apply(w, ev) });
          } catch (err) {
            if (!(err instanceof StorageError)) throw err;
            out.push({ err });
          }
        }
      });
      this.compactor = new Compactor(
        {
          db: this.db,
          stmts: this.stmts,
          path: opts.path,
          currentRevision: () => this.rev,
          now: opts.now ?? Date.now,
          onError: opts.onError ?? (() => {}),
        },
        { ...DEFAULT_COMPACTION_POLICY, ...opts.compaction },
      );
    } catch (err) {
      this.db.close();
      throw err;
    }
    this.hub = new WatchHub({
      currentRevision: () => this.rev,
      compactRevision: () => this.compactor.revision,
      replay: (prefix, after, upTo, limit) => this.replay(prefix, after, upTo, limit),
    });
    this.compactor.start();
  }

  create(key: string, value: Uint8Array): Promise<KeyValue> {
    return this.enqueue('create', key, value, undefined) as Promise<KeyValue>;
  }

  update(key: string, value: Uint8Array, expectedModRevision?: Revision): Promise<KeyValue> {
    return this.enqueue('update', key, value, expectedModRevision) as Promise<KeyValue>;
  }

  delete(key: string, expectedModRevision?: Revision): Promise<DeleteResult> {
    return this.enqueue('delete', key, undefined, expectedModRevision) as Promise<DeleteResult>;
  }

  async get(key: string, opts: { revision?: Revision } = {}): Promise<KeyValue | undefined> {
    this.checkOpen();
    checkKey(key);
    const at = this.readRevision(opts.revision);
    const row = at === this.rev ? this.stmts.latest.get(key) : this.stmts.latestAt.get(key, at);
    return row && row.deleted === 0 ? rowToKv(row) : undefined;
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    this.checkOpen();
    const limit = normaliseLimit(opts.limit);
    let at: Revision;
    let start = prefix;
    if (opts.continue) {
      const c = decodeContinue(opts.continue, prefix);
      at = this.readRevision(c.revision);
      // Keys never contain NUL, so this is the first key after the last one returned.
      start = `${c.key}\0`;
    } else at = this.readRevision(opts.revision);
    const end = prefixEnd(prefix);
    const sqlLimit = limit === undefined ? -1 : limit + 1;
    const rows =
      end === undefined
        ? this.stmts.listOpen.all(start, at, at, sqlLimit)
        : this.stmts.listRange.all(start, end, at, at, sqlLimit);
    const items = rows.map(rowToKv);
    if (limit !== undefined && items.length > limit) {
      items.length = limit;
      const last = items[limit - 1]!.key;
      return { items, revision: at, continue: encodeContinue({ key: last, revision: at, prefix }) };
    }
    return { items, revision: at };
  }

  async count(prefix: string): Promise<number> {
    this.checkOpen();
    const end = prefixEnd(prefix);
    const row = end === undefined ? this.stmts.countOpen.get(prefix) : this.stmts.countRange.get(prefix, end);
    return row?.n ?? 0;
  }

  watch(prefix: string, opts?: WatchOptions): Watch {
    return this.hub.watch(prefix, opts);
  }

  async compact(revision: Revision): Promise<void> {
    this.checkOpen();
    if (!Number.isSafeInteger(revision) || revision < 0) {
      throw new StorageError('InvalidArgument', `invalid revision ${revision}`);
    }
    if (revision > this.rev) throw futureRevision(revision, this.rev);
    const current = this.compactor.revision;
    if (revision <= current) throw compacted(revision, current);
    await this.compactor.compact(revision);
  }

  /** Applies the retention policy now and waits until its compaction finished. */
  async runCompactionPolicy(): Promise<void> {
    this.checkOpen();
    await this.compactor.runPolicy();
  }

  async currentRevision(): Promise<Revision> {
    this.checkOpen();
    return this.rev;
  }

  async compactRevision(): Promise<Revision> {
    return this.compactor.revision;
  }

  /** Commits queued writes, stops compaction between batches, ends watches, closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.flush();
    await this.compactor.stop();
    this.hub.close();
    this.db.close();
  }

  private enqueue(op: Op, key: string, value: Uint8Array | undefined, expected: Revision | undefined) {
    return new Promise<KeyValue | DeleteResult>((resolve, reject) => {
      if (this.closed) throw unavailable('storage is closed');
      checkKey(key);
      this.queue.push({ op, key, value, expected, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits every queued write in one transaction, publishes, then settles the promises. */
  private flush(): void {
    this.flushScheduled = false;
    const ops = this.queue;
    if (ops.length === 0) return;
    this.queue = [];
    const outcomes: Outcome[] = [];
    const events: WatchEvent[] = [];
    const revBefore = this.rev;
    try {
      this.applyBatch.immediate(ops, outcomes, events);
    } catch (err) {
      this.rev = revBefore;
      const e = unavailable(`sqlite write failed: ${err instanceof Error ? err.message : String(err)}`, err);
      for (const w of ops) w.reject(e);
      return;
    }
    this.hub.publish(events);
    for (let i = 0; i < ops.length; i++) {
      const o = outcomes[i]!;
      if ('ok' in o) ops[i]!.resolve(o.ok);
      else ops[i]!.reject(o.err);
    }
    this.compactor.noteWrites();
  }

  /** One write inside the batch transaction; throws a StorageError when its check fails. */
  private apply(w: PendingWrite, events: WatchEvent[]): KeyValue | DeleteResult {
    const { key } = w;
    const latest = this.stmts.latest.get(key);
    const live = latest !== undefined && latest.deleted === 0 ? latest : undefined;
    const rev = this.rev + 1;
    if (w.op === 'create') {
      if (live) throw keyExists(key, rowToKv(live));
      const value = w.value!;
      this.stmts.insert.run(rev, key, rev, 0, 0, value);
      this.rev = rev;
      events.push({ type: 'ADDED', key, value, modRevision: rev, createRevision: rev });
      return { key, value, createRevision: rev, modRevision: rev };
    }
    if (!live) throw keyNotFound(key);
    if (w.expected !== undefined && live.id !== w.expected) throw conflict(key, w.expected, rowToKv(live));
    const createRevision = live.create_revision;
    if (w.op === 'update') {
      const value = w.value!;
      this.stmts.insert.run(rev, key, createRevision, live.id, 0, value);
      this.rev = rev;
      events.push({ type: 'MODIFIED', key, value, prevValue: live.value, modRevision: rev, createRevision });
      return { key, value, createRevision, modRevision: rev };
    }
    this.stmts.insert.run(rev, key, createRevision, live.id, 1, live.value);
    this.rev = rev;
    events.push({
      type: 'DELETED',
      key,
      value: live.value,
      prevValue: live.value,
      modRevision: rev,
      createRevision,
    });
    return { prev: rowToKv(live), revision: rev };
  }

  private replay(prefix: string, after: Revision, upTo: Revision, limit: number): WatchEvent[] {
    const end = prefixEnd(prefix);
    const rows =
      end === undefined
        ? this.stmts.replayOpen.all(after, upTo, prefix, limit)
        : this.stmts.replayRange.all(after, upTo, prefix, end, limit);
    return rows.map(rowToEvent);
  }

  private checkOpen(): void {
    if (this.closed) throw unavailable('storage is closed');
  }

  private readRevision(requested: Revision | undefined): Revision {
    if (requested === undefined || requested === 0) return this.rev;
    checkReadRevision(requested, this.compactor.revision, this.rev);
    return requested;
  }
}

function rowToKv(row: LogRow): KeyValue {
  return { key: row.key, value: row.value, createRevision: row.create_revision, modRevision: row.id };
}

function rowToEvent(row: ReplayRow): WatchEvent {
  const base = { key: row.key, value: row.value, modRevision: row.id, createRevision: row.create_revision };
  if (row.deleted !== 0) return { type: 'DELETED', ...base, prevValue: row.value };
  if (row.prev_revision === 0) return { type: 'ADDED', ...base };
  return row.prev_value === null
    ? { type: 'MODIFIED', ...base }
    : { type: 'MODIFIED', ...base, prevValue: row.prev_value };
}
