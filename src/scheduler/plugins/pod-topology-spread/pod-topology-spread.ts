// PodTopologySpread: spreads matching pods over topology domains. DoNotSchedule constraints
// filter (skew = matching pods in the node's domain + self − the least loaded domain, which
// counts as 0 while fewer than minDomains domains exist, must stay ≤ maxSkew); ScheduleAnyway
// constraints score (fewer matching pods in the domain is better, weighted by log(domains+2)).
// Pods without constraints that belong to a Service/RC/RS/StatefulSet get the cluster
// default constraints (System: hostname maxSkew 3 and zone maxSkew 5, both ScheduleAnyway).
// PreFilter's per-domain counts are snapshot aggregates when the counted nodes depend on the
// node alone; matching pods per node are memoized by NodeInfo generation either way.

import type { Node, Pod, TopologySpreadConstraint } from '../../../api/generated/types/core-v1.js';
import { labelSelectorAsSelector } from '../../../machinery/labels/label-selector.js';
import {
  type Labels,
  Requirement,
  type Selector,
  selectorFromSet,
} from '../../../machinery/labels/selector.js';
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
import type { SelectingObject } from '../../framework/listers.js';
import { memoSlot, type NodeInfo } from '../../framework/node-info.js';
import { NO_CONTRIBUTION, type Snapshot } from '../../framework/snapshot.js';
import type { PodInfo } from '../../framework/pod-info.js';
import { Code, type PluginStatus, SKIP, Status } from '../../framework/status.js';
import { RequiredNodeAffinity } from '../helpers/node-selector.js';
import { argsObject } from '../helpers/normalize.js';
import { findMatchingUntoleratedTaint, isScheduleBlockingTaint } from '../helpers/taints.js';

/** The upstream plugin name. */
export const NAME = 'PodTopologySpread';
/** Upstream's reason when the skew would exceed maxSkew. */
export const ERR_REASON_CONSTRAINTS_NOT_MATCH = "node(s) didn't match pod topology spread constraints";
/** Upstream's reason when the node lacks a topology key. */
export const ERR_REASON_NODE_LABEL_NOT_MATCH = `${ERR_REASON_CONSTRAINTS_NOT_MATCH} (missing required label)`;

const HOSTNAME = 'kubernetes.io/hostname';
const ZONE = 'topology.kubernetes.io/zone';

/** The System default constraints (upstream's systemDefaultConstraints). */
export const SYSTEM_DEFAULT_CONSTRAINTS: TopologySpreadConstraint[] = [
  { topologyKey: HOSTNAME, whenUnsatisfiable: 'ScheduleAnyway', maxSkew: 3 },
  { topologyKey: ZONE, whenUnsatisfiable: 'ScheduleAnyway', maxSkew: 5 },
];

/** PodTopologySpreadArgs. */
export interface PodTopologySpreadArgs {
  defaultConstraints?: TopologySpreadConstraint[];
  defaultingType?: 'System' | 'List';
}

const PRE_FILTER_KEY = `PreFilter${NAME}`;
const PRE_SCORE_KEY = `PreScore${NAME}`;

/** A constraint with its selector parsed and policies defaulted. */
interface Constraint {
  maxSkew: number;
  topologyKey: string;
  selector: Selector;
  minDomains: number;
  nodeAffinityPolicyHonor: boolean;
  nodeTaintsPolicyHonor: boolean;
}

function buildConstraints(list: readonly TopologySpreadConstraint[], pod: Pod, action: string): Constraint[] {
  const out: Constraint[] = [];
  const podLabels = pod.metadata?.labels ?? {};
  for (const c of list) {
    if (c.whenUnsatisfiable !== action) continue;
    let selector = labelSelectorAsSelector(c.labelSelector);
    for (const key of c.matchLabelKeys ?? []) {
      const v = podLabels[key];
      if (v !== undefined) selector = selector.add(Requirement.create(key, 'in', [v]));
    }
    out.push({
      maxSkew: c.maxSkew,
      topologyKey: c.topologyKey,
      selector,
      minDomains: c.minDomains ?? 1,
      nodeAffinityPolicyHonor: (c.nodeAffinityPolicy ?? 'Honor') === 'Honor',
      nodeTaintsPolicyHonor: (c.nodeTaintsPolicy ?? 'Ignore') === 'Honor',
    });
  }
  return out;
}

