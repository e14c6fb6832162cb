// Exponential backoff with jitter and a reset after a quiet period (client-go's
// wait.Backoff driven by a BackoffManager), used by the reflector between failed
// list/watch attempts so a down API server is not hammered and a healthy one recovers fast.
import type { Clock } from './clock.js';

/** Parameters of a Backoff. */
export interface BackoffOptions {
  /** First delay in ms. */
  initialMs: number;
  /** Delays never exceed this (before jitter). */
  maxMs: number;
  /** Multiplier per step (default 2). */
  factor?: number;
  /** Adds up to `jitter * delay` at random (default 0). */
  jitter?: number;
  /** Start over from `initialMs` when no step was taken for this long (default 2 min). */
  resetAfterMs?: number;
  /** Random source in [0,1) (tests pass a constant). */
  random?: () => number;
}

/** A stateful exponential backoff. */
export class Backoff {
  private current: number;
  private lastStep = Number.NEGATIVE_INFINITY;

  /** A backoff on `clock`. */
  constructor(
    private readonly opts: BackoffOptions,
    private readonly clock: Clock,
  ) {
    this.current = opts.initialMs;
  }

  /** The next delay in ms; grows each call. */
  next(): number {
    const now = this.clock.now();
    if (now - this.lastStep > (this.opts.resetAfterMs ?? 120_000)) this.current = this.opts.initialMs;
    this.lastStep = now;
    const base = this.current;
    this.current = Math.min(this.opts.maxMs, this.current * (this.opts.factor ?? 2));
    const jitter = this.opts.jitter ?? 0;
    return jitter > 0 ? base + base * jitter * (this.opts.random ?? Math.random)() : base;
  }

  /** Starts over from the initial delay. */
  reset(): void {
    this.current = this.opts.initialMs;
  }
}

/** `base` plus up to `factor * base` at random (wait.Jitter). */
export function jitter(baseMs: number, factor: number, random: () => number = Math.random): number {
  return factor > 0 ? baseMs + random() * factor * baseMs : baseMs;
}
