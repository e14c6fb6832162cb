// Per-item and overall rate limiters for requeues (client-go util/workqueue
// default_rate_limiters.go). `when(item)` records a failure and returns the delay before
// the item may be retried; `forget(item)` clears its history once it succeeds. The
// default controller limiter is the max of a per-item exponential backoff (5ms doubling
// to 1000s) and an overall token bucket (10 qps, burst 100), so one hot item backs off on
// its own and a storm of failures cannot exceed the overall rate.
import { type Clock, realClock } from '../clock.js';
import { TokenBucket } from '../token-bucket.js';

/** Decides how long an item waits before it is requeued. */
export interface RateLimiter<T> {
  /** Records a retry of item and returns the delay in milliseconds. */
  when(item: T): number;
  /** Clears item's retry history (it succeeded, or was given up on). */
  forget(item: T): void;
  /** How many times item has been retried. */
  numRequeues(item: T): number;
}

/** Per-item exponential backoff: `base * 2^failures`, capped at `max` (milliseconds). */
export class ItemExponentialFailureRateLimiter<T> implements RateLimiter<T> {
  private readonly failures = new Map<T, number>();

  /** Backoff starting at `baseDelayMs` and capped at `maxDelayMs`. */
  constructor(
    private readonly baseDelayMs: number,
    private readonly maxDelayMs: number,
  ) {}

  when(item: T): number {
    const exp = this.failures.get(item) ?? 0;
    this.failures.set(item, exp + 1);
    const backoff = this.baseDelayMs * 2 ** exp;
    if (!Number.isFinite(backoff) || backoff > this.maxDelayMs) return this.maxDelayMs;
    return backoff;
  }

  forget(item: T): void {
    this.failures.delete(item);
  }

  numRequeues(item: T): number {
    return this.failures.get(item) ?? 0;
  }
}

/** Fast delay for the first `maxFastAttempts` retries of an item, then the slow delay. */
export class ItemFastSlowRateLimiter<T> implements RateLimiter<T> {
  private readonly failures = new Map<T, number>();

  /** Delays in milliseconds. */
  constructor(
    private readonly fastDelayMs: number,
    private readonly slowDelayMs: number,
    private readonly maxFastAttempts: number,
  ) {}

  when(item: T): number {
    const n = (this.failures.get(item) ?? 0) + 1;
    this.failures.set(item, n);
    return n <= this.maxFastAttempts ? this.fastDelayMs : this.slowDelayMs;
  }

  forget(item: T): void {
    this.failures.delete(item);
  }

  numRequeues(item: T): number {
    return this.failures.get(item) ?? 0;
  }
}

/** An overall token bucket: items share `qps`/`burst` regardless of which item fails. */
export class BucketRateLimiter<T> implements RateLimiter<T> {
  /** Wraps a token bucket. */
  constructor(private readonly bucket: TokenBucket) {}

  when(_item: T): number {
    return this.bucket.reserve();
  }

  forget(_item: T): void {}

  numRequeues(_item: T): number {
    return 0;
  }
}

/** The worst (longest) delay of several limiters; forget/numRequeues span all of them. */
export class MaxOfRateLimiter<T> implements RateLimiter<T> {
  private readonly limiters: RateLimiter<T>[];

  /** Combines limiters. */
  constructor(...limiters: RateLimiter<T>[]) {
    this.limiters = limiters;
  }

  when(item: T): number {
    let max = 0;
    for (const l of this.limiters) max = Math.max(max, l.when(item));
    return max;
  }

  forget(item: T): void {
    for (const l of this.limiters) l.forget(item);
  }

  numRequeues(item: T): number {
    let max = 0;
    for (const l of this.limiters) max = Math.max(max, l.numRequeues(item));
    return max;
  }
}

/** client-go's DefaultControllerRateLimiter: max(5ms→1000s per item, 10 qps / 100 burst overall). */
export function defaultControllerRateLimiter<T>(clock: Clock = realClock): RateLimiter<T> {
  return new MaxOfRateLimiter<T>(
    new ItemExponentialFailureRateLimiter<T>(5, 1000 * 1000),
    new BucketRateLimiter<T>(new TokenBucket(10, 100, clock)),
  );
}
