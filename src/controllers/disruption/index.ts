// PodDisruptionBudget status: currentHealthy, desiredHealthy, expectedPods (from the
// scale of the pods' controllers), disruptionsAllowed, observedGeneration, the
// DisruptionAllowed condition, and expiry of stale disruptedPods entries.
import type { ControllerFactory } from '../types.js';
import { DisruptionController } from './controller.js';

export {
  countHealthy,
  DELETION_TIMEOUT_MS,
  DISRUPTION_ALLOWED_CONDITION,
  DisruptionController,
  PODDISRUPTIONBUDGETS,
} from './controller.js';

/** Builds the disruption controller. */
export const newDisruptionController: ControllerFactory = (ctx) => new DisruptionController(ctx);
