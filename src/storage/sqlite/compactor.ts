// Compaction of the sqlite log: decides how much history to keep, deletes the rest in
// short batches, then gives the space back (incremental vacuum) and truncates the WAL.
//
// Two numbers in kv_meta drive it:
// - compact_rev: the logical compact revision. Reads and watches before it fail with
//   Compacted from the moment it is raised, before any row is deleted.
// - compact_done: rows up to here have been physically processed. The worker walks
//   (compact_done, compact_rev] in id batches; each batch deletes the rows superseded by a
//   row in the batch (their prev_revision links) and the batch's tombstones, then records
//   its progress in the same transaction, so a crash mid-compaction resumes where it left.
//
// Batches are sized adaptively to stay under a time budget and the worker yields to the
// event loop between them, so writes and watch delivery never wait long behind compaction
// (the slow, unbounded compactions k3s users reported are the failure this avoids).

import { statSync } from 'node:fs';
import type Database from 'better-sqlite3';
import type { Revision } from '../storage.js';
import type { Statements } from './schema.js';

/** How much history the store keeps and how it compacts. */
export interface CompactionPolicy {
  /** Always keep at least this many newest revisions. */
  keepRevisions: number;
  /** Keep revisions younger than this (ms) even beyond `keepRevisions`... */
  keepAgeMs: number;
  /** ...but never more than this many revisions, whatever their age. */
  maxRevisions: number;
  /** How often the policy is evaluated (ms); 0 disables the timer. */
  intervalMs: number;
  /** Also evaluate after this many writes since the last evaluation (0: never). */
  everyWrites: number;
  /** Target duration of one delete batch (ms). */
  batchBudgetMs: number;
  /** Truncate the WAL after compaction when it is larger than this (bytes). */
  walTruncateBytes: number;
}

/** The defaults: kine-like 1,000 revisions, five minutes, at most 20,000 revisions. */
export const DEFAULT_COMPACTION_POLICY: CompactionPolicy = {
  keepRevisions: 1000,
  keepAgeMs: 5 * 60_000,
  maxRevisions: 20_000,
  intervalMs: 30_000,
  everyWrites: 2000,
  batchBudgetMs: 20,
  walTruncateBytes: 4 * 1024 * 1024,
};

/** What the compactor needs from the store that owns it. */
export interface CompactorHost {
  db: Database.Database;
  stmts: Statements;
  path: string;
  currentRevision(): Revision;
  now(): number;
  onError(err: unknown): void;
}

const MIN_SPAN = 64;
const MAX_SPAN = 200_000;

/** Owns compact_rev / compact_done and the background compaction worker of one store. */
export class Compactor {
  private compactRev: Revision;
  private done: Revision;
  private worker: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  private span = 4096;
  private lastEvaluatedRev: Revision;
  private samples: { t: number; rev: Revision }[] = [];
  private readonly deletePrev: Database.Statement<[number, number]>;
  private readonly deleteTombstones: Database.Statement<[number, number]>;

  constructor(
    private readonly host: CompactorHost,
    private readonly policy: CompactionPolicy,
  ) {
    const { db, stmts } = host;
    this.compactRev = stmts.meta('compact_rev');
    this.done = Math.min(stmts.meta('compact_done'), this.compactRev);
    this.deletePrev = db.prepare(
      `DELETE FROM kv_log WHERE id IN
       (SELECT prev_revision FROM kv_log WHERE id > ? AND id <= ? AND prev_revision > 0)`,
    );
    this.deleteTombstones = db.prepare('DELETE FROM kv_log WHERE id > ? AND id <= ? AND deleted = 1');
    this.lastEvaluatedRev = host.currentRevision();
    this.sample();
  }

  /** The logical compact revision. */
  get revision(): Revision {
    return this.compactRev;
  }

  /** Starts the policy timer and finishes any compaction a crash interrupted. */
  start(): void {
    if (this.policy.intervalMs > 0) {
      this.timer = setInterval(() => this.evaluate(), this.policy.intervalMs);
      this.timer.unref();
    }
    if (this.done < this.compactRev) this.kick();
  }

  /** Called after writes commit; evaluates the policy every `everyWrites` writes. */
  noteWrites(): void {
    const every = this.policy.everyWrites;
    if (every > 0 && this.host.currentRevision() - this.lastEvaluatedRev >= every) this.evaluate();
  }

