// The worker half of an informer → workqueue → reconcile controller: N workers take keys
// from a rate-limiting queue and run a level-based `sync(key)`. A key is never synced by two
// workers at once (the queue's contract); a failed sync is retried with per-key backoff and
// a successful one clears that backoff. Workers start once the informers have synced, so a
// first sync never acts on a half-filled cache.
import { waitForCacheSync } from '../../client/cache/informer-factory.js';
import type { SharedIndexInformer } from '../../client/cache/shared-informer.js';
import { deletionHandlingKeyFunc, type DeletedFinalStateUnknown } from '../../client/cache/store.js';
import type { Clock } from '../../client/clock.js';
import type { KubeObject } from '../../client/interface.js';
import type { Logger } from '../../client/log.js';
import { RateLimitingQueue } from '../../client/workqueue/rate-limiting-queue.js';
import { runWorkers } from './workers.js';

/** A sync function: resolves when done; throwing requeues the key with backoff. */
export type SyncFn = (key: string) => Promise<void>;

/** A rate-limited queue of object keys plus the workers that drain it. */
export class SyncLoop {
  /** The queue handlers add keys to. */
  readonly queue: RateLimitingQueue<string>;

  /** A loop named `name` (for logs) on `clock`. */
  constructor(
    readonly name: string,
    private readonly log: Logger,
    clock: Clock,
  ) {
    this.queue = new RateLimitingQueue<string>({ clock, name });
  }

  /** Enqueues the key of obj (tombstones included). */
  enqueue(obj: KubeObject | DeletedFinalStateUnknown<KubeObject>): void {
    this.queue.add(deletionHandlingKeyFunc(obj));
  }

  /**
   * Waits for the informers to sync, then runs `workers` workers until the signal aborts;
   * resolves after every worker has stopped.
   */
  async run(
    signal: AbortSignal,
    workers: number,
    sync: SyncFn,
    informers: Array<Pick<SharedIndexInformer<KubeObject>, 'waitForSync'>>,
  ): Promise<void> {
    await runWorkers({
      queue: this.queue,
      sync,
      workers,
      signal,
      log: this.log,
      name: this.name,
      ready: () => waitForCacheSync(signal, ...informers),
    });
  }
}
