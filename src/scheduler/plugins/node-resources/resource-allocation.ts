// The scoring half shared by NodeResourcesFit's strategies and NodeResourcesBalancedAllocation
// (upstream's resource_allocation.go and the least/most/ratio scorers): for each configured
// resource, what the node would have requested with the pod on it versus its allocatable,
// then a strategy turns those vectors into 0..100.

import {
  HOT_ALLOC_CPU,
  HOT_ALLOC_EPHEMERAL,
  HOT_ALLOC_MEMORY,
  HOT_NONZERO_CPU,
  HOT_NONZERO_MEMORY,
  HOT_REQ_CPU,
  HOT_REQ_EPHEMERAL,
  HOT_REQ_MEMORY,
  type NodeInfo,
} from '../../framework/node-info.js';
import type { PodInfo } from '../../framework/pod-info.js';
import { ResourceName } from '../../framework/resource.js';

/** A resource and its weight in a scoring strategy. */
export interface ResourceSpec {
  name: string;
  weight: number;
}

/** A point of RequestedToCapacityRatio's shape: utilization 0..100 → score 0..10. */
export interface UtilizationShapePoint {
  utilization: number;
  score: number;
}

/** Maps (requested, allocatable) vectors to a node score. */
export type Scorer = (requested: readonly number[], allocatable: readonly number[]) => number;

const MAX_SCORE = 100;
const MAX_UTILIZATION = 100;
const MAX_CUSTOM_PRIORITY_SCORE = 10;

function isScalar(name: string): boolean {
  return (
    name !== ResourceName.cpu &&
    name !== ResourceName.memory &&
    name !== ResourceName.ephemeralStorage &&
    name !== ResourceName.pods
  );
}

/** The pod's request of each resource; nonZero applies the cpu/memory defaults for scoring. */
export function podRequestList(
  pi: PodInfo,
  resources: readonly ResourceSpec[],
  useRequested: boolean,
): number[] {
  const r = useRequested ? pi.requests : pi.nonZeroRequests;
  return resources.map((s) => r.get(s.name));
}

/**
 * Fills requested/allocatable for a node; a resource with zero allocatable (or an extended
 * resource the pod does not ask for) is left at 0 so strategies skip it.
 */
export function nodeVectors(
  ni: NodeInfo,
  resources: readonly ResourceSpec[],
  podRequests: readonly number[],
  useRequested: boolean,
  requested: number[],
  allocatable: number[],
): void {
  // cpu, memory and ephemeral storage come from the node's unboxed copies (NodeInfo.hot).
  const h = ni.hot;
  for (let i = 0; i < resources.length; i++) {
    const name = (resources[i] as ResourceSpec).name;
    const podReq = podRequests[i] as number;
    requested[i] = 0;
    allocatable[i] = 0;
    let alloc: number;
    let used: number;
    switch (name) {
      case ResourceName.cpu:
        alloc = h[HOT_ALLOC_CPU] as number;
        used = h[useRequested ? HOT_REQ_CPU : HOT_NONZERO_CPU] as number;
        break;
      case ResourceName.memory:
        alloc = h[HOT_ALLOC_MEMORY] as number;
        used = h[useRequested ? HOT_REQ_MEMORY : HOT_NONZERO_MEMORY] as number;
        break;
      case ResourceName.ephemeralStorage:
        alloc = h[HOT_ALLOC_EPHEMERAL] as number;
        used = h[HOT_REQ_EPHEMERAL] as number;
        break;
      default: {
        if (podReq === 0 && isScalar(name)) continue;
        const a = ni.allocatable.scalar?.get(name);
        if (a === undefined) continue;
        alloc = a;
        used = (useRequested ? ni.requested : ni.nonZeroRequested).scalar?.get(name) ?? 0;
      }
    }
    if (alloc === 0) continue;
    allocatable[i] = alloc;
    requested[i] = used + podReq;
  }
}

