// The Endpoints controller: core/v1 Endpoints for every Service with a selector, listing
// its pods' addresses (ready and not ready) and resolved ports. Also home of the pod
// predicates and worker loop the other endpoint-family controllers share.
import type { ControllerFactory } from '../types.js';
import { EndpointsController } from './controller.js';

export { computeSubsets, EndpointsController, truncateEndpoints } from './controller.js';
export * from './pod-util.js';
export { repackSubsets } from './subsets.js';
export { LAST_CHANGE_TRIGGER_TIME } from './trigger-time.js';

/** Builds the endpoints controller. */
export const newEndpointsController: ControllerFactory = (ctx) => new EndpointsController(ctx);
