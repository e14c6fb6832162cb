// InterPodAffinity: required pod affinity / anti-affinity as a Filter (including the
// symmetry rule: an existing pod's required anti-affinity repels the incoming pod), and
// preferred terms (both ways, plus existing pods' required affinity at hardPodAffinityWeight)
// as a Score. Counts are kept per topology pair (key, value) so a node check is a few map
// lookups; PreFilterExtensions keep them right while preemption adds and removes pods.
// The counts are snapshot aggregates (Snapshot.totals) keyed by the incoming pod's terms or
// identity, so a cycle re-walks the pods of only the nodes that changed since the last one.

import type { Node, Pod } from '../../../api/generated/types/core-v1.js';
import type { Labels, Selector } from '../../../machinery/labels/selector.js';
import type { CycleState, StateData } from '../../framework/cycle-state.js';
import { readState, StateCache } from '../../framework/cycle-state.js';
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
import { memoSlot, type NodeInfo } from '../../framework/node-info.js';
import { NO_CONTRIBUTION } from '../../framework/snapshot.js';
import type { ClusterListers } from '../../framework/listers.js';
import {
  type AffinityTerm,
  affinityTermMatches,
  type PodInfo,
  podInfoOf,
  type WeightedAffinityTerm,
} from '../../framework/pod-info.js';
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

// Node labels → their pairKey strings by label key, built once per labels object (informer
// objects are never mutated in place): Filter and Score look topology pairs up for every
// node of every cycle, and concatenating then hashing a fresh key per lookup dominated them.
const labelPairs = new WeakMap<Readonly<Record<string, string>>, Map<string, string>>();
const NO_PAIRS: ReadonlyMap<string, string> = new Map();

