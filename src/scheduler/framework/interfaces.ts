// One small interface per extension point, as upstream's framework/interface.go. A plugin is
// an object with a `name` that implements any subset of them; the framework finds out which
// by the methods present. Plugins return a Status (null = Success) and never throw to say
// "does not fit".

import type { Pod } from '../../api/generated/types/core-v1.js';
import type { SchedulerClient } from '../client.js';
import type { CycleState } from './cycle-state.js';
import type { ClusterEvent } from './events.js';
import type { ClusterListers } from './listers.js';
import type { NodeInfo } from './node-info.js';
import type { PodInfo } from './pod-info.js';
import type { Snapshot } from './snapshot.js';
import type { PluginStatus, Status } from './status.js';

/** The highest score a Score plugin may return after normalization. */
export const MAX_NODE_SCORE = 100;
/** The lowest score. */
export const MIN_NODE_SCORE = 0;

/** Every plugin has a name (the upstream plugin name for in-tree ones). */
export interface Plugin {
  readonly name: string;
}

/** A pod in the scheduling queue with its bookkeeping (upstream's QueuedPodInfo). */
export interface QueuedPodInfo {
  podInfo: PodInfo;
  /** When the pod was (re-)added to the queue, ms. */
  timestamp: number;
  /** Scheduling attempts so far. */
  attempts: number;
  /** When the pod was first added, ms. */
  initialAttemptTimestamp: number | undefined;
  /** Plugins that rejected the pod in its last attempt. */
  unschedulablePlugins: Set<string>;
  /** Plugins that returned Pending in its last attempt. */
  pendingPlugins: Set<string>;
  /** True while a PreEnqueue plugin keeps the pod out of activeQ. */
  gated: boolean;
  /** The plugin and message that gated it. */
  gatingPlugin: string | undefined;
}

/** Decides whether a pod may enter activeQ at all (e.g. scheduling gates). */
export interface PreEnqueuePlugin extends Plugin {
  preEnqueue(pod: Pod): PluginStatus;
}

/** Orders activeQ; exactly one per scheduler. */
export interface QueueSortPlugin extends Plugin {
  less(a: QueuedPodInfo, b: QueuedPodInfo): boolean;
}

/** Narrows the nodes to evaluate: undefined nodeNames means "all nodes". */
export interface PreFilterResult {
  nodeNames: ReadonlySet<string> | undefined;
}

/** A PreFilter's answer: a status alone, or a status with a node-name narrowing. */
export type PreFilterReturn = PluginStatus | { result: PreFilterResult; status: PluginStatus };

/** Lets preemption and nominated pods update PreFilter state incrementally. */
export interface PreFilterExtensions {
  addPod(state: CycleState, podToSchedule: Pod, podInfoToAdd: PodInfo, nodeInfo: NodeInfo): PluginStatus;
  removePod(
    state: CycleState,
    podToSchedule: Pod,
    podInfoToRemove: PodInfo,
    nodeInfo: NodeInfo,
  ): PluginStatus;
}

/** Computes per-cycle state before Filter; may reject the pod outright or return Skip. */
export interface PreFilterPlugin extends Plugin {
  preFilter(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): PreFilterReturn;
  preFilterExtensions?(): PreFilterExtensions | undefined;
}

/** Says whether the pod fits one node. */
export interface FilterPlugin extends Plugin {
  filter(state: CycleState, pod: Pod, nodeInfo: NodeInfo): PluginStatus;
}

/** The per-node statuses of a failed Filter pass (upstream's NodeToStatus). */
export interface NodeToStatus {
  /** Statuses of nodes that were evaluated and rejected. */
  readonly statuses: Map<string, Status>;
  /** What nodes absent from `statuses` count as (PreFilter narrowing, not evaluated). */
  absentStatus: Status;
}

/** What PostFilter decided: a nominated node ('' clears a previous nomination). */
export interface PostFilterResult {
  nominatedNodeName: string | undefined;
}

/** Runs when no node fits (preemption). */
export interface PostFilterPlugin extends Plugin {
  postFilter(
    state: CycleState,
    pod: Pod,
    filteredNodeStatus: NodeToStatus,
  ): Promise<{ result: PostFilterResult | undefined; status: PluginStatus }>;
}

/** Computes per-cycle state before Score; may return Skip. */
export interface PreScorePlugin extends Plugin {
  preScore(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): PluginStatus;
}

/** A node's score at one plugin. */
export interface NodeScore {
  name: string;
  score: number;
}

/** Rescales a Score plugin's raw scores to [0, MAX_NODE_SCORE]. */
export interface ScoreExtensions {
  normalizeScore(state: CycleState, pod: Pod, scores: NodeScore[]): PluginStatus;
}

/** Ranks a feasible node; returns the raw score or an Error status. */
export interface ScorePlugin extends Plugin {
  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number | Status;
  scoreExtensions?(): ScoreExtensions | undefined;
}

/** Claims per-node resources for the pod once a node is chosen; undone by unreserve. */
export interface ReservePlugin extends Plugin {
  reserve(state: CycleState, pod: Pod, nodeName: string): PluginStatus;
  unreserve(state: CycleState, pod: Pod, nodeName: string): void;
}

