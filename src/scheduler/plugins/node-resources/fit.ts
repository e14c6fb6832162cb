// NodeResourcesFit: Filter checks that the pod's requests (init containers, sidecars and
// overhead included) fit in the node's allocatable minus what its pods already request, plus
// the pod count; Score ranks nodes with the configured strategy (LeastAllocated by default,
// MostAllocated, or RequestedToCapacityRatio).

import type { Pod } from '../../../api/generated/types/core-v1.js';
import type { CycleState, StateData } from '../../framework/cycle-state.js';
import { StateCache } from '../../framework/cycle-state.js';
import { ActionType, type ClusterEvent } from '../../framework/events.js';
import type {
  EnqueueExtensions,
  FilterPlugin,
  Plugin,
  PreFilterPlugin,
  PreFilterReturn,
  PreScorePlugin,
  ScorePlugin,
} from '../../framework/interfaces.js';
import {
  HOT_ALLOC_CPU,
  HOT_ALLOC_EPHEMERAL,
  HOT_ALLOC_MEMORY,
  HOT_ALLOWED_PODS,
  HOT_PODS,
  HOT_REQ_CPU,
  HOT_REQ_EPHEMERAL,
  HOT_REQ_MEMORY,
  type NodeInfo,
} from '../../framework/node-info.js';
import { type PodInfo, podInfoOf } from '../../framework/pod-info.js';
import { isExtendedResourceName, type Resource } from '../../framework/resource.js';
import { Code, type PluginStatus, Status } from '../../framework/status.js';
import { argsObject } from '../helpers/normalize.js';
import {
  leastAllocatedScorer,
  mostAllocatedScorer,
  nodeVectors,
  podRequestList,
  requestedToCapacityRatioScorer,
  type ResourceSpec,
  type Scorer,
  type UtilizationShapePoint,
} from './resource-allocation.js';

/** The upstream plugin name. */
export const NAME = 'NodeResourcesFit';

/** NodeResourcesFitArgs.scoringStrategy. */
export interface ScoringStrategy {
  type: 'LeastAllocated' | 'MostAllocated' | 'RequestedToCapacityRatio';
  resources?: ResourceSpec[];
  requestedToCapacityRatio?: { shape: UtilizationShapePoint[] };
}

/** NodeResourcesFitArgs. */
export interface NodeResourcesFitArgs {
  ignoredResources?: string[];
  ignoredResourceGroups?: string[];
  scoringStrategy?: ScoringStrategy;
}

/** Upstream's default resources for scoring: cpu and memory, weight 1 each. */
export const DEFAULT_RESOURCES: ResourceSpec[] = [
  { name: 'cpu', weight: 1 },
  { name: 'memory', weight: 1 },
];

const PRE_FILTER_KEY = `PreFilter${NAME}`;
const PRE_SCORE_KEY = `PreScore${NAME}`;

class PreFilterState implements StateData {
  constructor(readonly requests: Resource) {}
  clone(): StateData {
    return this;
  }
}

class PreScoreState implements StateData {
  constructor(readonly podRequests: number[]) {}
  clone(): StateData {
    return this;
  }
}

/** One resource the node lacks. */
export interface InsufficientResource {
  resourceName: string;
  reason: string;
  requested: number;
  used: number;
  capacity: number;
  /** The request exceeds the node's whole allocatable: no preemption can help. */
  unresolvable: boolean;
}

/** Lists what the node lacks for a pod requesting `req` (upstream's fitsRequest). */
export function fitsRequest(
  req: Resource,
  ni: NodeInfo,
  ignored: ReadonlySet<string> = new Set(),
  ignoredGroups: ReadonlySet<string> = new Set(),
): InsufficientResource[] {
  const out: InsufficientResource[] = [];
  const allowed = ni.allocatable.allowedPodNumber;
  if (ni.pods.length + 1 > allowed) {
    out.push({
      resourceName: 'pods',
      reason: 'Too many pods',
      requested: 1,
      used: ni.pods.length,
      capacity: allowed,
      unresolvable: false,
    });
  }
  if (req.isZero()) return out;
  const a = ni.allocatable;
  const u = ni.requested;
  if (req.milliCPU > 0 && req.milliCPU > a.milliCPU - u.milliCPU) {
    out.push({
      resourceName: 'cpu',
      reason: 'Insufficient cpu',
      requested: req.milliCPU,
      used: u.milliCPU,
      capacity: a.milliCPU,
      unresolvable: req.milliCPU > a.milliCPU,
    });
  }
  if (req.memory > 0 && req.memory > a.memory - u.memory) {
    out.push({
      resourceName: 'memory',
      reason: 'Insufficient memory',
      requested: req.memory,
      used: u.memory,
      capacity: a.memory,
      unresolvable: req.memory > a.memory,
    });
  }
  if (req.ephemeralStorage > 0 && req.ephemeralStorage > a.ephemeralStorage - u.ephemeralStorage) {
    out.push({
      resourceName: 'ephemeral-storage',
      reason: 'Insufficient ephemeral-storage',
      requested: req.ephemeralStorage,
      used: u.ephemeralStorage,
      capacity: a.ephemeralStorage,
      unresolvable: req.ephemeralStorage > a.ephemeralStorage,
    });
  }
  if (req.scalar !== undefined) {
    for (const [name, q] of req.scalar) {
      if (q === 0) continue;
      if (isExtendedResourceName(name)) {
        if (ignored.has(name)) continue;
        const slash = name.indexOf('/');
        if (slash > 0 && ignoredGroups.has(name.slice(0, slash))) continue;
      }
      const cap = a.scalar?.get(name) ?? 0;
      const used = u.scalar?.get(name) ?? 0;
      if (q > cap - used) {
        out.push({
          resourceName: name,
          reason: `Insufficient ${name}`,
          requested: q,
          used,
          capacity: cap,
          unresolvable: q > cap,
        });
      }
    }
  }
  return out;
}

