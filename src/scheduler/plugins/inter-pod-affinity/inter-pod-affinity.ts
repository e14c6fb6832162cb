// InterPodAffinity: required pod affinity / anti-affinity as a Filter (including the
// symmetry rule: an existing pod's required anti-affinity repels the incoming pod), and
// preferred terms (both ways, plus existing pods' required affinity at hardPodAffinityWeight)
// as a Score. Counts are kept per topology pair (key, value) so a node check is a few map
// lookups; PreFilterExtensions keep them right while preemption adds and removes pods.

import type { Node, Pod } from '../../../api/generated/types/core-v1.js';
import type { Labels } from '../../../machinery/labels/selector.js';
import type { CycleState, StateData } from '../../framework/cycle-state.js';
import { readState } from '../../framework/cycle-state.js';
import { ActionType, type ClusterEvent } from '../../framework/events.js';
import type {
  EnqueueExtensions,
  FilterPlugin,
  Handle,
  NodeScore,
  Plugin,
  PreFilterExtensions,
  PreFilterPlugin,
  PreFilterReturn,
  PreScorePlugin,
  ScoreExtensions,
  ScorePlugin,
} from '../../framework/interfaces.js';
import { MAX_NODE_SCORE } from '../../framework/interfaces.js';
import type { NodeInfo } from '../../framework/node-info.js';
import { type AffinityTerm, affinityTermMatches, type PodInfo, podInfoOf } from '../../framework/pod-info.js';
import { Code, newStatus, type PluginStatus, SKIP, Status } from '../../framework/status.js';
import { argsObject } from '../helpers/normalize.js';

/** The upstream plugin name. */
export const NAME = 'InterPodAffinity';
/** Upstream's reason when the pod's required affinity is not met. */
export const ERR_REASON_AFFINITY = "node(s) didn't match pod affinity rules";
/** Upstream's reason when the pod's required anti-affinity is violated. */
export const ERR_REASON_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";
/** Upstream's reason when an existing pod's anti-affinity repels the pod. */
export const ERR_REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";

/** InterPodAffinityArgs. */
export interface InterPodAffinityArgs {
  hardPodAffinityWeight?: number;
  ignorePreferredTermsOfExistingPods?: boolean;
}

const PRE_FILTER_KEY = `PreFilter${NAME}`;
const PRE_SCORE_KEY = `PreScore${NAME}`;

const REJECT_AFFINITY = new Status(Code.UnschedulableAndUnresolvable, [ERR_REASON_AFFINITY]);
const REJECT_ANTI = new Status(Code.Unschedulable, [ERR_REASON_ANTI_AFFINITY]);
const REJECT_EXISTING = new Status(Code.Unschedulable, [ERR_REASON_EXISTING_ANTI_AFFINITY]);

/** Counts per topology pair, keyed "key\u0000value". */
type TopologyCounts = Map<string, number>;

function pairKey(k: string, v: string): string {
  return `${k}\u0000${v}`;
}

function bump(m: TopologyCounts, key: string, by: number): void {
  const n = (m.get(key) ?? 0) + by;
  if (n === 0) m.delete(key);
  else m.set(key, n);
}

function matchesAll(terms: readonly AffinityTerm[], pod: Pod, nsLabels: Labels | undefined): boolean {
  if (terms.length === 0) return false;
  for (const t of terms) if (!affinityTermMatches(t, pod, nsLabels)) return false;
  return true;
}

class PreFilterState implements StateData {
  constructor(
    readonly podInfo: PodInfo,
    readonly nsLabels: Labels | undefined,
    readonly existingAntiAffinityCounts: TopologyCounts,
    readonly affinityCounts: TopologyCounts,
    readonly antiAffinityCounts: TopologyCounts,
  ) {}

  clone(): StateData {
    return new PreFilterState(
      this.podInfo,
      this.nsLabels,
      new Map(this.existingAntiAffinityCounts),
      new Map(this.affinityCounts),
      new Map(this.antiAffinityCounts),
    );
  }

  /** Accounts for an existing pod added (+1) to or removed (-1) from node. */
  updateWithPod(existing: PodInfo, node: Node, existingNsLabels: Labels | undefined, m: 1 | -1): void {
    const labels = node.metadata?.labels ?? {};
    const incoming = this.podInfo.pod;
    for (const t of existing.requiredAntiAffinityTerms) {
      const v = labels[t.topologyKey];
      if (v !== undefined && affinityTermMatches(t, incoming, this.nsLabels))
        bump(this.existingAntiAffinityCounts, pairKey(t.topologyKey, v), m);
    }
    if (matchesAll(this.podInfo.requiredAffinityTerms, existing.pod, existingNsLabels)) {
      for (const t of this.podInfo.requiredAffinityTerms) {
        const v = labels[t.topologyKey];
        if (v !== undefined) bump(this.affinityCounts, pairKey(t.topologyKey, v), m);
      }
    }
    for (const t of this.podInfo.requiredAntiAffinityTerms) {
      const v = labels[t.topologyKey];
      if (v !== undefined && affinityTermMatches(t, existing.pod, existingNsLabels))
        bump(this.antiAffinityCounts, pairKey(t.topologyKey, v), m);
    }
  }
}

