// NodeName: a pod with spec.nodeName fits only that node (the scheduler normally never sees
// such pods, but a profile may still be asked to check them, e.g. by preemption).

import type { Pod } from '../../../api/generated/types/core-v1.js';
import type { CycleState } from '../../framework/cycle-state.js';
import { ActionType, type ClusterEvent } from '../../framework/events.js';
import type { EnqueueExtensions, FilterPlugin, Plugin } from '../../framework/interfaces.js';
import type { NodeInfo } from '../../framework/node-info.js';
import { Code, type PluginStatus, Status } from '../../framework/status.js';

/** The upstream plugin name. */
export const NAME = 'NodeName';
/** Upstream's reason. */
export const ERR_REASON = "node(s) didn't match the requested node name";

const REJECT = new Status(Code.UnschedulableAndUnresolvable, [ERR_REASON]);

/** Matches spec.nodeName. */
export class NodeName implements FilterPlugin, EnqueueExtensions {
  readonly name = NAME;

  filter(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): PluginStatus {
    const want = pod.spec?.nodeName;
    if (want === undefined || want === '' || want === nodeInfo.name) return null;
    return REJECT;
  }

  eventsToRegister(): ClusterEvent[] {
    return [{ resource: 'Node', actionType: ActionType.Add }];
  }
}

/** Factory for the registry. */
export function newNodeName(): Plugin {
  return new NodeName();
}
