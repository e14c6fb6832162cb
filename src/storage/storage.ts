// The Storage contract every backend (memory, sqlite, etcd) implements, and its error type.
//
// Semantics are etcd v3's, restated here so the three backends agree exactly:
// - One global revision counter. Every successful write (create, update, delete) takes the
//   next revision; a failed write takes none. Revisions are positive safe integers.
// - A record's `createRevision` is the revision that created it (a key deleted and created
//   again gets a new one); `modRevision` is the revision of its last write.
// - `update`/`delete` with an expected mod-revision are compare-and-swap: on mismatch they
//   fail with `Conflict` carrying the current record. Without one they are unconditional
//   but the key must exist (`NotFound` otherwise).
// - Reads at a revision R see the state right after R was written. `R < compactRevision`
//   fails with `Compacted`; `R > currentRevision` fails with `FutureRevision`.
// - `watch(prefix, {fromRevision})` yields every event with revision > fromRevision, in
//   revision order, without gaps. It fails with `Compacted` if fromRevision <
//   compactRevision (history after a list at revision R is watchable iff the list at R was
//   allowed). A fromRevision in the future is allowed: events start after it.

/** A revision of the store: the global write counter (positive safe integer). */
export type Revision = number;

/** One key's current (or historical) value. */
export interface KeyValue {
  key: string;
  value: Uint8Array;
  /** Revision of the write that created this incarnation of the key. */
  createRevision: Revision;
  /** Revision of the last write to the key. */
  modRevision: Revision;
}

/** Options of `Storage.list`. */
export interface ListOptions {
  /** Read the snapshot at this revision (default: current). Ignored when `continue` is set. */
  revision?: Revision;
  /** At most this many items (0 or absent: no limit). */
  limit?: number;
  /** Token from a previous page: resumes after its last key, at its revision. */
  continue?: string;
}

/** One page of a list. */
export interface ListResult {
  items: KeyValue[];
  /** The snapshot revision the page was read at (the same for every page of one list). */
  revision: Revision;
  /** Set when more items follow: pass it back as `ListOptions.continue`. */
  continue?: string;
}

/** The kinds of watch events (the names Kubernetes watch events use). */
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One change seen by a watch. */
export interface WatchEvent {
  type: WatchEventType;
  key: string;
  /** The new value; for DELETED, the last value the key had before the delete. */
  value: Uint8Array;
  /** The value before this write (absent for ADDED). */
  prevValue?: Uint8Array;
  /** Revision of this write. */
  modRevision: Revision;
  /** createRevision of the key's incarnation this event belongs to. */
  createRevision: Revision;
}

/** Options of `Storage.watch`. */
export interface WatchOptions {
  /**
   * Deliver events with revision > fromRevision. Default: the current revision, which is
   * exactly the one at the call for in-process backends, and the one etcd sees when the
   * watch reaches it for etcd; pass the revision of a list to watch without a gap.
   */
  fromRevision?: Revision;
  /** Aborting ends the iteration normally (done), like `Watch.close()`. */
  signal?: AbortSignal;
  /** Most events held for a slow consumer before the watch fails with `WatchOverflow`. */
  bufferSize?: number;
}

/**
 * A running watch: iterate it for events. Iteration throws a `StorageError`
 * (`Compacted`, `WatchOverflow`, `Unavailable`) when the watch can no longer continue; the
 * caller then re-lists and watches again.
 */
export interface Watch extends AsyncIterable<WatchEvent> {
  /**
   * Every event matching this watch with revision <= the returned value has been yielded
   * to the consumer: a safe revision for a bookmark.
   */
  progressRevision(): Revision;
  /** Stops the watch; a pending or later `next()` resolves done. Idempotent. */
  close(): void;
}

/** Result of a delete. */
export interface DeleteResult {
  /** The record as it was right before the delete. */
  prev: KeyValue;
  /** The revision of the delete itself. */
  revision: Revision;
}

