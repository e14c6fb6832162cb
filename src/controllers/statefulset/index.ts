// The StatefulSet controller: stable pod identities `<set>-<i>`, per-pod PVCs from
// volumeClaimTemplates with their retention policy, ordered or parallel creation and
// scale-down, and rolling updates tracked by ControllerRevisions.
import type { ControllerFactory } from '../types.js';
import { StatefulSetController } from './controller.js';

export { StatefulSetController } from './controller.js';
export * from './identity.js';

/** Builds the StatefulSet controller. */
export const newStatefulSetController: ControllerFactory = (ctx) => new StatefulSetController(ctx);
