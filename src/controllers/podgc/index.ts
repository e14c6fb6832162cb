// Pod garbage collection: terminated pods over the threshold, pods orphaned by deleted
// nodes, and unscheduled terminating pods are force-deleted.
import type { ControllerFactory } from '../types.js';
import { PodGCController } from './controller.js';

export { GC_CHECK_PERIOD_MS, PodGCController, QUARANTINE_MS } from './controller.js';

/** Builds the pod-garbage-collector controller. */
export const newPodGCController: ControllerFactory = (ctx) => new PodGCController(ctx);
