// The scheduler's view of time: injected so tests drive backoff, flushes and Permit
// timeouts without sleeping. Structurally the same as the client library's Clock.

/** A cancellable scheduled callback. */
export interface TimerHandle {
  /** Cancels the callback if it has not run yet. */
  cancel(): void;
}

/** Time source and timers. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs fn once after ms milliseconds. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
}

/** The wall clock. */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, Math.max(0, ms));
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  },
};

/** A manual clock for tests: time moves only through advance(). */
export class ManualClock implements Clock {
  private t: number;
  private timers: { at: number; fn: () => void; cancelled: boolean }[] = [];

  /** Starts at `start` ms. */
  constructor(start = 1_700_000_000_000) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer = { at: this.t + Math.max(0, ms), fn, cancelled: false };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Moves time forward, running due timers in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => !x.cancelled && x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      this.t = Math.max(this.t, due.at);
      due.cancelled = true;
      due.fn();
    }
    this.timers = this.timers.filter((x) => !x.cancelled);
    this.t = end;
  }
}
