// One worker per pod (upstream pod_workers.go): updates for a pod are serialized — at most
// one sync of a pod runs at a time, and updates arriving meanwhile collapse into one more
// sync with the newest pod object. Different pods sync concurrently. A sync may ask to
// run again later (backoff expiry, waiting for the network); `trigger` runs it early.
// Once a pod is removed its worker finishes the removal and is forgotten.

import type { Pod } from '../api/generated/types/core-v1.js';
import type { Clock, TimerHandle } from '../client/clock.js';
import { errorText, type Logger } from '../client/log.js';

/** What a worker runs; resolves to a delay after which to sync again, if any. */
export type SyncFn = (pod: Pod) => Promise<number | undefined>;

/** What a worker runs once the pod is gone from the API. */
export type RemoveFn = (uid: string, lastKnown: Pod) => Promise<void>;

interface Worker {
  uid: string;
  pod: Pod;
  removed: boolean;
  busy: boolean;
  dirty: boolean;
  timer?: TimerHandle;
  timerAt?: number;
  /** Consecutive failed syncs (for retry backoff). */
  failures: number;
  idle?: Promise<void>;
}

/** The node's pod workers. */
export class PodWorkers {
  private readonly workers = new Map<string, Worker>();
  private stopped = false;

  /** Workers calling `sync` and `remove`. */
  constructor(
    private readonly sync: SyncFn,
    private readonly remove: RemoveFn,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** The pod objects the workers hold (newest seen). */
  pods(): Pod[] {
    return [...this.workers.values()].filter((w) => !w.removed).map((w) => w.pod);
  }

  /** Whether a worker exists for uid. */
  has(uid: string): boolean {
    return this.workers.has(uid);
  }

  /** A new or changed pod. */
  update(pod: Pod): void {
    const uid = pod.metadata?.uid ?? '';
    let w = this.workers.get(uid);
    if (w === undefined) {
      w = { uid, pod, removed: false, busy: false, dirty: false, failures: 0 };
      this.workers.set(uid, w);
    } else if (w.removed) return;
    w.pod = pod;
    this.kick(w);
  }

  /** A newer object of a pod that needs no sync (its own status echoed back): kept, not synced. */
  refresh(pod: Pod): void {
    const w = this.workers.get(pod.metadata?.uid ?? '');
    if (w !== undefined && !w.removed) w.pod = pod;
  }

  /** The pod is gone from the API: stop and clean up what is left. */
  delete(uid: string, lastKnown: Pod): void {
    let w = this.workers.get(uid);
    if (w === undefined) {
      w = { uid, pod: lastKnown, removed: true, busy: false, dirty: false, failures: 0 };
      this.workers.set(uid, w);
    }
    w.removed = true;
    this.kick(w);
  }

  /** Syncs a pod again soon (a probe result or container state changed). */
  trigger(uid: string): void {
    const w = this.workers.get(uid);
    if (w !== undefined) this.kick(w);
  }

  private schedule(w: Worker, afterMs: number): void {
    const at = this.clock.now() + afterMs;
    if (w.timer !== undefined && w.timerAt !== undefined && w.timerAt <= at) return;
    w.timer?.cancel();
    w.timerAt = at;
    w.timer = this.clock.setTimeout(() => {
      w.timer = undefined;
      w.timerAt = undefined;
      this.kick(w);
    }, afterMs);
  }

  private kick(w: Worker): void {
    if (this.stopped) return;
    w.dirty = true;
    if (w.busy) return;
    w.busy = true;
    w.idle = this.loop(w);
  }

  private async loop(w: Worker): Promise<void> {
    try {
      while (w.dirty && !this.stopped) {
        w.dirty = false;
        if (w.removed) {
          w.timer?.cancel();
          try {
            await this.remove(w.uid, w.pod);
          } catch (e) {
            this.logger.error('cleaning up pod failed', { uid: w.uid, err: errorText(e) });
          }
          this.workers.delete(w.uid);
          return;
        }
        try {
          const again = await this.sync(w.pod);
          w.failures = 0;
          if (again !== undefined) this.schedule(w, again);
        } catch (e) {
          w.failures++;
          const m = w.pod.metadata;
          this.logger.error('syncing pod failed', { pod: `${m?.namespace}/${m?.name}`, err: errorText(e) });
          this.schedule(w, Math.min(500 * 2 ** Math.min(w.failures, 6), 30_000));
        }
      }
    } finally {
      w.busy = false;
    }
  }

  /** Stops scheduling syncs and waits for running ones. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const w of this.workers.values()) w.timer?.cancel();
    await Promise.all([...this.workers.values()].map((w) => w.idle));
  }
}
