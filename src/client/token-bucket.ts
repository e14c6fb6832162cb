// A token bucket as golang.org/x/time/rate implements it, which both client-go's REST
// client throttle (flowcontrol) and the workqueue's overall rate limiter use: tokens refill
// at `qps` per second up to `burst`; a reservation takes a token now even when the bucket
// is empty, driving the balance negative, and reports how long the caller must wait. That
// makes concurrent callers queue up fairly instead of racing for the next token.
import { abortReason, type Clock, realClock } from './clock.js';

/** A token-bucket rate limiter. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  /** `qps` tokens per second, at most `burst` saved up; starts full. */
  constructor(
    readonly qps: number,
    readonly burst: number,
    private readonly clock: Clock = realClock,
  ) {
    this.tokens = burst;
    this.last = clock.now();
  }

  /** Takes one token and returns how many milliseconds to wait before using it. */
  reserve(): number {
    if (this.qps <= 0 || !Number.isFinite(this.qps)) return 0;
    this.refill();
    this.tokens -= 1;
    if (this.tokens >= 0) return 0;
    return Math.ceil((-this.tokens / this.qps) * 1000);
  }

  /** Takes a token only if one is available now. */
  tryAccept(): boolean {
    if (this.qps <= 0 || !Number.isFinite(this.qps)) return true;
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Waits for a token; rejects when the signal aborts first (the token is returned). */
  async wait(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw abortReason(signal);
    const delay = this.reserve();
    if (delay === 0) return;
    try {
      await this.clock.sleep(delay, signal);
    } catch (err) {
      this.tokens += 1;
      throw err;
    }
  }

  private refill(): void {
    const now = this.clock.now();
    const elapsed = Math.max(0, now - this.last);
    this.last = now;
    this.tokens = Math.min(this.burst, this.tokens + (elapsed / 1000) * this.qps);
  }
}
