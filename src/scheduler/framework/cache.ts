// The scheduler's own view of the cluster (upstream's internal/cache): nodes and the pods on
// them, including pods the scheduler has *assumed* onto a node before the API confirmed the
// binding, so the next cycle already sees their resources taken. NodeInfos form a list
// ordered by last change (newest first); updateSnapshot walks it only until it meets a
// generation the snapshot already has.

import type { Node, Pod } from '../../api/generated/types/core-v1.js';
import { type ImageStateSummary, NodeInfo } from './node-info.js';
import { PodInfo, podKey } from './pod-info.js';
import type { Snapshot } from './snapshot.js';

/** Labels that group nodes into zones for the interleaved node order. */
const ZONE_LABEL = 'topology.kubernetes.io/zone';
const REGION_LABEL = 'topology.kubernetes.io/region';

interface Item {
  info: NodeInfo;
  prev: Item | undefined;
  next: Item | undefined;
}

interface PodState {
  pod: Pod;
  info: PodInfo;
  /** When an assumed pod whose binding finished expires (ms since epoch). */
  deadline: number | undefined;
  bindingFinished: boolean;
}

/** Options for a Cache. */
export interface CacheOptions {
  /** How long an assumed pod whose binding finished may wait for the informer's add; 0 = forever (upstream's default). */
  assumedPodTTLMs?: number;
}

/** Nodes and pods the scheduler knows, with assumed pods. */
export class Cache {
  private readonly items = new Map<string, Item>();
  private head: Item | undefined;
  private readonly podStates = new Map<string, PodState>();
  private readonly assumed = new Set<string>();
  private readonly images = new Map<string, { summary: ImageStateSummary; nodes: Set<string> }>();
  /** Node names per zone key, in insertion order, for the interleaved list. */
  private readonly zones = new Map<string, string[]>();
  private numNodes = 0;
  private readonly ttl: number;

  /** An empty cache. */
  constructor(opts: CacheOptions = {}) {
    this.ttl = opts.assumedPodTTLMs ?? 0;
  }

  /** Records pod (with spec.nodeName set) on its node before the binding is confirmed. */
  assumePod(pod: Pod): void {
    const key = podKey(pod);
    if (this.podStates.has(key)) throw new Error(`pod ${key} is in the cache, so can't be assumed`);
    const info = this.addPodToNode(pod);
    this.podStates.set(key, { pod, info, deadline: undefined, bindingFinished: false });
    this.assumed.add(key);
  }

  /** Starts the expiry clock of an assumed pod once its binding call returned. */
  finishBinding(pod: Pod, now: number): void {
    const key = podKey(pod);
    const st = this.podStates.get(key);
    if (st === undefined || !this.assumed.has(key)) return;
    st.bindingFinished = true;
    st.deadline = this.ttl > 0 ? now + this.ttl : undefined;
  }

  /** Drops an assumed pod (binding failed or the cycle was aborted). */
  forgetPod(pod: Pod): void {
    const key = podKey(pod);
    const st = this.podStates.get(key);
    if (st === undefined || !this.assumed.has(key)) return;
    this.removePodFromNode(st.pod, key);
    this.podStates.delete(key);
    this.assumed.delete(key);
  }

  /** True when the pod is assumed and not yet confirmed by the API. */
  isAssumedPod(pod: Pod): boolean {
    return this.assumed.has(podKey(pod));
  }

  /** The cached version of a pod. */
  getPod(pod: Pod): Pod | undefined {
    return this.podStates.get(podKey(pod))?.pod;
  }

  /** A pod bound to a node was observed (confirms an assumed pod). */
  addPod(pod: Pod): void {
    const key = podKey(pod);
    const st = this.podStates.get(key);
    if (st !== undefined && this.assumed.has(key)) {
      if (st.pod.spec?.nodeName !== pod.spec?.nodeName) {
        this.removePodFromNode(st.pod, key);
        st.info = this.addPodToNode(pod);
      }
      st.pod = pod;
      st.deadline = undefined;
      this.assumed.delete(key);
      return;
    }
    if (st !== undefined) {
      this.updatePod(st.pod, pod);
      return;
    }
    const info = this.addPodToNode(pod);
    this.podStates.set(key, { pod, info, deadline: undefined, bindingFinished: false });
  }

