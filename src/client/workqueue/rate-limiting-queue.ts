// A delaying work queue that asks a RateLimiter how long to wait before re-adding a failed
// item (client-go's RateLimitingInterface). Controllers call `addRateLimited(key)` when a
// sync fails and `forget(key)` when it succeeds, so the backoff of a key resets after
// success and grows while it keeps failing.
import { type Clock, realClock } from '../clock.js';
import { DelayingQueue, type DelayingWorkQueue } from './delaying-queue.js';
import { defaultControllerRateLimiter, type RateLimiter } from './rate-limiter.js';

/** A work queue with rate-limited re-adds. */
export interface RateLimitingWorkQueue<T> extends DelayingWorkQueue<T> {
  /** Adds item after the rate limiter says it may be retried. */
  addRateLimited(item: T): void;
  /** Clears item's retry history; it is not removed from the queue. */
  forget(item: T): void;
  /** How many times item has been rate-limit re-added since the last forget. */
  numRequeues(item: T): number;
}

/** Options of a rate-limiting queue. */
export interface RateLimitingQueueOptions<T> {
  /** The limiter (default: defaultControllerRateLimiter on `clock`). */
  rateLimiter?: RateLimiter<T>;
  clock?: Clock;
  /** A name for logs and metrics. */
  name?: string;
}

/** The rate-limiting work queue. */
export class RateLimitingQueue<T> extends DelayingQueue<T> implements RateLimitingWorkQueue<T> {
  private readonly rateLimiter: RateLimiter<T>;
  /** The queue's name (for logs). */
  readonly name: string;

  /** A queue with the given (or the default controller) rate limiter. */
  constructor(options: RateLimitingQueueOptions<T> = {}) {
    const clock = options.clock ?? realClock;
    super(clock);
    this.rateLimiter = options.rateLimiter ?? defaultControllerRateLimiter<T>(clock);
    this.name = options.name ?? '';
  }

  addRateLimited(item: T): void {
    this.addAfter(item, this.rateLimiter.when(item));
  }

  forget(item: T): void {
    this.rateLimiter.forget(item);
  }

  numRequeues(item: T): number {
    return this.rateLimiter.numRequeues(item);
  }
}