function nodeHasAllKeys(node: Node, cs: readonly Constraint[]): boolean {
  const labels = node.metadata?.labels;
  if (labels === undefined) return cs.length === 0;
  for (const c of cs) if (labels[c.topologyKey] === undefined) return false;
  return true;
}

function includesNode(c: Constraint, pod: Pod, node: Node, req: RequiredNodeAffinity): boolean {
  if (c.nodeAffinityPolicyHonor && !req.match(node)) return false;
  if (
    c.nodeTaintsPolicyHonor &&
    findMatchingUntoleratedTaint(node.spec?.taints, pod.spec?.tolerations, isScheduleBlockingTaint) !==
      undefined
  ) {
    return false;
  }
  return true;
}

function countMatching(pods: readonly PodInfo[], selector: Selector, ns: string): number {
  let n = 0;
  for (const p of pods) {
    const m = p.pod.metadata;
    if ((m?.namespace ?? '') !== ns || m?.deletionTimestamp !== undefined) continue;
    if (selector.matches(m?.labels ?? {})) n++;
  }
  return n;
}

/** A memo key and the per-node count it names (pods of a namespace matching a selector). */
interface MatchCounter {
  key: number;
  count: (ni: NodeInfo) => number;
}

function matchCounter(ns: string, selector: Selector): MatchCounter {
  const sel = selector.matchesNothing() ? '\u0002' : selector.toString();
  return {
    key: memoSlot(`pts\u0000${ns}\u0000${sel}`),
    count: (ni) => countMatching(ni.pods, selector, ns),
  };
}

/** Matching pods per domain of each constraint, walking the nodes (counts memoized per node). */
function scannedMatchNum(
  nodes: readonly NodeInfo[],
  cs: readonly Constraint[],
  ns: string,
  pod: Pod,
  req: RequiredNodeAffinity,
): Map<string, number>[] {
  const matchNum = cs.map(() => new Map<string, number>());
  const counters = cs.map((c) => matchCounter(ns, c.selector));
  for (const ni of nodes) {
    const node = ni.node;
    if (node === undefined || !nodeHasAllKeys(node, cs)) continue;
    const labels = node.metadata?.labels ?? {};
    for (let i = 0; i < cs.length; i++) {
      const c = cs[i] as Constraint;
      if (!includesNode(c, pod, node, req)) continue;
      const v = labels[c.topologyKey] ?? '';
      const m = matchNum[i] as Map<string, number>;
      const counter = counters[i] as MatchCounter;
      m.set(v, (m.get(v) ?? 0) + ni.memo(counter.key, counter.count));
    }
  }
  return matchNum;
}

/**
 * The same counts from two snapshot aggregates per constraint: eligible nodes per domain
 * (so domains with no matching pod still exist, as minDomains and the global minimum need)
 * and matching pods per domain.
 */
function aggregatedMatchNum(snap: Snapshot, cs: readonly Constraint[], ns: string): Map<string, number>[] {
  const allKeys = cs.map((c) => c.topologyKey).join('\u0001');
  return cs.map((c) => {
    const tk = c.topologyKey;
    const domain = (ni: NodeInfo): string | undefined => {
      const node = ni.node;
      if (node === undefined || !nodeHasAllKeys(node, cs)) return undefined;
      return node.metadata?.labels?.[tk];
    };
    const domains = snap.totals(memoSlot(`pts-domains\u0000${allKeys}\u0000${tk}`), (ni) => {
      const v = domain(ni);
      return v === undefined ? NO_CONTRIBUTION : new Map([[v, 1]]);
    });
    const counter = matchCounter(ns, c.selector);
    const matching = snap.totals(
      memoSlot(`pts-match\u0000${allKeys}\u0000${tk}\u0000${counter.key}`),
      (ni) => {
        const v = domain(ni);
        if (v === undefined) return NO_CONTRIBUTION;
        const n = ni.memo(counter.key, counter.count);
        return n === 0 ? NO_CONTRIBUTION : new Map([[v, n]]);
      },
    );
    const m = new Map<string, number>();
    for (const v of domains.keys()) m.set(v, matching.get(v) ?? 0);
    return m;
  });
}

class PreFilterState implements StateData {
  private minCache: (number | undefined)[];
  /** Whether the cycle's pod matches each constraint's selector (Filter asks per node). */
  private selfCache: (number | undefined)[] | undefined;

