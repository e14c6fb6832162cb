// One scheduling profile at run time (upstream's frameworkImpl): the plugin instances of a
// profile, and a method per extension point that runs them in configured order with the
// upstream rules (first failing Filter wins, Skip from PreFilter/PreScore drops the plugin
// for this cycle, scores are normalized then weighted, Wait from Permit parks the pod).

import type { Pod } from '../../api/generated/types/core-v1.js';
import type { Clock } from '../clock.js';
import type { CycleState } from './cycle-state.js';
import { type ClusterEvent, eventMatches } from './events.js';
import {
  type BindPlugin,
  type FilterPlugin,
  type FrameworkRunner,
  type Handle,
  isBind,
  isEnqueueExtensions,
  isFilter,
  isPermit,
  isPostBind,
  isPostFilter,
  isPreBind,
  isPreEnqueue,
  isPreFilter,
  isPreScore,
  isQueueSort,
  isReserve,
  isScore,
  MAX_NODE_SCORE,
  type NodeScore,
  type NodeToStatus,
  type PermitPlugin,
  type Plugin,
  type PluginFactory,
  type PostBindPlugin,
  type PostFilterPlugin,
  type PostFilterResult,
  type PreBindPlugin,
  type PreEnqueuePlugin,
  type PreFilterPlugin,
  type PreFilterResult,
  type PreScorePlugin,
  type QueuedPodInfo,
  type QueueSortPlugin,
  type ReservePlugin,
  type ScorePlugin,
} from './interfaces.js';
import type { NodeInfo } from './node-info.js';
import { type PodInfo, podKey, podPriority } from './pod-info.js';
import { asStatus, Code, isSuccess, newStatus, type PluginStatus, Status } from './status.js';

/** The extension points a profile configures. */
export const EXTENSION_POINTS = [
  'preEnqueue',
  'queueSort',
  'preFilter',
  'filter',
  'postFilter',
  'preScore',
  'score',
  'reserve',
  'permit',
  'preBind',
  'bind',
  'postBind',
] as const;

/** One extension point name. */
export type ExtensionPoint = (typeof EXTENSION_POINTS)[number];

/** A plugin enabled at an extension point, with its weight (Score only). */
export interface EnabledPlugin {
  name: string;
  weight?: number;
}

/** A resolved profile: the enabled plugins per point in order, and each plugin's args. */
export interface ProfileSpec {
  schedulerName: string;
  plugins: Record<ExtensionPoint, EnabledPlugin[]>;
  pluginArgs: Map<string, unknown>;
  /** Per-profile override of percentageOfNodesToScore (0/undefined = scheduler's). */
  percentageOfNodesToScore?: number;
}

/** A pod parked by a Permit plugin's Wait. */
export class WaitingPod {
  readonly pod: Pod;
  private readonly pending: Map<string, { cancel(): void }>;
  private settle: ((s: PluginStatus) => void) | undefined;
  /** Resolves with Success when every plugin allowed, or the rejection. */
  readonly result: Promise<PluginStatus>;

  /** Parks pod until each plugin in `timeouts` allows it, or any rejects/times out. */
  constructor(pod: Pod, timeouts: Map<string, number>, clock: Clock) {
    this.pod = pod;
    this.pending = new Map();
    this.result = new Promise((resolve) => {
      this.settle = resolve;
    });
    for (const [name, ms] of timeouts) {
      this.pending.set(
        name,
        clock.setTimeout(
          () => this.reject(name, `rejected due to timeout after waiting ${ms / 1000}s at plugin ${name}`),
          ms,
        ),
      );
    }
  }

  /** The plugins still to allow. */
  pendingPlugins(): string[] {
    return [...this.pending.keys()];
  }

  /** One plugin allows; the pod proceeds when none is pending. */
  allow(plugin: string): void {
    this.pending.get(plugin)?.cancel();
    this.pending.delete(plugin);
    if (this.pending.size === 0) this.finish(null);
  }

