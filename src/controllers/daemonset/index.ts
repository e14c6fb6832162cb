// The DaemonSet controller: one pod per eligible node (nodeSelector, required node
// affinity, taints against the pod's and the default daemon tolerations), pods pinned to
// their node by affinity for the scheduler to bind, RollingUpdate (maxUnavailable,
// maxSurge) or OnDelete, and ControllerRevision history for rollout undo.
import type { ControllerFactory } from '../types.js';
import { DaemonSetController } from './controller.js';

export { DAEMONSET_GVK, DaemonSetController, maxSurgeOf, maxUnavailableOf } from './controller.js';
export * from './predicates.js';

/** Builds the DaemonSet controller. */
export const newDaemonSetController: ControllerFactory = (ctx) => new DaemonSetController(ctx);
