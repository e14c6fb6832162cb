// The endpoints family's entry points to the shared worker loop (`common/workers.ts`): these
// controllers drop a key after upstream's 15 failed syncs instead of retrying forever; and
// `runPeriodically`, upstream's `wait.Until` for their periodic passes.
import { errorText, type Logger } from '../../client/log.js';
import type { RateLimitingQueue } from '../../client/workqueue/rate-limiting-queue.js';
import { runWorkers as runSharedWorkers } from '../common/workers.js';

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
  await runSharedWorkers({ queue, sync, workers, signal, log, name: 'endpoints', maxRetries: MAX_RETRIES });
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