  /** Rejects the pod. */
  reject(plugin: string, msg: string): void {
    this.finish(new Status(Code.Unschedulable, [msg], undefined, plugin));
  }

  private finish(s: PluginStatus): void {
    for (const t of this.pending.values()) t.cancel();
    this.pending.clear();
    const settle = this.settle;
    this.settle = undefined;
    settle?.(s);
  }
}

/** The outcome of PreFilter across plugins. */
export interface PreFilterOutcome {
  result: PreFilterResult | undefined;
  status: PluginStatus;
  /** Plugins that rejected the pod (for requeueing). */
  unschedulablePlugins: Set<string>;
}

/** A profile's plugins and the runner of each extension point. */
export class Framework implements FrameworkRunner {
  readonly profileName: string;
  readonly percentageOfNodesToScore: number | undefined;
  private readonly instances = new Map<string, Plugin>();
  private readonly preEnqueue: PreEnqueuePlugin[] = [];
  private queueSort: QueueSortPlugin | undefined;
  private readonly preFilter: PreFilterPlugin[] = [];
  private readonly filter: FilterPlugin[] = [];
  private readonly postFilter: PostFilterPlugin[] = [];
  private readonly preScore: PreScorePlugin[] = [];
  private readonly score: { plugin: ScorePlugin; weight: number }[] = [];
  private readonly reserve: ReservePlugin[] = [];
  private readonly permit: PermitPlugin[] = [];
  private readonly preBind: PreBindPlugin[] = [];
  private readonly bind: BindPlugin[] = [];
  private readonly postBind: PostBindPlugin[] = [];
  private readonly waiting = new Map<string, WaitingPod>();
  private readonly events = new Map<string, ClusterEvent[]>();

  /** Instantiates the profile's plugins from the registry; throws on unknown plugins or bad args. */
  constructor(
    spec: ProfileSpec,
    registry: ReadonlyMap<string, PluginFactory>,
    handle: Omit<Handle, 'framework'>,
    private readonly clock: Clock,
  ) {
    this.profileName = spec.schedulerName;
    this.percentageOfNodesToScore = spec.percentageOfNodesToScore;
    const fullHandle: Handle = { ...handle, framework: () => this };
    const get = (name: string): Plugin => {
      let p = this.instances.get(name);
      if (p === undefined) {
        const factory = registry.get(name);
        if (factory === undefined) throw new Error(`plugin "${name}" does not exist`);
        p = factory(spec.pluginArgs.get(name), fullHandle);
        this.instances.set(name, p);
        if (isEnqueueExtensions(p)) this.events.set(name, p.eventsToRegister());
      }
      return p;
    };
    const must = <T extends Plugin>(point: string, p: Plugin, ok: (p: Plugin) => p is T): T => {
      if (!ok(p)) throw new Error(`plugin "${p.name}" does not extend ${point} plugin`);
      return p;
    };
    for (const e of spec.plugins.preEnqueue)
      this.preEnqueue.push(must('PreEnqueue', get(e.name), isPreEnqueue));
    for (const e of spec.plugins.queueSort) this.queueSort = must('QueueSort', get(e.name), isQueueSort);
    for (const e of spec.plugins.preFilter) this.preFilter.push(must('PreFilter', get(e.name), isPreFilter));
    for (const e of spec.plugins.filter) this.filter.push(must('Filter', get(e.name), isFilter));
    for (const e of spec.plugins.postFilter)
      this.postFilter.push(must('PostFilter', get(e.name), isPostFilter));
    for (const e of spec.plugins.preScore) this.preScore.push(must('PreScore', get(e.name), isPreScore));
    for (const e of spec.plugins.score) {
      this.score.push({ plugin: must('Score', get(e.name), isScore), weight: e.weight ?? 1 });
    }
    for (const e of spec.plugins.reserve) this.reserve.push(must('Reserve', get(e.name), isReserve));
    for (const e of spec.plugins.permit) this.permit.push(must('Permit', get(e.name), isPermit));
    for (const e of spec.plugins.preBind) this.preBind.push(must('PreBind', get(e.name), isPreBind));
    for (const e of spec.plugins.bind) this.bind.push(must('Bind', get(e.name), isBind));
    for (const e of spec.plugins.postBind) this.postBind.push(must('PostBind', get(e.name), isPostBind));
    if (this.bind.length === 0) throw new Error('at least one bind plugin is needed');
  }

