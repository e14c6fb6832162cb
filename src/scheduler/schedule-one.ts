// The scheduling algorithm proper (upstream's schedule_one.go schedulePod): PreFilter, then
// Filter over a rotating window of nodes until enough feasible ones are found, then
// PreScore/Score and pick the best (random among ties). Synchronous and allocation-light:
// this is the loop that decides pods/s.

import type { Pod } from '../api/generated/types/core-v1.js';
import type { CycleState } from './framework/cycle-state.js';
import { type Diagnosis, FitError, newDiagnosis } from './framework/fit-error.js';
import type { Framework } from './framework/framework.js';
import type { PodNominator } from './framework/interfaces.js';
import type { NodeInfo } from './framework/node-info.js';
import type { PodInfo } from './framework/pod-info.js';
import type { Snapshot } from './framework/snapshot.js';
import { Code, Status } from './framework/status.js';

const NO_PODS: readonly PodInfo[] = [];

/** Below this many nodes every node is evaluated. */
export const MIN_FEASIBLE_NODES_TO_FIND = 100;
/** The adaptive percentage never drops below this. */
export const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5;

/** Where a pod goes and how much work deciding took. */
export interface ScheduleResult {
  suggestedHost: string;
  evaluatedNodes: number;
  feasibleNodes: number;
}

/** Thrown when the cluster has no nodes at all. */
export class NoNodesAvailableError extends Error {
  constructor() {
    super('no nodes available to schedule pods');
    this.name = 'NoNodesAvailableError';
  }
}

/**
 * How many feasible nodes to look for before scoring (upstream's numFeasibleNodesToFind):
 * all of them below 100 nodes, else `percentage`% with the adaptive default
 * 50 - nodes/125 (at least 5%), and never fewer than 100.
 */
export function numFeasibleNodesToFind(
  percentageOfNodesToScore: number | undefined,
  numAllNodes: number,
): number {
  if (numAllNodes < MIN_FEASIBLE_NODES_TO_FIND) return numAllNodes;
  let pct = percentageOfNodesToScore ?? 0;
  if (pct === 0) {
    pct = 50 - Math.trunc(numAllNodes / 125);
    if (pct < MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND) pct = MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND;
  }
  if (pct >= 100) return numAllNodes;
  const n = Math.trunc((numAllNodes * pct) / 100);
  return Math.max(n, MIN_FEASIBLE_NODES_TO_FIND);
}

/** The state schedulePod carries between pods. */
export interface Algorithm {
  /** Where the next Filter pass starts, so consecutive pods spread over the node list. */
  nextStartNodeIndex: number;
  /** The scheduler-wide percentageOfNodesToScore (0 = adaptive). */
  percentageOfNodesToScore: number;
  nominator: PodNominator;
  /** Uniform [0, 1) (injectable for deterministic tests). */
  random: () => number;
}

/** Chooses a node for pod or throws FitError / NoNodesAvailableError / an Error status. */
export function schedulePod(
  alg: Algorithm,
  fwk: Framework,
  state: CycleState,
  pod: Pod,
  snapshot: Snapshot,
): ScheduleResult {
  if (snapshot.numNodes === 0) throw new NoNodesAvailableError();
  const { feasible, diagnosis } = findNodesThatFitPod(alg, fwk, state, pod, snapshot);
  if (feasible.length === 0) throw new FitError(pod, snapshot.numNodes, diagnosis);
  const evaluated = feasible.length + diagnosis.nodeToStatus.size;
  if (feasible.length === 1) {
    return { suggestedHost: (feasible[0] as NodeInfo).name, evaluatedNodes: evaluated, feasibleNodes: 1 };
  }
  const scores = prioritizeNodes(fwk, state, pod, feasible);
  return {
    suggestedHost: selectHost(feasible, scores, alg.random),
    evaluatedNodes: evaluated,
    feasibleNodes: feasible.length,
  };
}

