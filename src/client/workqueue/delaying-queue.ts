// A work queue whose items can be added after a delay (client-go's DelayingInterface).
// Waiting items live in a min-heap ordered by ready time; one clock timer is armed for the
// earliest. Adding an item that is already waiting keeps the earlier of the two ready times,
// as upstream does, so repeated `addAfter` never postpones work.
import { type Clock, realClock, type TimerHandle } from '../clock.js';
import { Queue, type WorkQueue } from './queue.js';

/** A work queue with delayed adds. */
export interface DelayingWorkQueue<T> extends WorkQueue<T> {
  /** Adds item after `delayMs` milliseconds (immediately when <= 0). */
  addAfter(item: T, delayMs: number): void;
}

interface Waiting<T> {
  item: T;
  readyAt: number;
  seq: number;
}

/** The delaying work queue. */
export class DelayingQueue<T> extends Queue<T> implements DelayingWorkQueue<T> {
  private heap: Array<Waiting<T>> = [];
  private readonly waitingByItem = new Map<T, Waiting<T>>();
  private timer: TimerHandle | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private seq = 0;

  /** A delaying queue on `clock` (the real clock by default). */
  constructor(protected readonly clock: Clock = realClock) {
    super();
  }

  addAfter(item: T, delayMs: number): void {
    if (this.shuttingDown()) return;
    if (delayMs <= 0) {
      this.add(item);
      return;
    }
    const readyAt = this.clock.now() + delayMs;
    const existing = this.waitingByItem.get(item);
    if (existing !== undefined) {
      if (readyAt >= existing.readyAt) return;
      existing.readyAt = readyAt;
      this.heapify();
    } else {
      const w: Waiting<T> = { item, readyAt, seq: this.seq++ };
      this.waitingByItem.set(item, w);
      this.heapPush(w);
    }
    this.arm();
  }

  /** Number of items waiting for their delay to pass. */
  waitingLen(): number {
    return this.heap.length;
  }

  protected override onShutdown(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.heap = [];
    this.waitingByItem.clear();
  }

  private arm(): void {
    const first = this.heap[0];
    if (first === undefined) return;
    if (this.timer !== undefined && this.timerAt <= first.readyAt) return;
    this.timer?.cancel();
    this.timerAt = first.readyAt;
    this.timer = this.clock.setTimeout(() => this.fire(), first.readyAt - this.clock.now());
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    for (;;) {
      const first = this.heap[0];
      if (first === undefined || first.readyAt > now) break;
      this.heapPop();
      this.waitingByItem.delete(first.item);
      this.add(first.item);
    }
    this.arm();
  }

  private less(a: Waiting<T>, b: Waiting<T>): boolean {
    return a.readyAt < b.readyAt || (a.readyAt === b.readyAt && a.seq < b.seq);
  }

  private heapPush(w: Waiting<T>): void {
    const h = this.heap;
    h.push(w);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i] as Waiting<T>, h[p] as Waiting<T>)) break;
      [h[i], h[p]] = [h[p] as Waiting<T>, h[i] as Waiting<T>];
      i = p;
    }
  }

  private heapPop(): void {
    const h = this.heap;
    const last = h.pop();
    if (last === undefined || h.length === 0) return;
    h[0] = last;
    this.siftDown(0);
  }

  private siftDown(start: number): void {
    const h = this.heap;
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l] as Waiting<T>, h[m] as Waiting<T>)) m = l;
      if (r < h.length && this.less(h[r] as Waiting<T>, h[m] as Waiting<T>)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m] as Waiting<T>, h[i] as Waiting<T>];
      i = m;
    }
  }

  private heapify(): void {
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }
}
