// The Deployment controller: rolls a pod template out through ReplicaSets (RollingUpdate
// within maxSurge/maxUnavailable, or Recreate), keeps revision annotations for `kubectl
// rollout history/undo`, honours pause, reports Progressing/Available conditions and every
// status field `kubectl rollout status` reads, and trims old ReplicaSets.
import type { ControllerFactory } from '../types.js';
import { DeploymentController } from './controller.js';

export * from './controller.js';
export * from './rollout.js';
export * from './util.js';

/** Builds the Deployment controller. */
export const newDeploymentController: ControllerFactory = (ctx) => new DeploymentController(ctx);
