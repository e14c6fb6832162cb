// Node lifecycle: Lease/heartbeat-based node health (conditions go Unknown after the
// grace period), the condition taints (unreachable / not-ready, NoSchedule + NoExecute),
// pods on unhealthy nodes marked not Ready, and NoExecute taint-based eviction honouring
// tolerationSeconds (the separate taint-eviction-controller, as upstream since 1.29).
import type { ControllerFactory } from '../types.js';
import { NodeLifecycleController } from './controller.js';
import { TaintEvictionController } from './taint-eviction.js';

export {
  MESSAGE_STOPPED_POSTING,
  markUnknown,
  NODE_LEASE_NAMESPACE,
  NodeLifecycleController,
  REASON_NODE_STATUS_UNKNOWN,
} from './controller.js';
export { TaintEvictionController } from './taint-eviction.js';
export * from './taints.js';

/** Builds the node-lifecycle controller. */
export const newNodeLifecycleController: ControllerFactory = (ctx) => new NodeLifecycleController(ctx);

/** Builds the taint-eviction-controller. */
export const newTaintEvictionController: ControllerFactory = (ctx) => new TaintEvictionController(ctx);
