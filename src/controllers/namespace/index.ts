// The namespace controller: empties a terminating namespace of every namespaced resource,
// reports progress in its status conditions, and removes the `kubernetes` finalizer via
// the `finalize` subresource once it is empty.
import { discoverCustomResources } from '../../apiextensions/custom-resource-discovery.js';
import { servedResources } from '../../apiserver/served.js';
import type { ControllerFactory } from '../types.js';
import { NamespaceController } from './controller.js';

export * from './controller.js';

/**
 * Builds the namespace controller over the built-in resources (used only as the GVR list)
 * and the custom resources it discovers through its client at each namespace deletion.
 */
export const newNamespaceController: ControllerFactory = (ctx) =>
  new NamespaceController(ctx, servedResources(), () => discoverCustomResources(ctx.client));
