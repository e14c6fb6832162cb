// Time as the client library sees it. Every component that waits, expires or backs off
// takes a Clock, so tests drive time with the FakeClock in ../testing instead of sleeping.

/** An opaque handle for a scheduled callback. */
export interface TimerHandle {
  /** Cancels the callback if it has not run yet. */
  cancel(): void;
}

/** The passage of time, injectable for tests. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs fn once after `ms` milliseconds. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Resolves after `ms` milliseconds, or rejects with the signal's reason when aborted first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Sleeps on any clock, honouring an AbortSignal (shared by RealClock and FakeClock). */
export function sleepOn(clock: Pick<Clock, 'setTimeout'>, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const onAbort = (): void => {
      timer.cancel();
      reject(abortReason(signal as AbortSignal));
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The reason an AbortSignal carries, as an Error. */
export function abortReason(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  if (r instanceof Error) return r;
  const e = new Error(r === undefined ? 'aborted' : String(r));
  e.name = 'AbortError';
  return e;
}

/** True when err is what an aborted signal produced (our own or node's AbortError). */
export function isAbortError(err: unknown): boolean {
  return (
    err instanceof Error && (err.name === 'AbortError' || (err as { code?: unknown }).code === 'ABORT_ERR')
  );
}

/** The longest delay Node's setTimeout honours. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The wall clock backed by node timers. */
export class RealClock implements Clock {
  now(): number {
    return Date.now();
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    // Node fires a timer of more than 2^31-1 ms at once; certificate renewals and token
    // expiries are months away, so longer waits are chained in steps.
    let t: NodeJS.Timeout;
    const arm = (left: number): void => {
      const step = Math.min(Math.max(0, left), MAX_TIMER_MS);
      t = setTimeout(() => (left > MAX_TIMER_MS ? arm(left - MAX_TIMER_MS) : fn()), step);
    };
    arm(ms);
    return { cancel: () => clearTimeout(t) };
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal);
  }
}

/** The process-wide real clock. */
export const realClock: Clock = new RealClock();
