// Node IPAM: assigns each node a pod CIDR (`spec.podCIDR`/`podCIDRs`) from the cluster
// CIDR (default 10.42.0.0/16, /24 per node), rebuilding its state from existing nodes.
import type { ControllerFactory } from '../types.js';
import { NodeIpamController } from './controller.js';

export { CIDRSet, formatIPv4, parseCIDR, parseIPv4 } from './cidr-set.js';
export { NodeIpamController, newCIDRSet } from './controller.js';

/** Builds the node-ipam controller. */
export const newNodeIpamController: ControllerFactory = (ctx) => new NodeIpamController(ctx);