  constructor(
    readonly constraints: Constraint[],
    readonly matchNum: Map<string, number>[],
    readonly requiredAffinity: RequiredNodeAffinity,
  ) {
    this.minCache = new Array(constraints.length).fill(undefined);
  }

  clone(): StateData {
    return new PreFilterState(
      this.constraints,
      this.matchNum.map((m) => new Map(m)),
      this.requiredAffinity,
    );
  }

  /** 1 when the pod (the cycle's, whose labels are given) matches constraint i's selector. */
  selfMatch(i: number, podLabels: Labels): number {
    this.selfCache ??= new Array(this.constraints.length).fill(undefined);
    let v = this.selfCache[i];
    if (v === undefined) {
      v = (this.constraints[i] as Constraint).selector.matches(podLabels) ? 1 : 0;
      this.selfCache[i] = v;
    }
    return v;
  }

  /** The least matching count over the constraint's domains (0 below minDomains). */
  minMatchNum(i: number): number {
    const c = this.constraints[i] as Constraint;
    const m = this.matchNum[i] as Map<string, number>;
    if (m.size < c.minDomains) return 0;
    let v = this.minCache[i];
    if (v === undefined) {
      v = 2147483647;
      for (const n of m.values()) if (n < v) v = n;
      this.minCache[i] = v;
    }
    return v;
  }

  update(pi: PodInfo, preemptor: Pod, node: Node, delta: number): void {
    if (!nodeHasAllKeys(node, this.constraints)) return;
    if ((pi.pod.metadata?.namespace ?? '') !== (preemptor.metadata?.namespace ?? '')) return;
    const labels = pi.pod.metadata?.labels ?? {};
    this.constraints.forEach((c, i) => {
      if (!includesNode(c, preemptor, node, this.requiredAffinity)) return;
      if (!c.selector.matches(labels)) return;
      const v = node.metadata?.labels?.[c.topologyKey] ?? '';
      const m = this.matchNum[i] as Map<string, number>;
      m.set(v, (m.get(v) ?? 0) + delta);
      this.minCache[i] = undefined;
    });
  }
}

class PreScoreState implements StateData {
  constructor(
    readonly constraints: Constraint[],
    readonly ignoredNodes: Set<string>,
    readonly counts: Map<string, number>[],
    readonly weights: number[],
    readonly counters: MatchCounter[],
  ) {}
  clone(): StateData {
    return this;
  }
}

