// NodeUnschedulable: cordoned nodes (spec.unschedulable) take only pods tolerating the
// node.kubernetes.io/unschedulable:NoSchedule taint.

import type { Pod, Taint } from '../../../api/generated/types/core-v1.js';
import type { CycleState } from '../../framework/cycle-state.js';
import { ActionType, type ClusterEvent } from '../../framework/events.js';
import type { EnqueueExtensions, FilterPlugin, Plugin } from '../../framework/interfaces.js';
import type { NodeInfo } from '../../framework/node-info.js';
import { Code, newStatus, type PluginStatus, Status } from '../../framework/status.js';
import { tolerationsTolerateTaint } from '../helpers/taints.js';

/** The upstream plugin name. */
export const NAME = 'NodeUnschedulable';
/** Upstream's reason for a cordoned node. */
export const ERR_REASON_UNSCHEDULABLE = 'node(s) were unschedulable';
/** Upstream's reason when the node object is gone. */
export const ERR_REASON_UNKNOWN_CONDITION = 'node(s) had unknown conditions';

const UNSCHEDULABLE_TAINT: Taint = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };
const REJECT = new Status(Code.UnschedulableAndUnresolvable, [ERR_REASON_UNSCHEDULABLE]);

/** Rejects cordoned nodes. */
export class NodeUnschedulable implements FilterPlugin, EnqueueExtensions {
  readonly name = NAME;

  filter(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): PluginStatus {
    if (nodeInfo.node === undefined)
      return newStatus(Code.UnschedulableAndUnresolvable, ERR_REASON_UNKNOWN_CONDITION);
    if (!nodeInfo.unschedulable) return null;
    if (tolerationsTolerateTaint(pod.spec?.tolerations, UNSCHEDULABLE_TAINT)) return null;
    return REJECT;
  }

  eventsToRegister(): ClusterEvent[] {
    return [{ resource: 'Node', actionType: ActionType.Add | ActionType.UpdateNodeTaint }];
  }
}

/** Factory for the registry. */
export function newNodeUnschedulable(): Plugin {
  return new NodeUnschedulable();
}
