// The EndpointSlice controller: discovery.k8s.io/v1 EndpointSlices (at most 100
// endpoints each, grouped by port set) for every Service with a selector, with the
// ready/serving/terminating conditions, node, zone and named-port resolution of upstream.
import type { ControllerFactory } from '../types.js';
import { EndpointSliceController } from './controller.js';

export {
  CONTROLLER_NAME,
  EndpointSliceController,
  endpointPorts,
  LABEL_MANAGED_BY,
  LABEL_SERVICE_NAME,
  MAX_ENDPOINTS_PER_SLICE,
  sliceLabels,
} from './controller.js';
export { type EndpointGroup, planSlices, portsKey, type SlicePlan } from './reconciler.js';

/** Builds the endpointslice controller. */
export const newEndpointSliceController: ControllerFactory = (ctx) => new EndpointSliceController(ctx);