/** Approves, rejects or delays (Wait, with a timeout in ms) the binding. */
export interface PermitPlugin extends Plugin {
  permit(state: CycleState, pod: Pod, nodeName: string): [PluginStatus, number];
}

/** Prepares the binding (e.g. volumes). */
export interface PreBindPlugin extends Plugin {
  preBind(state: CycleState, pod: Pod, nodeName: string): Promise<PluginStatus>;
}

/** Binds the pod; Skip passes to the next binder. */
export interface BindPlugin extends Plugin {
  bind(state: CycleState, pod: Pod, nodeName: string): Promise<PluginStatus>;
}

/** Informational, after a successful bind. */
export interface PostBindPlugin extends Plugin {
  postBind(state: CycleState, pod: Pod, nodeName: string): void;
}

/** The cluster events after which a pod this plugin rejected may fit (upstream's EnqueueExtensions). */
export interface EnqueueExtensions extends Plugin {
  eventsToRegister(): ClusterEvent[];
}

/** Nominated pods per node: pods that preempted others and wait for the victims to go. */
export interface PodNominator {
  addNominatedPod(pi: PodInfo, nodeName: string): void;
  deleteNominatedPodIfExists(pod: Pod): void;
  updateNominatedPod(oldPod: Pod, newPi: PodInfo): void;
  nominatedPodsForNode(nodeName: string): readonly PodInfo[];
  /** Number of nominated pods (the Filter loop skips lookups when 0). */
  count(): number;
}

/** What the framework can do for a plugin in the middle of a cycle (used by preemption). */
export interface FrameworkRunner {
  readonly profileName: string;
  runFilterPluginsWithNominatedPods(
    state: CycleState,
    pod: Pod,
    nodeInfo: NodeInfo,
    nominated?: readonly PodInfo[],
  ): PluginStatus;
  runPreFilterExtensionAddPod(state: CycleState, pod: Pod, pi: PodInfo, nodeInfo: NodeInfo): PluginStatus;
  runPreFilterExtensionRemovePod(state: CycleState, pod: Pod, pi: PodInfo, nodeInfo: NodeInfo): PluginStatus;
}

/** Services the framework gives plugins (upstream's framework.Handle). */
export interface Handle {
  /** The snapshot of the current cycle. */
  snapshot(): Snapshot;
  /** Secondary objects: namespaces, PVCs, PVs, storage classes, PDBs, services, workloads. */
  readonly listers: ClusterListers;
  readonly client: SchedulerClient;
  readonly nominator: PodNominator;
  /** The framework running this plugin (set once the profile is built). */
  framework(): FrameworkRunner;
  /** Milliseconds since the epoch, from the injected clock. */
  now(): number;
}

/** Builds a plugin from its decoded args (undefined when none were configured). */
export type PluginFactory = (args: unknown, handle: Handle) => Plugin;

/** True when p implements PreEnqueue. */
export function isPreEnqueue(p: Plugin): p is PreEnqueuePlugin {
  return typeof (p as Partial<PreEnqueuePlugin>).preEnqueue === 'function';
}
/** True when p implements QueueSort. */
export function isQueueSort(p: Plugin): p is QueueSortPlugin {
  return typeof (p as Partial<QueueSortPlugin>).less === 'function';
}
/** True when p implements PreFilter. */
export function isPreFilter(p: Plugin): p is PreFilterPlugin {
  return typeof (p as Partial<PreFilterPlugin>).preFilter === 'function';
}
/** True when p implements Filter. */
export function isFilter(p: Plugin): p is FilterPlugin {
  return typeof (p as Partial<FilterPlugin>).filter === 'function';
}
/** True when p implements PostFilter. */
export function isPostFilter(p: Plugin): p is PostFilterPlugin {
  return typeof (p as Partial<PostFilterPlugin>).postFilter === 'function';
}
/** True when p implements PreScore. */
export function isPreScore(p: Plugin): p is PreScorePlugin {
  return typeof (p as Partial<PreScorePlugin>).preScore === 'function';
}
/** True when p implements Score. */
export function isScore(p: Plugin): p is ScorePlugin {
  return typeof (p as Partial<ScorePlugin>).score === 'function';
}
/** True when p implements Reserve. */
export function isReserve(p: Plugin): p is ReservePlugin {
  return typeof (p as Partial<ReservePlugin>).reserve === 'function';
}
/** True when p implements Permit. */
export function isPermit(p: Plugin): p is PermitPlugin {
  return typeof (p as Partial<PermitPlugin>).permit === 'function';
}
/** True when p implements PreBind. */
export function isPreBind(p: Plugin): p is PreBindPlugin {
  return typeof (p as Partial<PreBindPlugin>).preBind === 'function';
}
/** True when p implements Bind. */
export function isBind(p: Plugin): p is BindPlugin {
  return typeof (p as Partial<BindPlugin>).bind === 'function';
}
/** True when p implements PostBind. */
export function isPostBind(p: Plugin): p is PostBindPlugin {
  return typeof (p as Partial<PostBindPlugin>).postBind === 'function';
}
/** True when p declares the events that may make its rejections go away. */
export function isEnqueueExtensions(p: Plugin): p is EnqueueExtensions {
  return typeof (p as Partial<EnqueueExtensions>).eventsToRegister === 'function';
}
