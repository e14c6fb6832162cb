// In-process watch fan-out, and the bounded per-watcher event queue every backend uses.
//
// Contract of a `BoundedWatch`:
// - events come out in the order pushed, replayed history first, then live events;
// - a consumer that falls more than `bufferSize` events behind is failed with
//   `WatchOverflow` and its buffer is dropped at once, so a stuck client cannot grow memory;
//   the caller re-lists;
// - `close()` (or the abort signal) ends iteration normally; `fail(err)` makes the next
//   `next()` throw `err`.
//
// The `WatchHub` serves the memory and sqlite backends: writes are committed and published
// synchronously in the same tick, so a watcher registered at current revision C receives
// every event > C live, and history (from, C] is replayed from the backend's log in pages,
// lazily, as the consumer pulls. No gap, no duplicate, no polling delay.

import {
  compacted,
  type Revision,
  StorageError,
  unavailable,
  type Watch,
  type WatchEvent,
  type WatchOptions,
} from './storage.js';

/** Default most buffered events per watcher before it is failed with `WatchOverflow`. */
export const DEFAULT_WATCH_BUFFER = 10_000;

/** Events replayed from history per page. */
const REPLAY_PAGE = 500;

/** Reads one page of history for a replaying watcher. */
export type ReplaySource = () => WatchEvent[] | null;

/** Construction options of a `BoundedWatch`. */
export interface BoundedWatchOptions {
  /** Events with modRevision <= fromRevision are dropped. */
  fromRevision: Revision;
  bufferSize?: number;
  signal?: AbortSignal;
  /** Called once when the watch stops for any reason (unregister, cancel upstream). */
  onStop?: () => void;
  /** Revision up to which the upstream has delivered everything, when the buffer is empty. */
  progressFloor?: () => Revision;
}

/** A watch backed by a bounded queue; backends push events and failures into it. */
export class BoundedWatch implements Watch {
  private buf: WatchEvent[] = [];
  private head = 0;
  private replayPage: WatchEvent[] = [];
  private replayHead = 0;
  private replay: ReplaySource | undefined;
  private replayPulled = false;
  private error: StorageError | undefined;
  private stopped = false;
  private waiter: (() => void) | undefined;
  private lastYielded: Revision;
  private readonly from: Revision;
  private readonly limit: number;
  private readonly opts: BoundedWatchOptions;
  private readonly onAbort = (): void => this.close();

  constructor(opts: BoundedWatchOptions) {
    this.opts = opts;
    this.from = opts.fromRevision;
    this.lastYielded = opts.fromRevision;
    this.limit = opts.bufferSize ?? DEFAULT_WATCH_BUFFER;
    if (opts.signal?.aborted) this.stopped = true;
    else opts.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Installs a history source drained before any live event. */
  setReplay(source: ReplaySource): void {
    this.replay = source;
  }

  /** True once closed or failed: pushes are ignored. */
  get isStopped(): boolean {
    return this.stopped;
  }

  /** Queues a live event; fails the watch with `WatchOverflow` if the consumer is too slow. */
  push(ev: WatchEvent): void {
    if (this.stopped || ev.modRevision <= this.from) return;
    if (this.buf.length - this.head >= this.limit) {
      this.fail(
        new StorageError(
          'WatchOverflow',
          `watch consumer fell more than ${this.limit} events behind (at revision ${ev.modRevision}); re-list and watch again`,
        ),
      );
      return;
    }
    this.buf.push(ev);
    this.wake();
  }

  /** Ends the watch with an error thrown from the next `next()`. */
  fail(err: StorageError): void {
    if (this.stopped) return;
    this.error = err;
    this.stop();
  }

  /** Stops the watch; iteration ends normally. */
  close(): void {
    this.stop();
  }

  progressRevision(): Revision {
    const idle = this.replay === undefined && this.buf.length === this.head && !this.stopped;
    if (idle && this.opts.progressFloor) return Math.max(this.lastYielded, this.opts.progressFloor());
    return this.lastYielded;
  }

  /** Returns the next event; throws the failure, if any; done once closed. */
  async next(): Promise<IteratorResult<WatchEvent>> {
    for (;;) {
      if (this.error) {
        const e = this.error;
        this.error = undefined;
        throw e;
      }
      if (this.stopped) return { done: true, value: undefined };
      if (this.replay) {
        if (this.replayHead < this.replayPage.length)
          return this.yieldEvent(this.replayPage[this.replayHead++]!);
        // Give the event loop a turn between pages of a long replay.
        if (this.replayPulled) await new Promise<void>((r) => setImmediate(r));
        if (this.stopped) continue;
        this.replayPulled = true;
        let page: WatchEvent[] | null;
        try {
          page = this.replay();
        } catch (err) {
          this.fail(err instanceof StorageError ? err : unavailable('watch replay failed', err));
          continue;
        }
        if (page === null) this.replay = undefined;
        else {
          this.replayPage = page;
          this.replayHead = 0;
        }
        continue;
      }
      if (this.head < this.buf.length) {
        const ev = this.buf[this.head++]!;
        if (this.head > 1024 && this.head * 2 > this.buf.length) {
          this.buf = this.buf.slice(this.head);
          this.head = 0;
        }
        return this.yieldEvent(ev);
      }
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
    }
  }

  /** Ends iteration early (`break` in `for await`). */
  async return(): Promise<IteratorResult<WatchEvent>> {
    this.close();
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    return this;
  }

  private yieldEvent(ev: WatchEvent): IteratorResult<WatchEvent> {
    this.lastYielded = ev.modRevision;
    return { done: false, value: ev };
  }

  private stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.buf = [];
    this.head = 0;
    this.replay = undefined;
    this.replayPage = [];
    this.opts.signal?.removeEventListener('abort', this.onAbort);
    this.wake();
    this.opts.onStop?.();
  }