  /** A plugin instance by name. */
  plugin(name: string): Plugin | undefined {
    return this.instances.get(name);
  }

  /** The QueueSort plugin's order; priority then timestamp when the profile has none. */
  less(a: QueuedPodInfo, b: QueuedPodInfo): boolean {
    if (this.queueSort !== undefined) return this.queueSort.less(a, b);
    const pa = podPriority(a.podInfo.pod);
    const pb = podPriority(b.podInfo.pod);
    return pa > pb || (pa === pb && a.timestamp < b.timestamp);
  }

  /** Runs PreEnqueue plugins; the first non-success gates the pod. */
  runPreEnqueuePlugins(pod: Pod): PluginStatus {
    for (const p of this.preEnqueue) {
      const s = p.preEnqueue(pod);
      if (!isSuccess(s)) return (s as Status).withPlugin(p.name);
    }
    return null;
  }

  /** The events each plugin registered, by plugin name. */
  registeredEvents(): ReadonlyMap<string, ClusterEvent[]> {
    return this.events;
  }

  /** True when an event may help a pod rejected by `plugins` (empty set: any event). */
  podMatchesEvent(plugins: ReadonlySet<string>, ev: ClusterEvent): boolean {
    if (plugins.size === 0) return true;
    for (const name of plugins) {
      const evs = this.events.get(name);
      if (evs === undefined) continue;
      for (const r of evs) if (eventMatches(r, ev)) return true;
    }
    return false;
  }

  /** Runs PreFilter plugins, intersecting their node-name results. */
  runPreFilterPlugins(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): PreFilterOutcome {
    let result: PreFilterResult | undefined;
    const unschedulablePlugins = new Set<string>();
    const pluginsWithNodes: string[] = [];
    for (const p of this.preFilter) {
      let r: ReturnType<PreFilterPlugin['preFilter']>;
      try {
        r = p.preFilter(state, pod, nodes);
      } catch (e) {
        return { result: undefined, status: asStatus(e).withPlugin(p.name), unschedulablePlugins };
      }
      let s: PluginStatus;
      let pr: PreFilterResult | undefined;
      if (r === null || r instanceof Status) s = r;
      else {
        s = r.status;
        pr = r.result;
      }
      if (s !== null && s.code === Code.Skip) {
        state.skipFilterPlugins.add(p.name);
        continue;
      }
      if (!isSuccess(s)) {
        const st = s as Status;
        st.withPlugin(p.name);
        if (st.isRejected()) unschedulablePlugins.add(p.name);
        return { result: undefined, status: st, unschedulablePlugins };
      }
      if (pr?.nodeNames !== undefined) {
        pluginsWithNodes.push(p.name);
        if (result?.nodeNames === undefined) result = { nodeNames: pr.nodeNames };
        else {
          const merged = new Set<string>();
          for (const n of pr.nodeNames) if (result.nodeNames.has(n)) merged.add(n);
          result = { nodeNames: merged };
        }
        if (result.nodeNames !== undefined && result.nodeNames.size === 0) {
          for (const n of pluginsWithNodes) unschedulablePlugins.add(n);
          const msg =
            pluginsWithNodes.length === 1
              ? `node(s) didn't satisfy plugin ${pluginsWithNodes[0]}`
              : `node(s) didn't satisfy plugin(s) [${pluginsWithNodes.join(' ')}] simultaneously`;
          const st = new Status(Code.UnschedulableAndUnresolvable, [msg], undefined, p.name);
          return { result, status: st, unschedulablePlugins };
        }
      }
    }
    this.lastPreFilterNarrowers = pluginsWithNodes;
    return { result, status: null, unschedulablePlugins };
  }