class PreScoreState implements StateData {
  constructor(readonly topologyScore: Map<string, Map<string, number>>) {}
  clone(): StateData {
    return this;
  }
}

/** Pod affinity and anti-affinity. */
export class InterPodAffinity
  implements
    PreFilterPlugin,
    PreFilterExtensions,
    FilterPlugin,
    PreScorePlugin,
    ScorePlugin,
    ScoreExtensions,
    EnqueueExtensions
{
  readonly name = NAME;
  private readonly hardWeight: number;
  private readonly ignoreExistingPreferred: boolean;

  /** A plugin with its args (hardPodAffinityWeight defaults to 1). */
  constructor(
    private readonly handle: Handle,
    args: InterPodAffinityArgs = {},
  ) {
    this.hardWeight = args.hardPodAffinityWeight ?? 1;
    this.ignoreExistingPreferred = args.ignorePreferredTermsOfExistingPods ?? false;
  }

  private nsLabels(pod: Pod): Labels | undefined {
    return this.handle.listers.namespaceLabels(pod.metadata?.namespace ?? '');
  }

  preFilter(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): PreFilterReturn {
    const pi = podInfoOf(pod);
    const snap = this.handle.snapshot();
    const withAnti = snap.havePodsWithRequiredAntiAffinityList;
    if (
      pi.requiredAffinityTerms.length === 0 &&
      pi.requiredAntiAffinityTerms.length === 0 &&
      withAnti.length === 0
    ) {
      return SKIP;
    }
    if (pi.parseError !== undefined) return newStatus(Code.UnschedulableAndUnresolvable, pi.parseError);
    const nsLabels = this.nsLabels(pod);
    const s = new PreFilterState(pi, nsLabels, new Map(), new Map(), new Map());
    for (const ni of withAnti) {
      const labels = ni.node?.metadata?.labels;
      if (labels === undefined) continue;
      for (const existing of ni.podsWithRequiredAntiAffinity) {
        for (const t of existing.requiredAntiAffinityTerms) {
          const v = labels[t.topologyKey];
          if (v !== undefined && affinityTermMatches(t, pod, nsLabels))
            bump(s.existingAntiAffinityCounts, pairKey(t.topologyKey, v), 1);
        }
      }
    }
    if (pi.requiredAffinityTerms.length > 0 || pi.requiredAntiAffinityTerms.length > 0) {
      const nsCache = new Map<string, Labels | undefined>();
      for (const ni of nodes) {
        const labels = ni.node?.metadata?.labels;
        if (labels === undefined) continue;
        for (const existing of ni.pods) {
          const ns = existing.pod.metadata?.namespace ?? '';
          if (!nsCache.has(ns)) nsCache.set(ns, this.handle.listers.namespaceLabels(ns));
          const exLabels = nsCache.get(ns);
          if (matchesAll(pi.requiredAffinityTerms, existing.pod, exLabels)) {
            for (const t of pi.requiredAffinityTerms) {
              const v = labels[t.topologyKey];
              if (v !== undefined) bump(s.affinityCounts, pairKey(t.topologyKey, v), 1);
            }
          }
          for (const t of pi.requiredAntiAffinityTerms) {
            const v = labels[t.topologyKey];
            if (v !== undefined && affinityTermMatches(t, existing.pod, exLabels))
              bump(s.antiAffinityCounts, pairKey(t.topologyKey, v), 1);
          }
        }
      }
    }
    state.write(PRE_FILTER_KEY, s);
    return null;
  }

  preFilterExtensions(): PreFilterExtensions {
    return this;
  }

  addPod(state: CycleState, _pod: Pod, pi: PodInfo, nodeInfo: NodeInfo): PluginStatus {
    const s = readState(state, PRE_FILTER_KEY, PreFilterState);
    if (s !== undefined && nodeInfo.node !== undefined)
      s.updateWithPod(pi, nodeInfo.node, this.nsLabels(pi.pod), 1);
    return null;
  }

  removePod(state: CycleState, _pod: Pod, pi: PodInfo, nodeInfo: NodeInfo): PluginStatus {
    const s = readState(state, PRE_FILTER_KEY, PreFilterState);
    if (s !== undefined && nodeInfo.node !== undefined)
      s.updateWithPod(pi, nodeInfo.node, this.nsLabels(pi.pod), -1);
    return null;
  }

  filter(state: CycleState, _pod: Pod, nodeInfo: NodeInfo): PluginStatus {
    const s = readState(state, PRE_FILTER_KEY, PreFilterState);
    if (s === undefined)
      return newStatus(Code.Error, `reading "${PRE_FILTER_KEY}" from cycleState: not found`);
    const labels = nodeInfo.node?.metadata?.labels ?? {};
    // Required affinity: every term's topology must exist and host a matching pod, unless no
    // pod matches anywhere and the pod matches its own terms (the first of a group).
    const aff = s.podInfo.requiredAffinityTerms;
    if (aff.length > 0) {
      let podsExist = true;
      for (const t of aff) {
        const v = labels[t.topologyKey];
        if (v === undefined) return REJECT_AFFINITY;
        if ((s.affinityCounts.get(pairKey(t.topologyKey, v)) ?? 0) <= 0) podsExist = false;
      }
      if (!podsExist && !(s.affinityCounts.size === 0 && matchesAll(aff, s.podInfo.pod, s.nsLabels))) {
        return REJECT_AFFINITY;
      }
    }
    if (s.antiAffinityCounts.size > 0) {
      for (const t of s.podInfo.requiredAntiAffinityTerms) {
        const v = labels[t.topologyKey];
        if (v !== undefined && (s.antiAffinityCounts.get(pairKey(t.topologyKey, v)) ?? 0) > 0)
          return REJECT_ANTI;
      }
    }
    if (s.existingAntiAffinityCounts.size > 0) {
      for (const k in labels) {
        if ((s.existingAntiAffinityCounts.get(pairKey(k, labels[k] as string)) ?? 0) > 0)
          return REJECT_EXISTING;
      }
    }
    return null;
  }

  preScore(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): PluginStatus {
    if (nodes.length === 0) return null;
    const pi = podInfoOf(pod);
    const hasConstraints = pi.preferredAffinityTerms.length > 0 || pi.preferredAntiAffinityTerms.length > 0;
    if (this.ignoreExistingPreferred && !hasConstraints) return SKIP;
    const snap = this.handle.snapshot();
    const all = hasConstraints ? snap.nodeInfoList : snap.havePodsWithAffinityList;
    if (all.length === 0) return SKIP;
    const nsLabels = this.nsLabels(pod);
    const topo = new Map<string, Map<string, number>>();
    const add = (
      t: AffinityTerm,
      weight: number,
      target: Pod,
      ns: Labels | undefined,
      node: Node,
      m: number,
    ): void => {
      const v = node.metadata?.labels?.[t.topologyKey];
      if (v === undefined || !affinityTermMatches(t, target, ns)) return;
      let byValue = topo.get(t.topologyKey);
      if (byValue === undefined) {
        byValue = new Map();
        topo.set(t.topologyKey, byValue);
      }
      byValue.set(v, (byValue.get(v) ?? 0) + weight * m);
    };
    for (const ni of all) {
      const node = ni.node;
      if (node === undefined) continue;
      const pods = hasConstraints ? ni.pods : ni.podsWithAffinity;
      for (const ex of pods) {
        const exNs = this.handle.listers.namespaceLabels(ex.pod.metadata?.namespace ?? '');
        for (const t of pi.preferredAffinityTerms) add(t, t.weight, ex.pod, exNs, node, 1);
        for (const t of pi.preferredAntiAffinityTerms) add(t, t.weight, ex.pod, exNs, node, -1);
        if (this.hardWeight > 0)
          for (const t of ex.requiredAffinityTerms) add(t, this.hardWeight, pod, nsLabels, node, 1);
        if (!this.ignoreExistingPreferred) {
          for (const t of ex.preferredAffinityTerms) add(t, t.weight, pod, nsLabels, node, 1);
          for (const t of ex.preferredAntiAffinityTerms) add(t, t.weight, pod, nsLabels, node, -1);
        }
      }
    }
    state.write(PRE_SCORE_KEY, new PreScoreState(topo));
    return null;
  }

  score(state: CycleState, _pod: Pod, nodeInfo: NodeInfo): number | Status {
    const s = readState(state, PRE_SCORE_KEY, PreScoreState);
    if (s === undefined) return 0;
    const labels = nodeInfo.node?.metadata?.labels;
    if (labels === undefined) return 0;
    let score = 0;
    for (const [k, byValue] of s.topologyScore) {
      const v = labels[k];
      if (v !== undefined) score += byValue.get(v) ?? 0;
    }
    return score;
  }

  scoreExtensions(): ScoreExtensions {
    return this;
  }

  normalizeScore(state: CycleState, _pod: Pod, scores: NodeScore[]): PluginStatus {
    const s = readState(state, PRE_SCORE_KEY, PreScoreState);
    if (s === undefined || s.topologyScore.size === 0) {
      for (const x of scores) x.score = 0;
      return null;
    }
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (const x of scores) {
      if (x.score < min) min = x.score;
      if (x.score > max) max = x.score;
    }
    const diff = max - min;
    for (const x of scores) x.score = diff > 0 ? Math.trunc((MAX_NODE_SCORE * (x.score - min)) / diff) : 0;
    return null;
  }

  eventsToRegister(): ClusterEvent[] {
    return [
      { resource: 'AssignedPod', actionType: ActionType.All },
      { resource: 'Node', actionType: ActionType.Add | ActionType.UpdateNodeLabel },
    ];
  }
}

/** Factory for the registry. */
export function newInterPodAffinity(args: unknown, handle: Handle): Plugin {
  return new InterPodAffinity(handle, argsObject(args) as InterPodAffinityArgs);
}
