// The CronJob controller: cron schedules (five fields, names, @descriptors, spec.timeZone),
// the most recent missed start within startingDeadlineSeconds, concurrencyPolicy
// Allow/Forbid/Replace, suspend, and trimming finished Jobs to the history limits.
import type { ControllerFactory } from '../types.js';
import { CronJobController } from './controller.js';

export * from './controller.js';
export * from './schedule.js';

/** Builds the CronJob controller. */
export const newCronJobController: ControllerFactory = (ctx) => new CronJobController(ctx);