/** The revisioned key-value store with watch (etcd v3 semantics). */
export interface Storage {
  /**
   * Whether a watch's `progressRevision()` follows writes under other prefixes at once.
   * True for the embedded backends (one write log in this process); false for etcd, which
   * only reports progress periodically, so a consistent read there must go to storage
   * rather than wait for a watch cache to prove it is current.
   */
  readonly promptProgress: boolean;
  /** Stores a new key; fails with `KeyExists` (carrying the current record) if it exists. */
  create(key: string, value: Uint8Array): Promise<KeyValue>;
  /** The record at the current (or given) revision, or undefined if absent there. */
  get(key: string, opts?: { revision?: Revision }): Promise<KeyValue | undefined>;
  /** Records whose key starts with `prefix`, in key (byte) order, paged. */
  list(prefix: string, opts?: ListOptions): Promise<ListResult>;
  /** Number of live keys starting with `prefix` at the current revision. */
  count(prefix: string): Promise<number>;
  /**
   * Replaces the value of an existing key. With `expectedModRevision` it is a
   * compare-and-swap failing with `Conflict` (carrying the current record) on mismatch.
   */
  update(key: string, value: Uint8Array, expectedModRevision?: Revision): Promise<KeyValue>;
  /** Deletes an existing key (`NotFound` if absent), optionally compare-and-swap. */
  delete(key: string, expectedModRevision?: Revision): Promise<DeleteResult>;
  /** Streams changes under `prefix`; see `WatchOptions` for the start point. */
  watch(prefix: string, opts?: WatchOptions): Watch;
  /**
   * Discards history before `revision`: reads and watches needing older state then fail
   * with `Compacted`. Fails with `Compacted` if already compacted at or past `revision`.
   */
  compact(revision: Revision): Promise<void>;
  /** The revision of the last successful write (the store's current revision). */
  currentRevision(): Promise<Revision>;
  /** The revision history was last compacted at (0 if never); best effort on etcd. */
  compactRevision(): Promise<Revision>;
  /** Releases files, connections and timers; ends every watch. */
  close(): Promise<void>;
}

/** Stable codes of `StorageError`. */
export type StorageErrorCode =
  | 'KeyExists'
  | 'Conflict'
  | 'NotFound'
  | 'Compacted'
  | 'FutureRevision'
  | 'WatchOverflow'
  | 'InvalidArgument'
  | 'Unavailable';

/** The one error type of the storage layer; the API server maps `code` to a StatusError. */
export class StorageError extends Error {
  /** What went wrong, stable across backends. */
  readonly code: StorageErrorCode;
  /** The key concerned, when there is one. */
  readonly key: string | undefined;
  /** For `Conflict` and `KeyExists`: the record as it is now. */
  readonly current: KeyValue | undefined;

  constructor(
    code: StorageErrorCode,
    message: string,
    opts: { key?: string; current?: KeyValue; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'StorageError';
    this.code = code;
    this.key = opts.key;
    this.current = opts.current;
  }
}

/** True if `err` is a StorageError with the given code. */
export function isStorageError(err: unknown, code?: StorageErrorCode): err is StorageError {
  return err instanceof StorageError && (code === undefined || err.code === code);
}

/** `KeyExists` for a create of an existing key. */
export function keyExists(key: string, current?: KeyValue): StorageError {
  return new StorageError('KeyExists', `key already exists: ${key}`, { key, ...(current && { current }) });
}

/** `Conflict` for a compare-and-swap whose expected revision is stale. */
export function conflict(key: string, expected: Revision, current: KeyValue): StorageError {
  return new StorageError(
    'Conflict',
    `key ${key}: expected mod revision ${expected}, current is ${current.modRevision}`,
    { key, current },
  );
}

/** `NotFound` for an update or delete of a missing key. */
export function keyNotFound(key: string): StorageError {
  return new StorageError('NotFound', `key not found: ${key}`, { key });
}

/** `Compacted` for a read or watch that needs discarded history. */
export function compacted(requested: Revision, compactRevision: Revision): StorageError {
  return new StorageError(
    'Compacted',
    `required revision ${requested} has been compacted (compact revision ${compactRevision})`,
  );
}

/** `FutureRevision` for a read past the current revision. */
export function futureRevision(requested: Revision, current: Revision): StorageError {
  return new StorageError(
    'FutureRevision',
    `required revision ${requested} is a future revision (current revision ${current})`,
  );
}

/** `Unavailable` when the store is closed or its backend cannot be reached. */
export function unavailable(message: string, cause?: unknown): StorageError {
  return new StorageError('Unavailable', message, { cause });
}
