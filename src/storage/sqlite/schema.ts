// The sqlite schema and connection settings of the embedded store.
//
// One append-only table, one row per write, the row id is the revision (kine's model):
//   kv_log(id, key, create_revision, prev_revision, deleted, value)
// - prev_revision: the row this write superseded while the key was live (0 for a create).
//   Compaction follows these links to delete superseded rows by primary key, so its cost is
//   proportional to the history it removes, never to the table size.
// - deleted = 1 marks a tombstone; it carries the key's last value, which is what a DELETED
//   watch event reports.
// - kv_meta holds the compact revision and how far compaction has physically progressed.
//
// Settings: WAL journal; synchronous NORMAL (a commit is in the WAL, i.e. in the OS page
// cache, before it is acknowledged: safe against a process crash) or FULL (fsync of the WAL
// on every commit: safe against power loss); exclusive locking, because the store caches
// the revision counter and must be the only writer; incremental auto-vacuum so space freed
// by compaction goes back to the file system.

import Database from 'better-sqlite3';

/** Durability of acknowledged writes. */
export type SyncMode = 'normal' | 'full';

/** A kv_log row as read back. */
export interface LogRow {
  id: number;
  key: string;
  create_revision: number;
  prev_revision: number;
  deleted: number;
  value: Buffer;
}

/** A kv_log row joined with the value of the row it superseded (for watch replay). */
export interface ReplayRow extends LogRow {
  prev_value: Buffer | null;
}

/** Opens (creating if needed) the database file with the store's settings. */
export function openDatabase(path: string, sync: SyncMode): Database.Database {
  // Exclusive locking: the lock is only ever held by another process using the same file,
  // so waiting for it is pointless.
  const db = new Database(path, { timeout: 100 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    // auto_vacuum only takes effect before the first table exists; harmless afterwards.
    db.pragma('auto_vacuum = INCREMENTAL');
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (String(mode).toLowerCase() !== 'wal') throw new Error(`cannot enable WAL mode (got ${String(mode)})`);
    db.pragma(`synchronous = ${sync === 'full' ? 'FULL' : 'NORMAL'}`);
    // A checkpoint leaves the WAL file at most this large.
    db.pragma(`journal_size_limit = ${16 * 1024 * 1024}`);
    db.pragma('cache_size = -32000');
    db.exec(`
      CREATE TABLE IF NOT EXISTS kv_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL,
        create_revision INTEGER NOT NULL,
        prev_revision INTEGER NOT NULL,
        deleted INTEGER NOT NULL,
        value BLOB NOT NULL
      );
      CREATE INDEX IF NOT EXISTS kv_log_key_id ON kv_log (key, id);
      CREATE TABLE IF NOT EXISTS kv_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
    `);
    return db;
  } catch (err) {
    db.close();
    if (err instanceof Error && /locked|busy/i.test(err.message)) {
      throw new Error(`sqlite database ${path} is in use by another process`, { cause: err });
    }
    throw err;
  }
}

/** The prepared statements of the store, compiled once per connection. */
export class Statements {
  readonly latest: Database.Statement<[string], LogRow>;
  readonly latestAt: Database.Statement<[string, number], LogRow>;
  readonly insert: Database.Statement<[number, string, number, number, number, Uint8Array]>;
  readonly listRange: Database.Statement<[string, string, number, number, number], LogRow>;
  readonly listOpen: Database.Statement<[string, number, number, number], LogRow>;
  readonly countRange: Database.Statement<[string, string], { n: number }>;
  readonly countOpen: Database.Statement<[string], { n: number }>;
  readonly replayRange: Database.Statement<[number, number, string, string, number], ReplayRow>;
  readonly replayOpen: Database.Statement<[number, number, string, number], ReplayRow>;
  readonly maxRevision: Database.Statement<[], { rev: number | null }>;
  readonly getMeta: Database.Statement<[string], { value: number }>;
  readonly setMeta: Database.Statement<[string, number]>;

  constructor(db: Database.Database) {
    const cols = 'l.id, l.key, l.create_revision, l.prev_revision, l.deleted, l.value';
    this.latest = db.prepare(`SELECT ${cols} FROM kv_log l WHERE l.key = ? ORDER BY l.id DESC LIMIT 1`);
    this.latestAt = db.prepare(
      `SELECT ${cols} FROM kv_log l WHERE l.key = ? AND l.id <= ? ORDER BY l.id DESC LIMIT 1`,
    );
    this.insert = db.prepare(
      'INSERT INTO kv_log (id, key, create_revision, prev_revision, deleted, value) VALUES (?, ?, ?, ?, ?, ?)',
    );
    // The newest row of each key at or before the snapshot revision, walking the
    // (key, id) index in key order so a LIMIT stops the scan early.
    const newestAt = 'l.id = (SELECT MAX(m.id) FROM kv_log m WHERE m.key = l.key AND m.id <= ?)';
    this.listRange = db.prepare(
      `SELECT ${cols} FROM kv_log l WHERE l.key >= ? AND l.key < ? AND l.id <= ? AND ${newestAt}
       AND l.deleted = 0 ORDER BY l.key LIMIT ?`,
    );
    this.listOpen = db.prepare(
      `SELECT ${cols} FROM kv_log l WHERE l.key >= ? AND l.id <= ? AND ${newestAt}
       AND l.deleted = 0 ORDER BY l.key LIMIT ?`,
    );
    const newest = 'l.id = (SELECT MAX(m.id) FROM kv_log m WHERE m.key = l.key)';
    this.countRange = db.prepare(
      `SELECT COUNT(*) AS n FROM kv_log l WHERE l.key >= ? AND l.key < ? AND ${newest} AND l.deleted = 0`,
    );
    this.countOpen = db.prepare(
      `SELECT COUNT(*) AS n FROM kv_log l WHERE l.key >= ? AND ${newest} AND l.deleted = 0`,
    );
    const replayCols = `${cols}, p.value AS prev_value`;
    const join = 'LEFT JOIN kv_log p ON p.id = l.prev_revision AND l.deleted = 0';
    this.replayRange = db.prepare(
      `SELECT ${replayCols} FROM kv_log l ${join}
       WHERE l.id > ? AND l.id <= ? AND l.key >= ? AND l.key < ? ORDER BY l.id LIMIT ?`,
    );
    this.replayOpen = db.prepare(
      `SELECT ${replayCols} FROM kv_log l ${join}
       WHERE l.id > ? AND l.id <= ? AND l.key >= ? ORDER BY l.id LIMIT ?`,
    );
    this.maxRevision = db.prepare(
      `SELECT MAX(v) AS rev FROM (SELECT seq AS v FROM sqlite_sequence WHERE name = 'kv_log'
       UNION ALL SELECT MAX(id) FROM kv_log)`,
    );
    this.getMeta = db.prepare('SELECT value FROM kv_meta WHERE name = ?');
    this.setMeta = db.prepare(
      'INSERT INTO kv_meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value',
    );
  }

  /** Reads an integer from kv_meta (0 if unset). */
  meta(name: string): number {
    return this.getMeta.get(name)?.value ?? 0;
  }
}
