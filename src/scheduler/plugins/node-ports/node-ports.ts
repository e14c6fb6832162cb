// NodePorts: a pod asking for a hostPort fits only nodes where no pod holds the same
// protocol/port on the same IP; 0.0.0.0 (or no hostIP) conflicts with every IP.

import type { ContainerPort, Pod } from '../../../api/generated/types/core-v1.js';
import type { CycleState, StateData } from '../../framework/cycle-state.js';
import { readState } from '../../framework/cycle-state.js';
import { ActionType, type ClusterEvent } from '../../framework/events.js';
import type {
  EnqueueExtensions,
  FilterPlugin,
  Plugin,
  PreFilterPlugin,
  PreFilterReturn,
} from '../../framework/interfaces.js';
import { type NodeInfo, podHostPorts } from '../../framework/node-info.js';
import { Code, type PluginStatus, SKIP, Status } from '../../framework/status.js';

/** The upstream plugin name. */
export const NAME = 'NodePorts';
/** Upstream's reason. */
export const ERR_REASON = "node(s) didn't have free ports for the requested pod ports";

const PRE_FILTER_KEY = `PreFilter${NAME}`;
const REJECT = new Status(Code.Unschedulable, [ERR_REASON]);

class PreFilterState implements StateData {
  constructor(readonly ports: readonly ContainerPort[]) {}
  clone(): StateData {
    return this;
  }
}

/** True when none of the wanted ports conflicts on the node. */
export function fitsPorts(wanted: readonly ContainerPort[], nodeInfo: NodeInfo): boolean {
  for (const p of wanted) {
    if (nodeInfo.usedPorts.checkConflict(p.hostIP, p.protocol, p.hostPort ?? 0)) return false;
  }
  return true;
}

/** Host port conflicts. */
export class NodePorts implements PreFilterPlugin, FilterPlugin, EnqueueExtensions {
  readonly name = NAME;

  preFilter(state: CycleState, pod: Pod): PreFilterReturn {
    const ports = podHostPorts(pod);
    if (ports.length === 0) return SKIP;
    state.write(PRE_FILTER_KEY, new PreFilterState(ports));
    return null;
  }

  filter(state: CycleState, pod: Pod, nodeInfo: NodeInfo): PluginStatus {
    const ports = readState(state, PRE_FILTER_KEY, PreFilterState)?.ports ?? podHostPorts(pod);
    return fitsPorts(ports, nodeInfo) ? null : REJECT;
  }

  eventsToRegister(): ClusterEvent[] {
    return [
      { resource: 'AssignedPod', actionType: ActionType.Delete },
      { resource: 'Node', actionType: ActionType.Add },
    ];
  }
}

/** Factory for the registry. */
export function newNodePorts(): Plugin {
  return new NodePorts();
}
