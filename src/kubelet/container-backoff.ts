// The restart backoff of crashing containers (upstream util/flowcontrol.Backoff as the
// kubelet uses it): the first restart is immediate, then 10 s, doubling to 5 min; an entry
// untouched for twice the maximum (10 min) starts over, which is how a container that ran
// long enough is forgiven.

import type { Clock } from '../client/clock.js';
import { formatDuration } from '../machinery/duration.js';

/** Upstream's initial container restart backoff. */
export const INITIAL_BACKOFF_MS = 10_000;
/** Upstream's maximum container restart backoff. */
export const MAX_BACKOFF_MS = 300_000;

interface Entry {
  backoffMs: number;
  lastUpdate: number;
}

/** Per-key exponential backoff. */
export class ContainerBackoff {
  private readonly entries = new Map<string, Entry>();

  /** A backoff reading time from `clock`. */
  constructor(
    private readonly clock: Clock,
    private readonly initialMs = INITIAL_BACKOFF_MS,
    private readonly maxMs = MAX_BACKOFF_MS,
  ) {}

  private expired(eventTime: number, e: Entry): boolean {
    return eventTime - e.lastUpdate > 2 * this.maxMs;
  }

  /** The current backoff of `key` (0 if none). */
  get(key: string): number {
    return this.entries.get(key)?.backoffMs ?? 0;
  }

  /** Whether `eventTime` (the last exit) is still inside the key's backoff window. */
  isInBackOffSince(key: string, eventTime: number): boolean {
    const e = this.entries.get(key);
    if (e === undefined || this.expired(eventTime, e)) return false;
    return this.clock.now() - eventTime < e.backoffMs;
  }

  /** Whether now is inside the key's backoff window counted from its last update (image pulls). */
  isInBackOffSinceUpdate(key: string): boolean {
    return this.remainingSinceUpdate(key) > 0;
  }

  /** Milliseconds until the window counted from the key's last update closes (0 if closed). */
  remainingSinceUpdate(key: string): number {
    const e = this.entries.get(key);
    const now = this.clock.now();
    if (e === undefined || this.expired(now, e)) return 0;
    return Math.max(0, e.lastUpdate + e.backoffMs - now);
  }

  /** Records a restart: starts at the initial backoff or doubles it. */
  next(key: string, eventTime: number): void {
    const e = this.entries.get(key);
    if (e === undefined || this.expired(eventTime, e)) {
      this.entries.set(key, { backoffMs: this.initialMs, lastUpdate: this.clock.now() });
      return;
    }
    e.backoffMs = Math.min(e.backoffMs * 2, this.maxMs);
    e.lastUpdate = this.clock.now();
  }

  /** Drops every key with the prefix (a pod's containers). */
  forgetPrefix(prefix: string): void {
    for (const k of [...this.entries.keys()]) if (k.startsWith(prefix)) this.entries.delete(k);
  }
}

/** Upstream's CrashLoopBackOff message. */
export function crashLoopMessage(
  backoffMs: number,
  container: string,
  podName: string,
  namespace: string,
  uid: string,
): string {
  return `back-off ${formatDuration(backoffMs)} restarting failed container=${container} pod=${podName}_${namespace}(${uid})`;
}