function pairsOf(labels: Readonly<Record<string, string>> | undefined): ReadonlyMap<string, string> {
  if (labels === undefined) return NO_PAIRS;
  let m = labelPairs.get(labels);
  if (m === undefined) {
    m = new Map();
    for (const k in labels) m.set(k, pairKey(k, labels[k] as string));
    labelPairs.set(labels, m);
  }
  return m;
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

/** Per node: pods matching all required affinity terms, and pods matching each anti-affinity term. */
interface IncomingCounts {
  affinity: number;
  anti: number[];
}

/** The incoming pod's required terms counted against one node's pods. */
function incomingCounts(
  ni: NodeInfo,
  aff: readonly AffinityTerm[],
  anti: readonly AffinityTerm[],
  listers: ClusterListers,
): IncomingCounts {
  const out: IncomingCounts = { affinity: 0, anti: new Array<number>(anti.length).fill(0) };
  for (const existing of ni.pods) {
    const exLabels = listers.namespaceLabels(existing.pod.metadata?.namespace ?? '');
    if (matchesAll(aff, existing.pod, exLabels)) out.affinity++;
    for (let i = 0; i < anti.length; i++) {
      if (affinityTermMatches(anti[i] as AffinityTerm, existing.pod, exLabels))
        out.anti[i] = (out.anti[i] as number) + 1;
    }
  }
  return out;
}

/** The topology keys of the node's existing required anti-affinity terms that select pod. */
function existingTermsMatching(ni: NodeInfo, pod: Pod, nsLabels: Labels | undefined): string[] {
  const out: string[] = [];
  for (const existing of ni.podsWithRequiredAntiAffinity) {
    for (const t of existing.requiredAntiAffinityTerms)
      if (affinityTermMatches(t, pod, nsLabels)) out.push(t.topologyKey);
  }
  return out;
}

/** What PreScore needs besides the node. */
interface ScoreInputs {
  pod: Pod;
  nsLabels: Labels | undefined;
  listers: ClusterListers;
  preferredAffinity: readonly WeightedAffinityTerm[];
  preferredAnti: readonly WeightedAffinityTerm[];
  hardWeight: number;
  ignoreExistingPreferred: boolean;
  /** Walk every pod (the incoming pod has preferred terms), not only pods with affinity. */
  all: boolean;
}

/** One node's score contributions by topology key (an entry exists once any term matched). */
function nodeScoreContributions(ni: NodeInfo, x: ScoreInputs): Map<string, number> {
  const out = new Map<string, number>();
  const add = (t: AffinityTerm, weight: number, target: Pod, ns: Labels | undefined): void => {
    if (!affinityTermMatches(t, target, ns)) return;
    out.set(t.topologyKey, (out.get(t.topologyKey) ?? 0) + weight);
  };
  for (const ex of x.all ? ni.pods : ni.podsWithAffinity) {
    const exNs = x.listers.namespaceLabels(ex.pod.metadata?.namespace ?? '');
    for (const t of x.preferredAffinity) add(t, t.weight, ex.pod, exNs);
    for (const t of x.preferredAnti) add(t, -t.weight, ex.pod, exNs);
    if (x.hardWeight > 0) for (const t of ex.requiredAffinityTerms) add(t, x.hardWeight, x.pod, x.nsLabels);
    if (!x.ignoreExistingPreferred) {
      for (const t of ex.preferredAffinityTerms) add(t, t.weight, x.pod, x.nsLabels);
      for (const t of ex.preferredAntiAffinityTerms) add(t, -t.weight, x.pod, x.nsLabels);
    }
  }
  return out;
}

function selectorKey(s: Selector): string {
  return s.matchesNothing() ? '\u0002' : s.toString();
}

const termKeys = new WeakMap<AffinityTerm, string>();

/**
 * A term's identity for memo keys; a term with a namespaceSelector also depends on
 * namespace labels, so its key carries the listers' namespace generation.
 */
function termKey(t: AffinityTerm, nsGen: number): string {
  let k = termKeys.get(t);
  if (k === undefined) {
    k = `${[...t.namespaces].sort().join(',')}\u0001${selectorKey(t.selector)}\u0001${selectorKey(t.namespaceSelector)}\u0001${t.topologyKey}`;
    termKeys.set(t, k);
  }
  return t.namespaceSelector.matchesNothing() ? k : `${k}\u0001${nsGen}`;
}

function termsKey(terms: readonly AffinityTerm[], nsGen: number): string {
  return terms.map((t) => termKey(t, nsGen)).join('\u0003');
}

function weightedTermsKey(terms: readonly WeightedAffinityTerm[], nsGen: number): string {
  return terms.map((t) => `${t.weight}:${termKey(t, nsGen)}`).join('\u0003');
}

/** The pod's labels in a canonical string form. */
function labelsKey(pod: Pod): string {
  const l = pod.metadata?.labels;
  if (l === undefined) return '';
  return Object.keys(l)
    .sort()
    .map((k) => `${k}=${l[k]}`)
    .join(',');
}

class PreFilterState implements StateData {
  // The count maps may be the snapshot's shared aggregates (or another state's): they are
  // copied on the first AddPod/RemovePod only, which most cycles never run.
  private owned = false;

  constructor(
    readonly podInfo: PodInfo,
    readonly nsLabels: Labels | undefined,
    public existingAntiAffinityCounts: TopologyCounts,
    public affinityCounts: TopologyCounts,
    public antiAffinityCounts: TopologyCounts,
  ) {}

  clone(): StateData {
    return new PreFilterState(
      this.podInfo,
      this.nsLabels,
      this.existingAntiAffinityCounts,
      this.affinityCounts,
      this.antiAffinityCounts,
    );
  }

  /** Accounts for an existing pod added (+1) to or removed (-1) from node. */
  updateWithPod(existing: PodInfo, node: Node, existingNsLabels: Labels | undefined, m: 1 | -1): void {
    if (!this.owned) {
      this.existingAntiAffinityCounts = new Map(this.existingAntiAffinityCounts);
      this.affinityCounts = new Map(this.affinityCounts);
      this.antiAffinityCounts = new Map(this.antiAffinityCounts);
      this.owned = true;
    }
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
  /** Score by topology pair, and the topology keys any term matched on (upstream's topologyScore). */
  constructor(
    readonly pairs: ReadonlyMap<string, number>,
    readonly keys: ReadonlyMap<string, number>,
  ) {}
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
  private readonly preFilterState = new StateCache(PRE_FILTER_KEY, PreFilterState);
  private readonly preScoreState = new StateCache(PRE_SCORE_KEY, PreScoreState);
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

  // Counts cover every node of the snapshot (upstream lists them from the shared lister too),
  // whatever subset the caller passes.
  preFilter(state: CycleState, pod: Pod, _nodes: readonly NodeInfo[]): PreFilterReturn {
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
    const nsGen = this.handle.listers.namespaceGeneration;
    // Existing pods' anti-affinity, only on nodes that have such pods (upstream's
    // HavePodsWithRequiredAntiAffinityNodeInfoList). Each count map is a snapshot aggregate:
    // the sum of per-node contributions, recomputed only for nodes changed since the last
    // cycle that asked for the same key (see Snapshot.totals).
    let existingAnti: ReadonlyMap<string, number> = NO_CONTRIBUTION;
    if (withAnti.length > 0) {
      const slot = memoSlot(
        `ipa-ex\u0000${pod.metadata?.namespace ?? ''}\u0000${labelsKey(pod)}\u0000${nsGen}`,
      );
      existingAnti = snap.totals(slot, (ni) => {
        const labels = ni.node?.metadata?.labels;
        if (labels === undefined || ni.podsWithRequiredAntiAffinity.length === 0) return NO_CONTRIBUTION;
        const c = new Map<string, number>();
        for (const tk of existingTermsMatching(ni, pod, nsLabels)) {
          const v = labels[tk];
          if (v !== undefined) bump(c, pairKey(tk, v), 1);
        }
        return c;
      });
    }
    const aff = pi.requiredAffinityTerms;
    const anti = pi.requiredAntiAffinityTerms;
    let affinity: ReadonlyMap<string, number> = NO_CONTRIBUTION;
    let antiAffinity: ReadonlyMap<string, number> = NO_CONTRIBUTION;
    if (aff.length > 0 || anti.length > 0) {
      const listers = this.handle.listers;
      const key = `${termsKey(aff, nsGen)}\u0000${termsKey(anti, nsGen)}`;
      const memo = memoSlot(`ipa-in\u0000${key}`);
      const counts = (ni: NodeInfo): IncomingCounts =>
        ni.memo(memo, (n) => incomingCounts(n, aff, anti, listers));
      if (aff.length > 0) {
        affinity = snap.totals(memoSlot(`ipa-aff\u0000${key}`), (ni) => {
          const labels = ni.node?.metadata?.labels;
          if (labels === undefined) return NO_CONTRIBUTION;
          const n = counts(ni).affinity;
          if (n === 0) return NO_CONTRIBUTION;
          const c = new Map<string, number>();
          for (const t of aff) {
            const v = labels[t.topologyKey];
            if (v !== undefined) bump(c, pairKey(t.topologyKey, v), n);
          }
          return c;
        });
      }
      if (anti.length > 0) {
        antiAffinity = snap.totals(memoSlot(`ipa-anti\u0000${key}`), (ni) => {
          const labels = ni.node?.metadata?.labels;
          if (labels === undefined) return NO_CONTRIBUTION;
          const perTerm = counts(ni).anti;
          let c: Map<string, number> | undefined;
          for (let i = 0; i < anti.length; i++) {
            const n = perTerm[i] as number;
            if (n === 0) continue;
            const t = anti[i] as AffinityTerm;
            const v = labels[t.topologyKey];
            if (v === undefined) continue;
            c ??= new Map();
            bump(c, pairKey(t.topologyKey, v), n);
          }
          return c ?? NO_CONTRIBUTION;
        });
      }
    }
    // The aggregates are shared across cycles; AddPod/RemovePod copy before they mutate.
    const s = new PreFilterState(
      pi,
      nsLabels,
      existingAnti as TopologyCounts,
      affinity as TopologyCounts,
      antiAffinity as TopologyCounts,
    );
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
    const s = this.preFilterState.read(state);
    if (s === undefined)
      return newStatus(Code.Error, `reading "${PRE_FILTER_KEY}" from cycleState: not found`);
    const pairs = pairsOf(nodeInfo.node?.metadata?.labels);
    // Required affinity: every term's topology must exist and host a matching pod, unless no
    // pod matches anywhere and the pod matches its own terms (the first of a group).
    const aff = s.podInfo.requiredAffinityTerms;
    if (aff.length > 0) {
      let podsExist = true;
      for (const t of aff) {
        const p = pairs.get(t.topologyKey);
        if (p === undefined) return REJECT_AFFINITY;
        if ((s.affinityCounts.get(p) ?? 0) <= 0) podsExist = false;
      }
      if (!podsExist && !(s.affinityCounts.size === 0 && matchesAll(aff, s.podInfo.pod, s.nsLabels))) {
        return REJECT_AFFINITY;
      }
    }
    if (s.antiAffinityCounts.size > 0) {
      for (const t of s.podInfo.requiredAntiAffinityTerms) {
        const p = pairs.get(t.topologyKey);
        if (p !== undefined && (s.antiAffinityCounts.get(p) ?? 0) > 0) return REJECT_ANTI;
      }
    }
    if (s.existingAntiAffinityCounts.size > 0) {
      for (const p of pairs.values()) {
        if ((s.existingAntiAffinityCounts.get(p) ?? 0) > 0) return REJECT_EXISTING;
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
    const nsGen = this.handle.listers.namespaceGeneration;
    const scorer: ScoreInputs = {
      pod,
      nsLabels,
      listers: this.handle.listers,
      preferredAffinity: pi.preferredAffinityTerms,
      preferredAnti: pi.preferredAntiAffinityTerms,
      hardWeight: this.hardWeight,
      ignoreExistingPreferred: this.ignoreExistingPreferred,
      all: hasConstraints,
    };
    // What a node contributes depends on its pods and on the incoming pod's identity and
    // preferred terms only, so it is computed once per node generation.
    const key = memoSlot(
      [
        'ipa-ps',
        pod.metadata?.namespace ?? '',
        labelsKey(pod),
        nsGen,
        this.hardWeight,
        this.ignoreExistingPreferred,
        hasConstraints,
        weightedTermsKey(pi.preferredAffinityTerms, nsGen),
        weightedTermsKey(pi.preferredAntiAffinityTerms, nsGen),
      ].join('\u0000'),
    );
    const contributions = (ni: NodeInfo): Map<string, number> =>
      ni.memo(key, (n) => nodeScoreContributions(n, scorer));
    // Nodes outside `all` contribute nothing (their pods have no affinity), so summing over
    // every node, as the aggregate does, gives upstream's sum over `all`.
    const pairs = snap.totals(memoSlot(`pairs\u0000${key}`), (ni) => {
      const labels = ni.node?.metadata?.labels;
      if (labels === undefined) return NO_CONTRIBUTION;
      let c: Map<string, number> | undefined;
      for (const [tk, delta] of contributions(ni)) {
        const v = labels[tk];
        if (v === undefined || delta === 0) continue;
        c ??= new Map();
        c.set(pairKey(tk, v), delta);
      }
      return c ?? NO_CONTRIBUTION;
    });
    const keys = snap.totals(memoSlot(`keys\u0000${key}`), (ni) => {
      const labels = ni.node?.metadata?.labels;
      if (labels === undefined) return NO_CONTRIBUTION;
      let c: Map<string, number> | undefined;
      for (const tk of contributions(ni).keys()) {
        if (labels[tk] === undefined) continue;
        c ??= new Map();
        c.set(tk, 1);
      }
      return c ?? NO_CONTRIBUTION;
    });
    state.write(PRE_SCORE_KEY, new PreScoreState(pairs, keys));
    return null;
  }

  score(state: CycleState, _pod: Pod, nodeInfo: NodeInfo): number | Status {
    const s = this.preScoreState.read(state);
    if (s === undefined) return 0;
    const labels = nodeInfo.node?.metadata?.labels;
    if (labels === undefined) return 0;
    const pairs = pairsOf(labels);
    let score = 0;
    for (const k of s.keys.keys()) {
      const p = pairs.get(k);
      if (p !== undefined) score += s.pairs.get(p) ?? 0;
    }
    return score;
  }

  scoreExtensions(): ScoreExtensions {
    return this;
  }

  normalizeScore(state: CycleState, _pod: Pod, scores: NodeScore[]): PluginStatus {
    const s = readState(state, PRE_SCORE_KEY, PreScoreState);
    if (s === undefined || s.keys.size === 0) {
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
