// The EndpointSlice mirroring controller: copies user-managed Endpoints of selector-less
// Services into EndpointSlices managed by `endpointslicemirroring-controller.k8s.io`.
import type { ControllerFactory } from '../types.js';
import { EndpointSliceMirroringController } from './controller.js';

export {
  EndpointSliceMirroringController,
  MIRRORING_CONTROLLER_NAME,
  SKIP_MIRROR_LABEL,
  shouldMirror,
} from './controller.js';

/** Builds the endpointslice-mirroring controller. */
export const newEndpointSliceMirroringController: ControllerFactory = (ctx) =>
  new EndpointSliceMirroringController(ctx);