/** Resource fit and resource-based scoring. */
export class NodeResourcesFit
  implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions
{
  readonly name = NAME;
  private readonly ignored: Set<string>;
  private readonly ignoredGroups: Set<string>;
  private readonly resources: ResourceSpec[];
  private readonly scorer: Scorer;
  private readonly req: number[];
  private readonly alloc: number[];
  private readonly preFilterState = new StateCache(PRE_FILTER_KEY, PreFilterState);
  private readonly preScoreState = new StateCache(PRE_SCORE_KEY, PreScoreState);

  /** A plugin with its args (defaults as upstream v1). */
  constructor(args: NodeResourcesFitArgs = {}) {
    this.ignored = new Set(args.ignoredResources ?? []);
    this.ignoredGroups = new Set(args.ignoredResourceGroups ?? []);
    const strategy = args.scoringStrategy ?? { type: 'LeastAllocated' };
    this.resources =
      strategy.resources !== undefined && strategy.resources.length > 0
        ? strategy.resources.map((r) => ({ name: r.name, weight: r.weight || 1 }))
        : DEFAULT_RESOURCES;
    switch (strategy.type) {
      case 'MostAllocated':
        this.scorer = mostAllocatedScorer(this.resources);
        break;
      case 'RequestedToCapacityRatio':
        this.scorer = requestedToCapacityRatioScorer(
          this.resources,
          strategy.requestedToCapacityRatio?.shape ?? [
            { utilization: 0, score: 10 },
            { utilization: 100, score: 0 },
          ],
        );
        break;
      default:
        this.scorer = leastAllocatedScorer(this.resources);
    }
    this.req = new Array<number>(this.resources.length).fill(0);
    this.alloc = new Array<number>(this.resources.length).fill(0);
  }

  preFilter(state: CycleState, pod: Pod): PreFilterReturn {
    state.write(PRE_FILTER_KEY, new PreFilterState(podInfoOf(pod).requests));
    return null;
  }

  filter(state: CycleState, pod: Pod, nodeInfo: NodeInfo): PluginStatus {
    const req = this.preFilterState.read(state)?.requests ?? podInfoOf(pod).requests;
    // Fast path: the common "fits" answer without building the list.
    const h = nodeInfo.hot;
    if (
      (h[HOT_PODS] as number) + 1 <= (h[HOT_ALLOWED_PODS] as number) &&
      req.scalar === undefined &&
      req.milliCPU <= (h[HOT_ALLOC_CPU] as number) - (h[HOT_REQ_CPU] as number) &&
      req.memory <= (h[HOT_ALLOC_MEMORY] as number) - (h[HOT_REQ_MEMORY] as number) &&
      req.ephemeralStorage <= (h[HOT_ALLOC_EPHEMERAL] as number) - (h[HOT_REQ_EPHEMERAL] as number)
    ) {
      return null;
    }
    const insufficient = fitsRequest(req, nodeInfo, this.ignored, this.ignoredGroups);
    if (insufficient.length === 0) return null;
    const code = insufficient.some((r) => r.unresolvable)
      ? Code.UnschedulableAndUnresolvable
      : Code.Unschedulable;
    return new Status(
      code,
      insufficient.map((r) => r.reason),
    );
  }

  preScore(state: CycleState, pod: Pod): PluginStatus {
    state.write(PRE_SCORE_KEY, new PreScoreState(podRequestList(podInfoOf(pod), this.resources, false)));
    return null;
  }

  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number {
    const podReq =
      this.preScoreState.read(state)?.podRequests ?? podRequestList(podInfoOf(pod), this.resources, false);
    nodeVectors(nodeInfo, this.resources, podReq, false, this.req, this.alloc);
    return this.scorer(this.req, this.alloc);
  }

  eventsToRegister(): ClusterEvent[] {
    return [
      { resource: 'AssignedPod', actionType: ActionType.Delete | ActionType.UpdatePodScaleDown },
      { resource: 'Node', actionType: ActionType.Add | ActionType.UpdateNodeAllocatable },
    ];
  }
}

/** The requests Fit uses for a pod (exported for preemption and tests). */
export function podRequests(pi: PodInfo): Resource {
  return pi.requests;
}

/** Factory for the registry. */
export function newNodeResourcesFit(args: unknown): Plugin {
  return new NodeResourcesFit(argsObject(args) as NodeResourcesFitArgs);
}