  /** Raises the compact revision (validated by the caller) and waits until it is applied. */
  async compact(revision: Revision): Promise<void> {
    this.raise(revision);
    await this.kick();
  }

  /** Applies the retention policy now and waits for the result (tests, maintenance). */
  async runPolicy(): Promise<void> {
    this.evaluate();
    await (this.worker ?? Promise.resolve());
  }

  /** Stops the timer and waits for the current batch; a later open resumes the rest. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    await (this.worker ?? Promise.resolve());
  }

  /** The revision the policy would compact to now. */
  policyTarget(): Revision {
    const p = this.policy;
    const cur = this.host.currentRevision();
    const byAge = this.revisionBefore(this.host.now() - p.keepAgeMs);
    const target = Math.max(Math.min(cur - p.keepRevisions, byAge), cur - p.maxRevisions);
    return Math.max(0, target);
  }

  private evaluate(): void {
    if (this.stopping) return;
    this.sample();
    this.lastEvaluatedRev = this.host.currentRevision();
    const target = this.policyTarget();
    if (target > this.compactRev) {
      this.raise(target);
      this.kick().catch((err: unknown) => this.host.onError(err));
    }
  }

  private raise(revision: Revision): void {
    this.host.stmts.setMeta.run('compact_rev', revision);
    this.compactRev = revision;
  }

  private kick(): Promise<void> {
    if (!this.worker) {
      this.worker = this.work().finally(() => {
        this.worker = undefined;
      });
    }
    return this.worker;
  }

  private async work(): Promise<void> {
    // Raising compact_rev while we run extends the loop instead of starting a new worker.
    while (this.done < this.compactRev && !this.stopping) {
      this.batch();
      await yieldToLoop();
    }
    if (!this.stopping) await this.giveBackSpace();
  }

  private batch(): void {
    const lo = this.done;
    const hi = Math.min(lo + this.span, this.compactRev);
    const started = performance.now();
    this.host.db
      .transaction(() => {
        this.deletePrev.run(lo, hi);
        this.deleteTombstones.run(lo, hi);
        this.host.stmts.setMeta.run('compact_done', hi);
      })
      .immediate();
    this.done = hi;
    const took = performance.now() - started;
    const budget = this.policy.batchBudgetMs;
    if (took > budget) this.span = Math.max(MIN_SPAN, Math.floor(this.span / 2));
    else if (took < budget / 4 && hi - lo === this.span) this.span = Math.min(MAX_SPAN, this.span * 2);
  }

  /** Returns freed pages to the file system in bounded steps, then truncates a large WAL. */
  private async giveBackSpace(): Promise<void> {
    const { db } = this.host;
    if (Number(db.pragma('auto_vacuum', { simple: true })) === 2) {
      for (;;) {
        const free = Number(db.pragma('freelist_count', { simple: true }));
        const pages = Number(db.pragma('page_count', { simple: true }));
        if (free < 256 || free * 8 < pages || this.stopping) break;
        db.pragma('incremental_vacuum(2000)');
        await yieldToLoop();
      }
    }
    let walBytes = 0;
    try {
      walBytes = statSync(`${this.host.path}-wal`).size;
    } catch {
      // No WAL file yet: nothing to truncate.
    }
    if (walBytes > this.policy.walTruncateBytes && !this.stopping) db.pragma('wal_checkpoint(TRUNCATE)');
  }

  private sample(): void {
    const now = this.host.now();
    const last = this.samples[this.samples.length - 1];
    // One sample per second is plenty for an age horizon measured in minutes.
    if (!last || now - last.t >= 1000) this.samples.push({ t: now, rev: this.host.currentRevision() });
    // Keep one sample older than the age horizon; drop the ones before it.
    const horizon = now - this.policy.keepAgeMs;
    while (this.samples.length > 1 && this.samples[1]!.t <= horizon) this.samples.shift();
  }

  /** The newest sampled revision taken at or before time `t` (0 if none). */
  private revisionBefore(t: number): Revision {
    let rev = 0;
    for (const s of this.samples) {
      if (s.t <= t) rev = s.rev;
      else break;
    }
    return rev;
  }
}

function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
