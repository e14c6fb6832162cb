// The one worker loop of every keyed controller (upstream's `wait.UntilWithContext(worker)`
// around `processNextWorkItem`): N workers take keys from a rate-limiting queue and run a
// level-based sync; success forgets the key's backoff, failure re-adds it rate-limited (or
// drops it after `maxRetries`, for controllers that cap retries upstream). The queue
// guarantees a key is never synced by two workers at once. Workers start only once `ready`
// says the informers have synced, so a first sync never acts on a half-filled cache.
import { errorText, type Logger } from '../../client/log.js';
import type { RateLimitingQueue } from '../../client/workqueue/rate-limiting-queue.js';

/** What `runWorkers` drives. */
export interface WorkerOptions {
  queue: RateLimitingQueue<string>;
  /** Reconciles one key; a throw requeues it with backoff. */
  sync: (key: string) => Promise<void>;
  workers: number;
  signal: AbortSignal;
  log: Logger;
  /** The controller's name for logs. */
  name: string;
  /** Waited for before the first key is processed (informer sync); false stops the loop. */
  ready?: () => Promise<boolean>;
  /** Drop a key after this many failed syncs in a row (default: never). */
  maxRetries?: number;
}

/** Runs `workers` loops over the queue until the signal aborts; resolves when all stopped. */
export async function runWorkers(o: WorkerOptions): Promise<void> {
  const stop = (): void => o.queue.shutDown();
  if (o.signal.aborted) stop();
  else o.signal.addEventListener('abort', stop, { once: true });
  try {
    if (o.ready !== undefined && (!(await o.ready()) || o.signal.aborted)) {
      stop();
      return;
    }
    const worker = async (): Promise<void> => {
      for (;;) {
        const next = await o.queue.get();
        if (next.shutdown) return;
        const key = next.item;
        try {
          await o.sync(key);
          o.queue.forget(key);
        } catch (err) {
          if (o.signal.aborted || o.queue.shuttingDown()) continue;
          if (o.maxRetries !== undefined && o.queue.numRequeues(key) >= o.maxRetries) {
            o.log.error('sync failed, dropping key', { controller: o.name, key, error: errorText(err) });
            o.queue.forget(key);
          } else {
            o.log.error('sync failed', { controller: o.name, key, error: errorText(err) });
            o.queue.addRateLimited(key);
          }
        } finally {
          o.queue.done(key);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, o.workers) }, () => worker()));
  } finally {
    o.signal.removeEventListener('abort', stop);
  }
}