  /** The plugins whose PreFilter narrowed the nodes in the last runPreFilterPlugins call. */
  lastPreFilterNarrowers: string[] = [];

  /** Runs Filter plugins on one node; the first rejection (with its plugin) is returned. */
  runFilterPlugins(state: CycleState, pod: Pod, nodeInfo: NodeInfo): PluginStatus {
    const plan = this.filterPlan(state);
    for (let i = 0; i < plan.length; i++) {
      const p = plan[i] as FilterPlugin;
      const s = p.filter(state, pod, nodeInfo);
      if (s !== null && s.code !== Code.Success) {
        if (s.code === Code.Skip) continue;
        // Shared constant statuses must not be mutated: copy before tagging the plugin.
        return new Status(s.code, s.reasons, s.err, p.name);
      }
    }
    return null;
  }

  /**
   * The Filter plugins not skipped by PreFilter, computed once per cycle state: Filter runs
   * on hundreds of nodes per pod, and the skip set does not change between them.
   */
  private filterPlan(state: CycleState): readonly FilterPlugin[] {
    const skip = state.skipFilterPlugins;
    const cached = state.filterPlan;
    if (cached !== undefined && cached.owner === this && cached.skipped === skip.size) {
      return cached.plugins as readonly FilterPlugin[];
    }
    const plugins = skip.size === 0 ? this.filter : this.filter.filter((p) => !skip.has(p.name));
    state.filterPlan = { owner: this, skipped: skip.size, plugins };
    return plugins;
  }

  /**
   * Runs Filter as if the nominated pods of equal or higher priority were already on the
   * node, then without them (upstream's RunFilterPluginsWithNominatedPods): a node must fit
   * in both worlds, so preemptors keep their claim and affinity to nominated pods is not
   * counted on.
   */
  runFilterPluginsWithNominatedPods(
    state: CycleState,
    pod: Pod,
    nodeInfo: NodeInfo,
    nominated?: readonly PodInfo[],
  ): PluginStatus {
    const noms = nominated ?? [];
    if (noms.length === 0) return this.runFilterPlugins(state, pod, nodeInfo);
    const prio = podPriority(pod);
    const key = podKey(pod);
    const adding = noms.filter((pi) => pi.key !== key && podPriority(pi.pod) >= prio);
    if (adding.length === 0) return this.runFilterPlugins(state, pod, nodeInfo);
    const ni = nodeInfo.clone();
    const st = state.clone();
    for (const pi of adding) {
      ni.addPod(pi);
      const s = this.runPreFilterExtensionAddPod(st, pod, pi, ni);
      if (!isSuccess(s)) return s;
    }
    const s1 = this.runFilterPlugins(st, pod, ni);
    if (!isSuccess(s1)) return s1;
    return this.runFilterPlugins(state, pod, nodeInfo);
  }

  /** Tells PreFilter plugins a pod was added to nodeInfo (preemption, nominated pods). */
  runPreFilterExtensionAddPod(state: CycleState, pod: Pod, pi: PodInfo, nodeInfo: NodeInfo): PluginStatus {
    for (const p of this.preFilter) {
      if (state.skipFilterPlugins.has(p.name)) continue;
      const ext = p.preFilterExtensions?.();
      if (ext === undefined) continue;
      const s = ext.addPod(state, pod, pi, nodeInfo);
      if (!isSuccess(s)) return (s as Status).withPlugin(p.name);
    }
    return null;
  }

  /** Tells PreFilter plugins a pod was removed from nodeInfo (preemption dry runs). */
  runPreFilterExtensionRemovePod(state: CycleState, pod: Pod, pi: PodInfo, nodeInfo: NodeInfo): PluginStatus {
    for (const p of this.preFilter) {
      if (state.skipFilterPlugins.has(p.name)) continue;
      const ext = p.preFilterExtensions?.();
      if (ext === undefined) continue;
      const s = ext.removePod(state, pod, pi, nodeInfo);
      if (!isSuccess(s)) return (s as Status).withPlugin(p.name);
    }
    return null;
  }