  /** A bound pod changed. */
  updatePod(_oldPod: Pod, newPod: Pod): void {
    const key = podKey(newPod);
    const st = this.podStates.get(key);
    if (st === undefined) {
      this.addPod(newPod);
      return;
    }
    this.removePodFromNode(st.pod, key);
    st.pod = newPod;
    st.info = this.addPodToNode(newPod);
    this.assumed.delete(key);
  }

  /** A bound pod was deleted. */
  removePod(pod: Pod): void {
    const key = podKey(pod);
    const st = this.podStates.get(key);
    if (st === undefined) return;
    this.removePodFromNode(st.pod, key);
    this.podStates.delete(key);
    this.assumed.delete(key);
  }

  /** Expires assumed pods whose binding finished long ago without an informer add. */
  cleanupAssumedPods(now: number): Pod[] {
    const expired: Pod[] = [];
    for (const key of this.assumed) {
      const st = this.podStates.get(key);
      if (st === undefined || !st.bindingFinished || st.deadline === undefined || now < st.deadline) continue;
      expired.push(st.pod);
      this.removePodFromNode(st.pod, key);
      this.podStates.delete(key);
      this.assumed.delete(key);
    }
    return expired;
  }

  /** A node appeared. */
  addNode(node: Node): NodeInfo {
    const name = node.metadata?.name ?? '';
    let item = this.items.get(name);
    if (item === undefined) {
      item = { info: new NodeInfo(), prev: undefined, next: undefined };
      this.items.set(name, item);
    } else {
      this.removeImages(name, item.info.node);
    }
    if (item.info.node === undefined) this.addToZones(node);
    else this.moveZone(item.info.node, node);
    item.info.setNode(node);
    item.info.imageStates = this.addImages(name, node);
    this.moveToHead(item);
    return item.info;
  }

  /** A node changed. */
  updateNode(_oldNode: Node | undefined, newNode: Node): NodeInfo {
    return this.addNode(newNode);
  }

  /** A node was deleted; its NodeInfo lingers while pods still reference it. */
  removeNode(node: Node): void {
    const name = node.metadata?.name ?? '';
    const item = this.items.get(name);
    if (item === undefined || item.info.node === undefined) return;
    this.removeFromZones(item.info.node);
    this.removeImages(name, item.info.node);
    item.info.removeNode();
    if (item.info.pods.length === 0) this.unlink(item, name);
    else this.moveToHead(item);
  }

  /** Number of nodes (with a Node object). */
  nodeCount(): number {
    return this.numNodes;
  }

  /** Number of pods (bound and assumed). */
  podCount(): number {
    return this.podStates.size;
  }

  /** Brings the snapshot up to date, copying only NodeInfos changed since its generation. */
  updateSnapshot(snap: Snapshot): void {
    let updateAllLists = false;
    let updatePVCs = false;
    // Nodes whose "has pods with (anti-)affinity" flags flip; patched into the derived lists
    // in place unless the whole node list is rebuilt anyway.
    const flipped: { info: NodeInfo; hadAffinity: boolean; hadAnti: boolean }[] = [];
    for (let item = this.head; item !== undefined; item = item.next) {
      const info = item.info;
      if (info.generation <= snap.generation) break;
      const node = info.node;
      if (node === undefined) continue;
      const name = node.metadata?.name ?? '';
      let existing = snap.nodeInfoMap.get(name);
      if (existing === undefined) {
        updateAllLists = true;
        existing = new NodeInfo();
        snap.nodeInfoMap.set(name, existing);
      }
      const hadAffinity = existing.podsWithAffinity.length > 0;
      const hadAnti = existing.podsWithRequiredAntiAffinity.length > 0;
      if (
        hadAffinity !== info.podsWithAffinity.length > 0 ||
        hadAnti !== info.podsWithRequiredAntiAffinity.length > 0
      )
        flipped.push({ info: existing, hadAffinity, hadAnti });
      if (existing.pvcRefCounts.size > 0 || info.pvcRefCounts.size > 0) updatePVCs = true;
      existing.copyFrom(info);
      snap.noteChanged(existing);
    }
    if (this.head !== undefined) snap.generation = Math.max(snap.generation, this.head.info.generation);
    if (snap.nodeInfoMap.size > this.numNodes) {
      for (const name of [...snap.nodeInfoMap.keys()]) {
        if (this.items.get(name)?.info.node === undefined) snap.nodeInfoMap.delete(name);
      }
      updateAllLists = true;
    }
    if (updateAllLists) {
      snap.nodeInfoList = this.interleavedNames()
        .map((n) => snap.nodeInfoMap.get(n))
        .filter((n): n is NodeInfo => n !== undefined);
      snap.rebuildDerivedLists();
      snap.resetAggregates();
      return;
    }
    for (const f of flipped) snap.affinityFlagsChanged(f.info, f.hadAffinity, f.hadAnti);
    if (updatePVCs) snap.rebuildUsedPVCSet();
  }