/** Runs PreFilter and Filter; returns the feasible nodes and why the others failed. */
export function findNodesThatFitPod(
  alg: Algorithm,
  fwk: Framework,
  state: CycleState,
  pod: Pod,
  snapshot: Snapshot,
): { feasible: NodeInfo[]; diagnosis: Diagnosis } {
  const diagnosis = newDiagnosis();
  const allNodes = snapshot.nodeInfoList;
  const pre = fwk.runPreFilterPlugins(state, pod, allNodes);
  for (const p of pre.unschedulablePlugins) diagnosis.unschedulablePlugins.add(p);
  if (pre.status !== null && pre.status.code !== Code.Success) {
    if (!pre.status.isRejected()) throw pre.status.asError();
    diagnosis.nodeToStatus.absentStatus = pre.status;
    diagnosis.preFilterMsg = pre.status.message();
    return { feasible: [], diagnosis };
  }
  // A pod that preempted earlier tries its nominated node first: the victims were evicted for it.
  const nominated = pod.status?.nominatedNodeName;
  if (nominated !== undefined && nominated !== '') {
    const ni = snapshot.get(nominated);
    if (ni !== undefined) {
      const s = fwk.runFilterPluginsWithNominatedPods(
        state,
        pod,
        ni,
        alg.nominator.nominatedPodsForNode(nominated),
      );
      if (s === null || s.code === Code.Success) return { feasible: [ni], diagnosis };
    }
  }
  let nodes: readonly NodeInfo[] = allNodes;
  const narrowed = pre.result?.nodeNames;
  if (narrowed !== undefined) {
    const list: NodeInfo[] = [];
    for (const n of narrowed) {
      const ni = snapshot.get(n);
      if (ni !== undefined) list.push(ni);
    }
    nodes = list;
    diagnosis.nodeToStatus.absentStatus = new Status(Code.UnschedulableAndUnresolvable, [
      `node(s) didn't satisfy plugin(s) [${fwk.lastPreFilterNarrowers.join(' ')}]`,
    ]);
  }
  const feasible = findNodesThatPassFilters(alg, fwk, state, pod, diagnosis, nodes, allNodes.length);
  return { feasible, diagnosis };
}

function findNodesThatPassFilters(
  alg: Algorithm,
  fwk: Framework,
  state: CycleState,
  pod: Pod,
  diagnosis: Diagnosis,
  nodes: readonly NodeInfo[],
  numAll: number,
): NodeInfo[] {
  const n = nodes.length;
  if (n === 0) return [];
  const pct = fwk.percentageOfNodesToScore || alg.percentageOfNodesToScore;
  const toFind = numFeasibleNodesToFind(pct, n);
  const start = alg.nextStartNodeIndex % n;
  const feasible: NodeInfo[] = [];
  if (!fwk.hasFilterPlugins()) {
    for (let i = 0; i < toFind; i++) feasible.push(nodes[(start + i) % n] as NodeInfo);
    alg.nextStartNodeIndex = (alg.nextStartNodeIndex + toFind) % Math.max(numAll, 1);
    return feasible;
  }
  const nominator = alg.nominator;
  const anyNominated = nominator.count() > 0;
  let processed = 0;
  for (let i = 0; i < n; i++) {
    const ni = nodes[(start + i) % n] as NodeInfo;
    processed++;
    const noms = anyNominated ? nominator.nominatedPodsForNode(ni.name) : NO_PODS;
    const s =
      noms.length === 0
        ? fwk.runFilterPlugins(state, pod, ni)
        : fwk.runFilterPluginsWithNominatedPods(state, pod, ni, noms);
    if (s === null || s.code === Code.Success) {
      feasible.push(ni);
      if (feasible.length >= toFind) break;
    } else if (s.isRejected()) {
      diagnosis.nodeToStatus.set(ni.name, s);
      diagnosis.unschedulablePlugins.add(s.plugin);
      if (s.code === Code.Pending) diagnosis.pendingPlugins.add(s.plugin);
    } else {
      throw s.asError();
    }
  }
  alg.nextStartNodeIndex = (alg.nextStartNodeIndex + processed) % Math.max(numAll, 1);
  return feasible;
}

/** Runs PreScore and Score; returns each node's weighted total (1 each without Score plugins). */
export function prioritizeNodes(
  fwk: Framework,
  state: CycleState,
  pod: Pod,
  nodes: readonly NodeInfo[],
): number[] {
  if (!fwk.hasScorePlugins()) return new Array<number>(nodes.length).fill(1);
  const pre = fwk.runPreScorePlugins(state, pod, nodes);
  if (pre !== null && pre.code !== Code.Success) throw pre.asError();
  const totals = fwk.runScorePlugins(state, pod, nodes);
  if (totals instanceof Status) throw totals.asError();
  return totals;
}

/** The highest-scoring node; ties broken uniformly at random (reservoir sampling). */
export function selectHost(
  nodes: readonly NodeInfo[],
  scores: readonly number[],
  random: () => number,
): string {
  let best = -1;
  let bestScore = Number.NEGATIVE_INFINITY;
  let ties = 0;
  for (let i = 0; i < nodes.length; i++) {
    const s = scores[i] as number;
    if (s > bestScore) {
      bestScore = s;
      best = i;
      ties = 1;
    } else if (s === bestScore) {
      ties++;
      if (random() * ties < 1) best = i;
    }
  }
  return (nodes[best] as NodeInfo).name;
}