  /** True when the profile has Filter plugins. */
  hasFilterPlugins(): boolean {
    return this.filter.length > 0;
  }

  /** True when the profile has Score plugins. */
  hasScorePlugins(): boolean {
    return this.score.length > 0;
  }

  /** Runs PostFilter plugins until one succeeds or one says the pod is hopeless. */
  async runPostFilterPlugins(
    state: CycleState,
    pod: Pod,
    statuses: NodeToStatus,
  ): Promise<{ result: PostFilterResult | undefined; status: PluginStatus }> {
    let last: { result: PostFilterResult | undefined; status: PluginStatus } = {
      result: undefined,
      status: newStatus(Code.Unschedulable),
    };
    for (const p of this.postFilter) {
      let r: { result: PostFilterResult | undefined; status: PluginStatus };
      try {
        r = await p.postFilter(state, pod, statuses);
      } catch (e) {
        return { result: undefined, status: asStatus(e).withPlugin(p.name) };
      }
      if (isSuccess(r.status)) return r;
      const st = r.status as Status;
      st.withPlugin(p.name);
      if (st.code === Code.UnschedulableAndUnresolvable || st.code === Code.Error) return r;
      last = r;
    }
    return last;
  }

  /** Runs PreScore plugins; Skip drops the plugin's Score for this cycle. */
  runPreScorePlugins(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): PluginStatus {
    for (const p of this.preScore) {
      const s = p.preScore(state, pod, nodes);
      if (s === null) continue;
      if (s.code === Code.Skip) {
        state.skipScorePlugins.add(p.name);
        continue;
      }
      if (s.code !== Code.Success) return s.withPlugin(p.name);
    }
    return null;
  }

  /** Scores nodes: each plugin scores all nodes, normalizes, applies its weight; returns totals. */
  runScorePlugins(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): number[] | Status {
    const n = nodes.length;
    const totals = new Array<number>(n).fill(0);
    const skip = state.skipScorePlugins;
    // Hundreds of nodes times every Score plugin per pod: plugins without NormalizeScore add
    // straight into the totals, and the NodeScore list the others normalize is built once
    // per cycle and refilled by each of them.
    let scores: NodeScore[] | undefined;
    for (const { plugin, weight } of this.score) {
      if (skip.has(plugin.name)) continue;
      const ext = plugin.scoreExtensions?.();
      if (ext === undefined) {
        // A failing Score wins over an out-of-range one, as when the range is checked after.
        let bad: number | undefined;
        for (let i = 0; i < n; i++) {
          const r = plugin.score(state, pod, nodes[i] as NodeInfo);
          if (typeof r !== 'number') return r.withPlugin(plugin.name);
          if (r > MAX_NODE_SCORE || r < 0) bad ??= r;
          totals[i] = (totals[i] as number) + r * weight;
        }
        if (bad !== undefined) return invalidScore(plugin.name, bad);
        continue;
      }
      if (scores === undefined) {
        scores = new Array<NodeScore>(n);
        for (let i = 0; i < n; i++) scores[i] = { name: (nodes[i] as NodeInfo).name, score: 0 };
      }
      for (let i = 0; i < n; i++) {
        const r = plugin.score(state, pod, nodes[i] as NodeInfo);
        if (typeof r !== 'number') return r.withPlugin(plugin.name);
        (scores[i] as NodeScore).score = r;
      }
      const s = ext.normalizeScore(state, pod, scores);
      if (!isSuccess(s)) return (s as Status).withPlugin(plugin.name);
      for (let i = 0; i < n; i++) {
        const sc = (scores[i] as NodeScore).score;
        if (sc > MAX_NODE_SCORE || sc < 0) return invalidScore(plugin.name, sc);
        totals[i] = (totals[i] as number) + sc * weight;
      }
    }
    return totals;
  }

