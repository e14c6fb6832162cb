// The work queue contract (client-go util/workqueue), which every controller relies on:
//
// - Fair: items are handed out in the order they were added (FIFO).
// - Stingy: an item added many times before a worker picks it up is processed once; the
//   `dirty` set holds every item that needs processing and dedupes re-adds.
// - Never concurrent per item: an item handed to a worker sits in `processing` until the
//   worker calls `done(item)`. Re-adding it meanwhile only marks it dirty; `done` puts it
//   back on the queue, so the newest state is processed again, but never by two workers at
//   once.
// - `shutDown()` makes `get()` report shutdown once the queue is empty and ignores later
//   adds; `shutDownWithDrain()` additionally waits until every item handed out is `done`.
//
// Items are compared by identity (`===`, as a Set does), so controllers queue string keys.

/** What `get()` returns: the next item, or shutdown once the queue is shut down and empty. */
export type GetResult<T> = { item: T; shutdown: false } | { item?: undefined; shutdown: true };

/** The basic work queue interface (client-go's TypedInterface). */
export interface WorkQueue<T> {
  /** Marks item as needing processing. */
  add(item: T): void;
  /** Items waiting to be handed out (not counting items being processed). */
  len(): number;
  /** Waits for the next item; reports shutdown once shut down and empty. */
  get(): Promise<GetResult<T>>;
  /** Marks item as processed; if it was re-added meanwhile it goes back on the queue. */
  done(item: T): void;
  /** Stops accepting items; waiting getters get shutdown once the queue empties. */
  shutDown(): void;
  /** Shuts down and resolves once every handed-out item is done. */
  shutDownWithDrain(): Promise<void>;
  /** True once shutDown has been called. */
  shuttingDown(): boolean;
}

/** The FIFO, deduplicating, per-item exclusive work queue. */
export class Queue<T> implements WorkQueue<T> {
  // A ring of items waiting to be handed out; `head` avoids O(n) shift on large queues.
  private queue: T[] = [];
  private head = 0;
  private readonly dirty = new Set<T>();
  private readonly processing = new Set<T>();
  private readonly getters: Array<(r: GetResult<T>) => void> = [];
  private drainWaiters: Array<() => void> = [];
  private shutdownFlag = false;
  private draining = false;

  add(item: T): void {
    if (this.shutdownFlag) return;
    if (this.dirty.has(item)) return;
    this.dirty.add(item);
    if (this.processing.has(item)) return;
    this.push(item);
  }

  len(): number {
    return this.queue.length - this.head;
  }

  get(): Promise<GetResult<T>> {
    if (this.len() > 0) return Promise.resolve({ item: this.take(), shutdown: false });
    if (this.shutdownFlag) return Promise.resolve({ shutdown: true });
    return new Promise((resolve) => this.getters.push(resolve));
  }

  done(item: T): void {
    this.processing.delete(item);
    if (this.dirty.has(item)) {
      this.push(item);
    } else if (this.processing.size === 0 && this.drainWaiters.length > 0) {
      const ws = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of ws) w();
    }
  }

  shutDown(): void {
    if (this.shutdownFlag) return;
    this.shutdownFlag = true;
    this.onShutdown();
    // Waiting getters exist only when the queue is empty, so each learns of the shutdown now.
    for (const g of this.getters.splice(0)) g({ shutdown: true });
  }

  shutDownWithDrain(): Promise<void> {
    this.draining = true;
    this.shutDown();
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  shuttingDown(): boolean {
    return this.shutdownFlag;
  }

  /** True while shutDownWithDrain waits for processing items. */
  isDraining(): boolean {
    return this.draining && this.processing.size > 0;
  }

  /** Hook for subclasses that own timers. */
  protected onShutdown(): void {}

  private push(item: T): void {
    const getter = this.getters.shift();
    if (getter !== undefined) {
      // Hand the item straight to the longest-waiting worker: it is processing from now on.
      this.dirty.delete(item);
      this.processing.add(item);
      getter({ item, shutdown: false });
      return;
    }
    this.queue.push(item);
  }

  private take(): T {
    const item = this.queue[this.head] as T;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.processing.add(item);
    this.dirty.delete(item);
    return item;
  }
}