/** LeastAllocated: free fraction per resource, weighted mean. */
export function leastAllocatedScorer(resources: readonly ResourceSpec[]): Scorer {
  return (requested, allocatable) => {
    let score = 0;
    let weights = 0;
    for (let i = 0; i < requested.length; i++) {
      const cap = allocatable[i] as number;
      if (cap === 0) continue;
      const req = requested[i] as number;
      const w = (resources[i] as ResourceSpec).weight;
      score += (req > cap ? 0 : Math.trunc(((cap - req) * MAX_SCORE) / cap)) * w;
      weights += w;
    }
    return weights === 0 ? 0 : Math.trunc(score / weights);
  };
}

/** MostAllocated: used fraction per resource (capped at capacity), weighted mean. */
export function mostAllocatedScorer(resources: readonly ResourceSpec[]): Scorer {
  return (requested, allocatable) => {
    let score = 0;
    let weights = 0;
    for (let i = 0; i < requested.length; i++) {
      const cap = allocatable[i] as number;
      if (cap === 0) continue;
      const req = Math.min(requested[i] as number, cap);
      const w = (resources[i] as ResourceSpec).weight;
      score += Math.trunc((req * MAX_SCORE) / cap) * w;
      weights += w;
    }
    return weights === 0 ? 0 : Math.trunc(score / weights);
  };
}

/** A piecewise-linear function through the shape points (upstream's BuildBrokenLinearFunction). */
export function brokenLinear(
  shape: readonly { utilization: number; score: number }[],
): (p: number) => number {
  return (p) => {
    for (let i = 0; i < shape.length; i++) {
      const cur = shape[i] as { utilization: number; score: number };
      if (p <= cur.utilization) {
        if (i === 0) return cur.score;
        const prev = shape[i - 1] as { utilization: number; score: number };
        return (
          prev.score +
          Math.trunc(
            ((cur.score - prev.score) * (p - prev.utilization)) / (cur.utilization - prev.utilization),
          )
        );
      }
    }
    return (shape[shape.length - 1] as { score: number }).score;
  };
}

/** RequestedToCapacityRatio: the shape function of utilization, weighted mean of non-zero scores. */
export function requestedToCapacityRatioScorer(
  resources: readonly ResourceSpec[],
  shape: readonly UtilizationShapePoint[],
): Scorer {
  const scale = MAX_SCORE / MAX_CUSTOM_PRIORITY_SCORE;
  const f = brokenLinear(shape.map((p) => ({ utilization: p.utilization, score: p.score * scale })));
  const resourceScore = (req: number, cap: number): number =>
    cap === 0 || req > cap ? f(MAX_UTILIZATION) : f(Math.trunc((req * MAX_UTILIZATION) / cap));
  return (requested, allocatable) => {
    let score = 0;
    let weights = 0;
    for (let i = 0; i < requested.length; i++) {
      const cap = allocatable[i] as number;
      if (cap === 0) continue;
      const s = resourceScore(requested[i] as number, cap);
      if (s > 0) {
        const w = (resources[i] as ResourceSpec).weight;
        score += s * w;
        weights += w;
      }
    }
    return weights === 0 ? 0 : Math.round(score / weights);
  };
}

/** Balanced allocation: 100 × (1 − std-dev of the used fractions). */
export const balancedScorer: Scorer = (requested, allocatable) => {
  // Runs for every scored node: two passes over the vectors instead of a fractions array.
  let count = 0;
  let total = 0;
  let first = 0;
  let second = 0;
  for (let i = 0; i < requested.length; i++) {
    const cap = allocatable[i] as number;
    if (cap === 0) continue;
    const f = Math.min((requested[i] as number) / cap, 1);
    if (count === 0) first = f;
    else if (count === 1) second = f;
    total += f;
    count++;
  }
  let std = 0;
  if (count === 2) {
    std = Math.abs((first - second) / 2);
  } else if (count > 2) {
    const mean = total / count;
    let sum = 0;
    for (let i = 0; i < requested.length; i++) {
      const cap = allocatable[i] as number;
      if (cap === 0) continue;
      const f = Math.min((requested[i] as number) / cap, 1);
      sum += (f - mean) * (f - mean);
    }
    std = Math.sqrt(sum / count);
  }
  return Math.trunc((1 - std) * MAX_SCORE);
};