  private addPodToNode(pod: Pod): PodInfo {
    const name = pod.spec?.nodeName ?? '';
    let item = this.items.get(name);
    if (item === undefined) {
      item = { info: new NodeInfo(), prev: undefined, next: undefined };
      this.items.set(name, item);
    }
    const info = new PodInfo(pod);
    item.info.addPod(info);
    this.moveToHead(item);
    return info;
  }

  private removePodFromNode(pod: Pod, key: string): void {
    const name = pod.spec?.nodeName ?? '';
    const item = this.items.get(name);
    if (item === undefined) return;
    item.info.removePod(key);
    if (item.info.node === undefined && item.info.pods.length === 0) this.unlink(item, name);
    else this.moveToHead(item);
  }

  private moveToHead(item: Item): void {
    if (this.head === item) return;
    if (item.prev !== undefined) item.prev.next = item.next;
    if (item.next !== undefined) item.next.prev = item.prev;
    item.prev = undefined;
    item.next = this.head;
    if (this.head !== undefined) this.head.prev = item;
    this.head = item;
  }

  private unlink(item: Item, name: string): void {
    if (item.prev !== undefined) item.prev.next = item.next;
    if (item.next !== undefined) item.next.prev = item.prev;
    if (this.head === item) this.head = item.next;
    item.prev = undefined;
    item.next = undefined;
    this.items.delete(name);
  }

  private addImages(nodeName: string, node: Node): Map<string, ImageStateSummary> {
    const out = new Map<string, ImageStateSummary>();
    for (const img of node.status?.images ?? []) {
      for (const n of img.names ?? []) {
        let st = this.images.get(n);
        if (st === undefined) {
          st = { summary: { size: img.sizeBytes ?? 0, numNodes: 0 }, nodes: new Set() };
          this.images.set(n, st);
        }
        st.nodes.add(nodeName);
        st.summary.numNodes = st.nodes.size;
        out.set(n, st.summary);
      }
    }
    return out;
  }

  private removeImages(nodeName: string, node: Node | undefined): void {
    if (node === undefined) return;
    for (const img of node.status?.images ?? []) {
      for (const n of img.names ?? []) {
        const st = this.images.get(n);
        if (st === undefined) continue;
        st.nodes.delete(nodeName);
        st.summary.numNodes = st.nodes.size;
        if (st.nodes.size === 0) this.images.delete(n);
      }
    }
  }

  private addToZones(node: Node): void {
    const z = zoneKey(node);
    let list = this.zones.get(z);
    if (list === undefined) {
      list = [];
      this.zones.set(z, list);
    }
    list.push(node.metadata?.name ?? '');
    this.numNodes++;
  }

  private removeFromZones(node: Node): void {
    const z = zoneKey(node);
    const list = this.zones.get(z);
    const name = node.metadata?.name ?? '';
    if (list === undefined) return;
    const i = list.indexOf(name);
    if (i < 0) return;
    list.splice(i, 1);
    if (list.length === 0) this.zones.delete(z);
    this.numNodes--;
  }

  private moveZone(oldNode: Node, newNode: Node): void {
    if (zoneKey(oldNode) === zoneKey(newNode)) return;
    this.removeFromZones(oldNode);
    this.addToZones(newNode);
  }

  /** Node names taking one from each zone in turn, as upstream's nodeTree lists them. */
  private interleavedNames(): string[] {
    const lists = [...this.zones.values()];
    if (lists.length === 1) return (lists[0] as string[]).slice();
    const out: string[] = [];
    for (let i = 0; out.length < this.numNodes; i++) {
      for (const l of lists) {
        const n = l[i];
        if (n !== undefined) out.push(n);
      }
    }
    return out;
  }
}

function zoneKey(node: Node): string {
  const l = node.metadata?.labels;
  if (l === undefined) return '';
  const region = l[REGION_LABEL] ?? '';
  const zone = l[ZONE_LABEL] ?? '';
  return region === '' && zone === '' ? '' : `${region}:\x00:${zone}`;
}