  /** Runs Reserve; on failure the caller runs unreserve. */
  runReservePluginsReserve(state: CycleState, pod: Pod, nodeName: string): PluginStatus {
    for (const p of this.reserve) {
      let s: PluginStatus;
      try {
        s = p.reserve(state, pod, nodeName);
      } catch (e) {
        s = asStatus(e);
      }
      if (!isSuccess(s)) return (s as Status).withPlugin(p.name);
    }
    return null;
  }

  /** Runs Unreserve in reverse order. */
  runReservePluginsUnreserve(state: CycleState, pod: Pod, nodeName: string): void {
    for (let i = this.reserve.length - 1; i >= 0; i--) {
      try {
        this.reserve[i]?.unreserve(state, pod, nodeName);
      } catch {
        // Unreserve must not fail the cleanup of the other plugins.
      }
    }
  }

  /** Runs Permit; Wait parks the pod (see waitOnPermit). */
  runPermitPlugins(state: CycleState, pod: Pod, nodeName: string): PluginStatus {
    const timeouts = new Map<string, number>();
    for (const p of this.permit) {
      const [s, timeout] = p.permit(state, pod, nodeName);
      if (s === null || s.code === Code.Success) continue;
      if (s.code === Code.Wait) {
        timeouts.set(p.name, Math.min(timeout, 15 * 60 * 1000));
        continue;
      }
      return s.withPlugin(p.name);
    }
    if (timeouts.size > 0) {
      this.waiting.set(podKey(pod), new WaitingPod(pod, timeouts, this.clock));
      return new Status(Code.Wait, ['one or more plugins asked to wait and no plugin rejected pod']);
    }
    return null;
  }

  /** Resolves when a parked pod is allowed (null) or rejected. */
  async waitOnPermit(pod: Pod): Promise<PluginStatus> {
    const wp = this.waiting.get(podKey(pod));
    if (wp === undefined) return null;
    const s = await wp.result;
    this.waiting.delete(podKey(pod));
    return s;
  }

  /** A parked pod, for Permit plugins to allow or reject. */
  getWaitingPod(uid: string): WaitingPod | undefined {
    return this.waiting.get(uid);
  }

  /** Runs PreBind plugins in order. */
  async runPreBindPlugins(state: CycleState, pod: Pod, nodeName: string): Promise<PluginStatus> {
    for (const p of this.preBind) {
      let s: PluginStatus;
      try {
        s = await p.preBind(state, pod, nodeName);
      } catch (e) {
        s = asStatus(e);
      }
      if (!isSuccess(s)) return (s as Status).withPlugin(p.name);
    }
    return null;
  }

  /** Runs Bind plugins until one does not Skip. */
  async runBindPlugins(state: CycleState, pod: Pod, nodeName: string): Promise<PluginStatus> {
    for (const p of this.bind) {
      let s: PluginStatus;
      try {
        s = await p.bind(state, pod, nodeName);
      } catch (e) {
        s = asStatus(e);
      }
      if (s !== null && s.code === Code.Skip) continue;
      if (!isSuccess(s)) return (s as Status).withPlugin(p.name);
      return null;
    }
    return newStatus(Code.Skip);
  }

  /** Runs PostBind plugins (informational). */
  runPostBindPlugins(state: CycleState, pod: Pod, nodeName: string): void {
    for (const p of this.postBind) {
      try {
        p.postBind(state, pod, nodeName);
      } catch {
        // PostBind is informational: a failing one must not affect the others.
      }
    }
  }
}

function invalidScore(plugin: string, score: number): Status {
  return new Status(
    Code.Error,
    [
      `plugin "${plugin}" returns an invalid score ${score}, it should in the range of [0, ${MAX_NODE_SCORE}] after normalizing`,
    ],
    undefined,
    plugin,
  );
}
