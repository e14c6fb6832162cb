// The Job controller (completions, parallelism, Indexed mode, backoffLimit with exponential
// backoff, activeDeadlineSeconds, podFailurePolicy, suspend, job-tracking finalizers) and
// the TTL-after-finished controller that deletes finished Jobs.
import type { ControllerFactory } from '../types.js';
import { JobController, type JobControllerOptions } from './controller.js';
import { TTLAfterFinishedController } from './ttl-after-finished.js';

export * from './controller.js';
export * from './indexes.js';
export * from './pod-failure-policy.js';
export * from './ttl-after-finished.js';

/** Builds the Job controller (options override upstream's pod-failure backoff). */
export function jobControllerFactory(opts: Partial<JobControllerOptions> = {}): ControllerFactory {
  return (ctx) => new JobController(ctx, opts);
}

/** Builds the Job controller with upstream's settings. */
export const newJobController: ControllerFactory = jobControllerFactory();

/** Builds the TTL-after-finished controller. */
export const newTTLAfterFinishedController: ControllerFactory = (ctx) => new TTLAfterFinishedController(ctx);
