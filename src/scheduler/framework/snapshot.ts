// The read-only view of the cluster one scheduling cycle works on. Taken from the Cache at
// the start of each cycle; the cache copies only NodeInfos whose generation is newer than
// the snapshot's, so a 5,000-node cluster costs a handful of copies per cycle, not 5,000.

import type { Node, Pod } from '../../api/generated/types/core-v1.js';
import { NodeInfo } from './node-info.js';
import { PodInfo } from './pod-info.js';

/** Node infos by name and as a list (upstream's cache.Snapshot / SharedLister). */
export class Snapshot {
  /** Node name → info (only nodes that exist). */
  nodeInfoMap: Map<string, NodeInfo> = new Map();
  /** Every node, in zone-interleaved order. */
  nodeInfoList: NodeInfo[] = [];
  /** Nodes with at least one pod that has pod (anti-)affinity. */
  havePodsWithAffinityList: NodeInfo[] = [];
  /** Nodes with at least one pod that has required anti-affinity. */
  havePodsWithRequiredAntiAffinityList: NodeInfo[] = [];
  /** namespace/claim of every PVC used by a scheduled pod. */
  usedPVCSet: Set<string> = new Set();
  /** The newest cache generation copied in. */
  generation = 0;
  /** NodeInfos changed since the aggregates' epoch began, in change order. */
  private changeLog: NodeInfo[] = [];
  /** Bumped when nodeInfoList is replaced or the change log is dropped. */
  private epoch = 0;
  private readonly aggregates = new Map<number, Aggregate>();

  /** The node's info, if it exists. */
  get(name: string): NodeInfo | undefined {
    return this.nodeInfoMap.get(name);
  }

  /** Number of nodes. */
  get numNodes(): number {
    return this.nodeInfoList.length;
  }

  /** Recomputes the derived lists from nodeInfoList. */
  rebuildDerivedLists(): void {
    this.havePodsWithAffinityList = this.nodeInfoList.filter((n) => n.podsWithAffinity.length > 0);
    this.havePodsWithRequiredAntiAffinityList = this.nodeInfoList.filter(
      (n) => n.podsWithRequiredAntiAffinity.length > 0,
    );
    this.rebuildUsedPVCSet();
  }

  /** Recomputes usedPVCSet from the nodes' claim counts. */
  rebuildUsedPVCSet(): void {
    const used = new Set<string>();
    for (const n of this.nodeInfoList) for (const k of n.pvcRefCounts.keys()) used.add(k);
    this.usedPVCSet = used;
  }

  /**
   * Moves one node into or out of the derived lists after its pods changed; the lists'
   * order carries no meaning (plugins only sum over them), so a node is appended or
   * swap-removed instead of filtering all nodes again.
   */
  affinityFlagsChanged(ni: NodeInfo, hadAffinity: boolean, hadAnti: boolean): void {
    const hasAffinity = ni.podsWithAffinity.length > 0;
    const hasAnti = ni.podsWithRequiredAntiAffinity.length > 0;
    if (hasAffinity !== hadAffinity) toggle(this.havePodsWithAffinityList, ni, hasAffinity);
    if (hasAnti !== hadAnti) toggle(this.havePodsWithRequiredAntiAffinityList, ni, hasAnti);
  }

  /** Records that a listed NodeInfo changed (Cache.updateSnapshot calls it per copied node). */
  noteChanged(ni: NodeInfo): void {
    this.changeLog.push(ni);
    // The log may run far ahead of aggregates nobody reads any more: past a few times the
    // node count, starting every aggregate afresh costs less than keeping it.
    if (this.changeLog.length > 4 * Math.max(this.nodeInfoList.length, 256)) this.resetAggregates();
  }

  /** Drops every aggregate (the node list was replaced). */
  resetAggregates(): void {
    this.epoch++;
    this.changeLog = [];
    this.aggregates.clear();
  }

  /**
   * The sum over all listed nodes of a per-node contribution (key → count, e.g. topology
   * pair → matching pods), kept across cycles and updated only for nodes changed since it
   * was last read. `slot` (from memoSlot) must name everything the contribution depends on
   * besides the node itself. The returned map is shared: callers copy before mutating.
   */
  totals(slot: number, contribution: (ni: NodeInfo) => Contribution): ReadonlyMap<string, number> {
    let a = this.aggregates.get(slot);
    if (a === undefined || a.epoch !== this.epoch) {
      if (this.aggregates.size >= MAX_AGGREGATES) this.aggregates.clear();
      a = { epoch: this.epoch, pos: this.changeLog.length, totals: new Map(), parts: new Map() };
      for (const ni of this.nodeInfoList) {
        const c = contribution(ni);
        if (c.size === 0) continue;
        a.parts.set(ni, c);
        addInto(a.totals, c, 1);
      }
      this.aggregates.set(slot, a);
      return a.totals;
    }
    const log = this.changeLog;
    for (let i = a.pos; i < log.length; i++) {
      const ni = log[i] as NodeInfo;
      const old = a.parts.get(ni);
      if (old !== undefined) addInto(a.totals, old, -1);
      const c = contribution(ni);
      if (c.size === 0) a.parts.delete(ni);
      else {
        a.parts.set(ni, c);
        addInto(a.totals, c, 1);
      }
    }
    a.pos = log.length;
    return a.totals;
  }

  /** A snapshot built directly from objects (tests, preemption simulations, tools). */
  static fromObjects(nodes: readonly Node[], pods: readonly Pod[] = []): Snapshot {
    const s = new Snapshot();
    for (const n of nodes) {
      const ni = new NodeInfo();
      ni.setNode(n);
      s.nodeInfoMap.set(n.metadata?.name ?? '', ni);
      s.nodeInfoList.push(ni);
    }
    for (const p of pods) {
      const ni = s.nodeInfoMap.get(p.spec?.nodeName ?? '');
      if (ni !== undefined) ni.addPod(new PodInfo(p));
    }
    s.rebuildDerivedLists();
    return s;
  }
}

function toggle(list: NodeInfo[], ni: NodeInfo, present: boolean): void {
  const i = list.indexOf(ni);
  if (present) {
    if (i < 0) list.push(ni);
    return;
  }
  if (i < 0) return;
  const last = list.pop() as NodeInfo;
  if (last !== ni) list[i] = last;
}

/** What one node adds to an aggregate: key → count. */
export type Contribution = ReadonlyMap<string, number>;

/** The empty contribution. */
export const NO_CONTRIBUTION: Contribution = new Map();

interface Aggregate {
  epoch: number;
  /** How far into the change log this aggregate has caught up. */
  pos: number;
  totals: Map<string, number>;
  parts: Map<NodeInfo, Contribution>;
}

/** Distinct aggregates kept at once (selectors, label sets of incoming pods). */
const MAX_AGGREGATES = 64;

function addInto(totals: Map<string, number>, c: Contribution, sign: 1 | -1): void {
  for (const [k, n] of c) {
    const v = (totals.get(k) ?? 0) + sign * n;
    if (v === 0) totals.delete(k);
    else totals.set(k, v);
  }
}
