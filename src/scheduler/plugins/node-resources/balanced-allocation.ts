// NodeResourcesBalancedAllocation: prefers nodes where, with the pod added, the used
// fractions of cpu and memory (by default) are close to each other.

import type { Pod } from '../../../api/generated/types/core-v1.js';
import { type CycleState, type StateData, StateCache } from '../../framework/cycle-state.js';
import { ActionType, type ClusterEvent } from '../../framework/events.js';
import type { EnqueueExtensions, Plugin, PreScorePlugin, ScorePlugin } from '../../framework/interfaces.js';
import type { NodeInfo } from '../../framework/node-info.js';
import { podInfoOf } from '../../framework/pod-info.js';
import type { PluginStatus } from '../../framework/status.js';
import { argsObject } from '../helpers/normalize.js';
import { DEFAULT_RESOURCES } from './fit.js';
import { balancedScorer, nodeVectors, podRequestList, type ResourceSpec } from './resource-allocation.js';

/** The upstream plugin name. */
export const NAME = 'NodeResourcesBalancedAllocation';

/** NodeResourcesBalancedAllocationArgs. */
export interface BalancedAllocationArgs {
  resources?: ResourceSpec[];
}

const PRE_SCORE_KEY = `PreScore${NAME}`;

class PreScoreState implements StateData {
  constructor(readonly podRequests: number[]) {}
  clone(): StateData {
    return this;
  }
}

/** Balanced resource usage. */
export class BalancedAllocation implements PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = NAME;
  private readonly resources: ResourceSpec[];
  private readonly req: number[];
  private readonly alloc: number[];
  private readonly preScoreState = new StateCache(PRE_SCORE_KEY, PreScoreState);

  /** A plugin over the configured resources (cpu and memory by default). */
  constructor(args: BalancedAllocationArgs = {}) {
    this.resources =
      args.resources !== undefined && args.resources.length > 0
        ? args.resources.map((r) => ({ name: r.name, weight: r.weight || 1 }))
        : DEFAULT_RESOURCES;
    this.req = new Array<number>(this.resources.length).fill(0);
    this.alloc = new Array<number>(this.resources.length).fill(0);
  }

  preScore(state: CycleState, pod: Pod): PluginStatus {
    state.write(PRE_SCORE_KEY, new PreScoreState(podRequestList(podInfoOf(pod), this.resources, true)));
    return null;
  }

  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number {
    const podReq =
      this.preScoreState.read(state)?.podRequests ?? podRequestList(podInfoOf(pod), this.resources, true);
    nodeVectors(nodeInfo, this.resources, podReq, true, this.req, this.alloc);
    return balancedScorer(this.req, this.alloc);
  }

  eventsToRegister(): ClusterEvent[] {
    return [
      { resource: 'AssignedPod', actionType: ActionType.Delete },
      { resource: 'Node', actionType: ActionType.Add | ActionType.UpdateNodeAllocatable },
    ];
  }
}

/** Factory for the registry. */
export function newBalancedAllocation(args: unknown): Plugin {
  return new BalancedAllocation(argsObject(args) as BalancedAllocationArgs);
}