  private wake(): void {
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      w();
    }
  }
}

/** What the hub needs from a backend that keeps its own log. */
export interface WatchHubSource {
  /** The revision of the last committed (and published) write. */
  currentRevision(): Revision;
  /** History before this revision is gone. */
  compactRevision(): Revision;
  /** Up to `limit` events under `prefix` with after < modRevision <= upTo, in order. */
  replay(prefix: string, after: Revision, upTo: Revision, limit: number): WatchEvent[];
}

interface Registration {
  prefix: string;
  watch: BoundedWatch;
}

/** One fan-out per store: every committed event goes to every matching watcher. */
export class WatchHub {
  private readonly watchers = new Set<Registration>();
  private closed = false;

  constructor(private readonly source: WatchHubSource) {}

  /** Number of live watchers (for tests and metrics). */
  get size(): number {
    return this.watchers.size;
  }

  /** Starts a watch; history before the current revision is replayed first. */
  watch(prefix: string, opts: WatchOptions = {}): Watch {
    const current = this.source.currentRevision();
    const from = opts.fromRevision ?? current;
    const reg: Registration = { prefix, watch: undefined as unknown as BoundedWatch };
    const w = new BoundedWatch({
      fromRevision: from,
      ...(opts.bufferSize !== undefined && { bufferSize: opts.bufferSize }),
      ...(opts.signal && { signal: opts.signal }),
      onStop: () => this.watchers.delete(reg),
      progressFloor: () => this.source.currentRevision(),
    });
    reg.watch = w;
    if (this.closed) {
      w.fail(unavailable('storage is closed'));
      return w;
    }
    if (!Number.isSafeInteger(from) || from < 0) {
      w.fail(new StorageError('InvalidArgument', `invalid watch revision ${from}`));
      return w;
    }
    const compactRev = this.source.compactRevision();
    if (from < compactRev) {
      w.fail(compacted(from, compactRev));
      return w;
    }
    if (w.isStopped) return w;
    this.watchers.add(reg);
    if (from < current) {
      let cursor = from;
      w.setReplay(() => {
        if (cursor >= current) return null;
        const compactNow = this.source.compactRevision();
        if (compactNow > cursor) throw compacted(cursor, compactNow);
        const page = this.source.replay(prefix, cursor, current, REPLAY_PAGE);
        cursor = page.length < REPLAY_PAGE ? current : page[page.length - 1]!.modRevision;
        return page;
      });
    }
    return w;
  }

  /** Delivers committed events (in revision order) to every matching watcher. */
  publish(events: readonly WatchEvent[]): void {
    if (this.watchers.size === 0) return;
    for (const reg of this.watchers) {
      const p = reg.prefix;
      for (const ev of events) {
        if (ev.key.startsWith(p)) reg.watch.push(ev);
      }
    }
  }

  /** Fails every watcher with `Unavailable` and refuses new ones. */
  close(): void {
    this.closed = true;
    for (const reg of [...this.watchers]) reg.watch.fail(unavailable('storage is closed'));
    this.watchers.clear();
  }
}
