// src/storage: the revisioned key-value store with watch that the API server persists to.
//
// Contract (storage.ts has the details; conformance.ts checks them on every backend):
// - One global revision; every successful write takes the next one, failed writes none.
//   Records are {key, value, createRevision, modRevision}; values are opaque bytes (the
//   API server's JSON), never rewritten here.
// - create fails with KeyExists; update/delete with an expected mod-revision are
//   compare-and-swap and fail with Conflict carrying the current record; update/delete of a
//   missing key fail with NotFound; get of a missing key returns undefined.
// - list(prefix, {revision, limit, continue}) pages in key byte order over one snapshot; the
//   continue token carries key + revision. Reading below the compact revision fails with
//   Compacted, above the current revision with FutureRevision.
// - watch(prefix, {fromRevision}) yields every event with revision > fromRevision in order,
//   no gaps, each with its previous value; fromRevision < compact revision fails with
//   Compacted; a consumer more than `bufferSize` (10,000) events behind fails with
//   WatchOverflow. `Watch.progressRevision()` is the safe bookmark revision.
// - Backends: memory:// (tests), sqlite://PATH (embedded default: append-only log, WAL,
//   group commit, bounded history with automatic compaction), etcd://HOSTS (etcd v3).
//   `openStorage(endpoint)` picks one; every backend has `close()`.

export type {
  DeleteResult,
  KeyValue,
  ListOptions,
  ListResult,
  Revision,
  Storage,
  StorageErrorCode,
  Watch,
  WatchEvent,
  WatchEventType,
  WatchOptions,
} from './storage.js';
export { isStorageError, StorageError } from './storage.js';
export { type OpenStorageOptions, openStorage } from './factory.js';
export { MemoryStorage } from './memory.js';
export { SqliteStorage, type SqliteStorageOptions } from './sqlite/sqlite-storage.js';
export { type CompactionPolicy, DEFAULT_COMPACTION_POLICY } from './sqlite/compactor.js';
export type { SyncMode } from './sqlite/schema.js';
export { EtcdStorage, type EtcdStorageOptions } from './etcd.js';
export { DEFAULT_WATCH_BUFFER } from './watch-hub.js';
