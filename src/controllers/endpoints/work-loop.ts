// The worker loop every keyed controller of this family shares (upstream's
// `wait.UntilWithContext(worker)` around `processNextWorkItem`): N workers take keys from a
// rate-limiting queue, run the sync, forget the key on success and re-add it with backoff
// on failure. The queue guarantees one key is never synced by two workers at once.
import { errorText, type Logger } from '../../client/log.js';
import type { RateLimitingQueue } from '../../client/workqueue/rate-limiting-queue.js';

/** Retries a failing key at most this often before dropping it (upstream maxRetries ~15). */
export const MAX_RETRIES = 15;

/** Runs `workers` loops over `queue` until the signal aborts; resolves once all stopped. */
export async function runWorkers(
  queue: RateLimitingQueue<string>,
  workers: number,
  sync: (key: string) => Promise<void>,
  signal: AbortSignal,
  log: Logger,
): Promise<void> {
  const stop = (): void => queue.shutDown();
  if (signal.aborted) stop();
  else signal.addEventListener('abort', stop, { once: true });
  const loop = async (): Promise<void> => {
    for (;;) {
      const next = await queue.get();
      if (next.shutdown) return;
      const key = next.item;
      try {
        await sync(key);
        queue.forget(key);
      } catch (err) {
        if (queue.numRequeues(key) < MAX_RETRIES) {
          log.debug('sync failed, requeueing', { key, error: errorText(err) });
          queue.addRateLimited(key);
        } else {
          log.error('sync failed, dropping key', { key, error: errorText(err) });
          queue.forget(key);
        }
      } finally {
        queue.done(key);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, workers) }, () => loop()));
  signal.removeEventListener('abort', stop);
}

/** Calls fn every `periodMs` on the clock until the signal aborts (wait.Until). */
export async function runPeriodically(
  clock: { sleep(ms: number, signal?: AbortSignal): Promise<void> },
  periodMs: number,
  fn: () => Promise<void> | void,
  signal: AbortSignal,
  log: Logger,
): Promise<void> {
  while (!signal.aborted) {
    try {
      await fn();
    } catch (err) {
      log.error('periodic task failed', { error: errorText(err) });
    }
    try {
      await clock.sleep(periodMs, signal);
    } catch {
      return;
    }
  }
}
