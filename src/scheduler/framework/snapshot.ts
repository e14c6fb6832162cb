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
    const used = new Set<string>();
    for (const n of this.nodeInfoList) for (const k of n.pvcRefCounts.keys()) used.add(k);
    this.usedPVCSet = used;
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
