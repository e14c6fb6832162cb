// The namespace controller: empties a terminating namespace of every namespaced resource,
// reports progress in its status conditions, and removes the `kubernetes` finalizer via
// the `finalize` subresource once it is empty.
import { servedResources } from '../../apiserver/served.js';
import type { ControllerFactory } from '../types.js';
import { NamespaceController } from './controller.js';

export * from './controller.js';

/** Builds the namespace controller over the served resources (used only as the GVR list). */
export const newNamespaceController: ControllerFactory = (ctx) =>
  new NamespaceController(ctx, servedResources());
