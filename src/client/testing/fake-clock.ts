// A Clock whose time moves only when a test says so. `step(ms)` fires every timer that
// falls due, in due-time order, with `now()` reading each timer's due time while it runs,
// so code that re-arms timers from inside a callback sees consistent time.
import { type Clock, sleepOn, type TimerHandle } from '../clock.js';

interface FakeTimer {
  due: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** A manually advanced clock for deterministic tests. */
export class FakeClock implements Clock {
  private time: number;
  private seq = 0;
  private timers: FakeTimer[] = [];

  /** Starts at `start` ms since the epoch (default 2024-01-02T03:04:05Z). */
  constructor(start = Date.UTC(2024, 0, 2, 3, 4, 5)) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t: FakeTimer = { due: this.time + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.timers.push(t);
    return {
      cancel: () => {
        t.cancelled = true;
      },
    };
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal);
  }

  /** Number of pending (uncancelled) timers: lets a test wait until code is parked on the clock. */
  waiters(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /** Advances time by `ms`, firing due timers synchronously in order. */
  step(ms: number): void {
    this.setTime(this.time + ms);
  }

  /** Moves time to `t` (never backwards), firing due timers in order. */
  setTime(t: number): void {
    for (;;) {
      const next = this.nextDue(t);
      if (next === undefined) break;
      this.timers.splice(this.timers.indexOf(next), 1);
      this.time = Math.max(this.time, next.due);
      next.fn();
    }
    this.timers = this.timers.filter((x) => !x.cancelled);
    this.time = Math.max(this.time, t);
  }

  /**
   * Advances by `ms` and then lets promise continuations run, so async code woken by a
   * timer (a sleep resolving) gets to its next await before the test looks.
   */
  async advance(ms: number): Promise<void> {
    this.step(ms);
    await flushMicrotasks();
  }

  private nextDue(limit: number): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const x of this.timers) {
      if (x.cancelled || x.due > limit) continue;
      if (best === undefined || x.due < best.due || (x.due === best.due && x.seq < best.seq)) best = x;
    }
    return best;
  }
}

/** Lets pending promise callbacks (and one macrotask turn) run. */
export async function flushMicrotasks(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
}