/** Topology spreading. */
export class PodTopologySpread
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
  private readonly defaults: TopologySpreadConstraint[];
  private readonly systemDefaulted: boolean;

  /** A plugin with its args (defaultingType System by default). */
  constructor(
    private readonly handle: Handle,
    args: PodTopologySpreadArgs = {},
  ) {
    this.systemDefaulted = (args.defaultingType ?? 'System') === 'System';
    this.defaults = this.systemDefaulted ? SYSTEM_DEFAULT_CONSTRAINTS : (args.defaultConstraints ?? []);
  }

  private constraintsFor(pod: Pod, action: string): Constraint[] {
    const own = pod.spec?.topologySpreadConstraints ?? [];
    if (own.length > 0) return buildConstraints(own, pod, action);
    const cs = buildConstraints(this.defaults, pod, action);
    if (cs.length === 0) return cs;
    const selector = this.defaultSelector(pod);
    if (selector.empty()) return [];
    for (const c of cs) c.selector = selector;
    return cs;
  }

  /** The merged selector of the pod's services and controller (upstream's DefaultSelector). */
  private defaultSelector(pod: Pod): Selector {
    const ns = pod.metadata?.namespace ?? '';
    const labels = pod.metadata?.labels ?? {};
    const l = this.handle.listers;
    const set: Record<string, string> = {};
    for (const svc of l.selectingObjects('Service', ns)) {
      const sel = svc.spec?.selector as Record<string, string> | undefined | null;
      if (sel === undefined || sel === null || Object.keys(sel).length === 0) continue;
      if (selectorFromSet(sel).matches(labels)) Object.assign(set, sel);
    }
    let selector = selectorFromSet(set);
    const owner = pod.metadata?.ownerReferences?.find((o) => o.controller === true);
    if (owner === undefined) return selector;
    const find = (
      kind: 'ReplicationController' | 'ReplicaSet' | 'StatefulSet',
    ): SelectingObject | undefined => l.get(kind, `${ns}/${owner.name}`) as SelectingObject | undefined;
    if (owner.kind === 'ReplicationController' && owner.apiVersion === 'v1') {
      const rc = find('ReplicationController');
      const sel = rc?.spec?.selector as Record<string, string> | undefined;
      if (sel !== undefined) selector = selectorFromSet({ ...set, ...sel });
    } else if (
      (owner.kind === 'ReplicaSet' || owner.kind === 'StatefulSet') &&
      owner.apiVersion === 'apps/v1'
    ) {
      const o = find(owner.kind);
      const sel = o?.spec?.selector as Parameters<typeof labelSelectorAsSelector>[0] | undefined;
      if (sel !== undefined) {
        try {
          selector = selector.add(...labelSelectorAsSelector(sel).requirements());
        } catch {
          // An invalid workload selector adds nothing, as upstream ignores the parse error.
        }
      }
    }
    return selector;
  }

  preFilter(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): PreFilterReturn {
    let cs: Constraint[];
    try {
      cs = this.constraintsFor(pod, 'DoNotSchedule');
    } catch (e) {
      return new Status(Code.UnschedulableAndUnresolvable, [e instanceof Error ? e.message : String(e)]);
    }
    if (cs.length === 0) return SKIP;
    const req = new RequiredNodeAffinity(pod);
    const ns = pod.metadata?.namespace ?? '';
    const snap = this.handle.snapshot();
    // Which nodes count depends on the pod only through node affinity and tolerations; without
    // either in play it depends on the node alone, and the counts are snapshot aggregates
    // updated only for nodes changed since the last cycle (Snapshot.totals).
    const nodeOnly = cs.every((c) => !c.nodeTaintsPolicyHonor && (req.isEmpty || !c.nodeAffinityPolicyHonor));
    const matchNum =
      nodeOnly && nodes === snap.nodeInfoList
        ? aggregatedMatchNum(snap, cs, ns)
        : scannedMatchNum(nodes, cs, ns, pod, req);
    state.write(PRE_FILTER_KEY, new PreFilterState(cs, matchNum, req));
    return null;
  }

  preFilterExtensions(): PreFilterExtensions {
    return this;
  }

  addPod(state: CycleState, pod: Pod, pi: PodInfo, nodeInfo: NodeInfo): PluginStatus {
    const s = readState(state, PRE_FILTER_KEY, PreFilterState);
    if (s !== undefined && nodeInfo.node !== undefined) s.update(pi, pod, nodeInfo.node, 1);
    return null;
  }

  removePod(state: CycleState, pod: Pod, pi: PodInfo, nodeInfo: NodeInfo): PluginStatus {
    const s = readState(state, PRE_FILTER_KEY, PreFilterState);
    if (s !== undefined && nodeInfo.node !== undefined) s.update(pi, pod, nodeInfo.node, -1);
    return null;
  }

  filter(state: CycleState, pod: Pod, nodeInfo: NodeInfo): PluginStatus {
    const s = this.preFilterState.read(state);
    if (s === undefined)
      return new Status(Code.Error, [`reading "${PRE_FILTER_KEY}" from cycleState: not found`]);
    const labels = nodeInfo.node?.metadata?.labels ?? {};
    const podLabels = pod.metadata?.labels ?? {};
    for (let i = 0; i < s.constraints.length; i++) {
      const c = s.constraints[i] as Constraint;
      const v = labels[c.topologyKey];
      if (v === undefined)
        return new Status(Code.UnschedulableAndUnresolvable, [ERR_REASON_NODE_LABEL_NOT_MATCH]);
      const self = s.selfMatch(i, podLabels);
      const matchNum = (s.matchNum[i] as Map<string, number>).get(v) ?? 0;
      const skew = matchNum + self - s.minMatchNum(i);
      if (skew > c.maxSkew) return new Status(Code.Unschedulable, [ERR_REASON_CONSTRAINTS_NOT_MATCH]);
    }
    return null;
  }

  preScore(state: CycleState, pod: Pod, filtered: readonly NodeInfo[]): PluginStatus {
    let cs: Constraint[];
    try {
      cs = this.constraintsFor(pod, 'ScheduleAnyway');
    } catch (e) {
      return new Status(Code.Error, [e instanceof Error ? e.message : String(e)]);
    }
    if (cs.length === 0) return SKIP;
    const requireAll = (pod.spec?.topologySpreadConstraints ?? []).length > 0 || !this.systemDefaulted;
    const ignored = new Set<string>();
    const counts = cs.map(() => new Map<string, number>());
    for (const ni of filtered) {
      const node = ni.node;
      if (node === undefined) continue;
      if (requireAll && !nodeHasAllKeys(node, cs)) {
        ignored.add(ni.name);
        continue;
      }
      cs.forEach((c, i) => {
        if (c.topologyKey === HOSTNAME) return;
        const v = node.metadata?.labels?.[c.topologyKey] ?? '';
        const m = counts[i] as Map<string, number>;
        if (!m.has(v)) m.set(v, 0);
      });
    }
    const weights = cs.map((c, i) => {
      const sz =
        c.topologyKey === HOSTNAME ? filtered.length - ignored.size : (counts[i] as Map<string, number>).size;
      return Math.log(sz + 2);
    });
    const req = new RequiredNodeAffinity(pod);
    const ns = pod.metadata?.namespace ?? '';
    const counters = cs.map((c) => matchCounter(ns, c.selector));
    for (const ni of this.handle.snapshot().nodeInfoList) {
      const node = ni.node;
      if (node === undefined) continue;
      if (requireAll && !nodeHasAllKeys(node, cs)) continue;
      const labels = node.metadata?.labels ?? {};
      for (let i = 0; i < cs.length; i++) {
        const c = cs[i] as Constraint;
        if (c.topologyKey === HOSTNAME) continue;
        const v = labels[c.topologyKey] ?? '';
        const m = counts[i] as Map<string, number>;
        const cur = m.get(v);
        if (cur === undefined || !includesNode(c, pod, node, req)) continue;
        const counter = counters[i] as MatchCounter;
        m.set(v, cur + ni.memo(counter.key, counter.count));
      }
    }
    state.write(PRE_SCORE_KEY, new PreScoreState(cs, ignored, counts, weights, counters));
    return null;
  }

  score(state: CycleState, _pod: Pod, nodeInfo: NodeInfo): number {
    const s = readState(state, PRE_SCORE_KEY, PreScoreState);
    if (s === undefined || s.ignoredNodes.has(nodeInfo.name)) return 0;
    const labels = nodeInfo.node?.metadata?.labels ?? {};
    let score = 0;
    s.constraints.forEach((c, i) => {
      const v = labels[c.topologyKey];
      if (v === undefined) return;
      const counter = s.counters[i] as MatchCounter;
      const cnt =
        c.topologyKey === HOSTNAME
          ? nodeInfo.memo(counter.key, counter.count)
          : ((s.counts[i] as Map<string, number>).get(v) ?? 0);
      score += cnt * (s.weights[i] as number) + (c.maxSkew - 1);
    });
    return Math.round(score);
  }

  scoreExtensions(): ScoreExtensions {
    return this;
  }

  normalizeScore(state: CycleState, _pod: Pod, scores: NodeScore[]): PluginStatus {
    const s = readState(state, PRE_SCORE_KEY, PreScoreState);
    if (s === undefined) return null;
    let min = Number.MAX_SAFE_INTEGER;
    let max = 0;
    for (const x of scores) {
      if (s.ignoredNodes.has(x.name)) continue;
      if (x.score < min) min = x.score;
      if (x.score > max) max = x.score;
    }
    for (const x of scores) {
      if (s.ignoredNodes.has(x.name)) {
        x.score = 0;
        continue;
      }
      x.score = max === 0 ? MAX_NODE_SCORE : Math.trunc((MAX_NODE_SCORE * (max + min - x.score)) / max);
    }
    return null;
  }

  eventsToRegister(): ClusterEvent[] {
    return [
      { resource: 'AssignedPod', actionType: ActionType.All },
      {
        resource: 'Node',
        actionType:
          ActionType.Add | ActionType.Delete | ActionType.UpdateNodeLabel | ActionType.UpdateNodeTaint,
      },
    ];
  }
}

/** Factory for the registry. */
export function newPodTopologySpread(args: unknown, handle: Handle): Plugin {
  return new PodTopologySpread(handle, argsObject(args) as PodTopologySpreadArgs);
}
