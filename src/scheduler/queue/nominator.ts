// Pods that preempted others and are waiting for the victims to leave: "nominated" to a node.
// Filter treats them as already there when a lower-or-equal priority pod looks at that node,
// so the room made by preemption is not taken by someone else.

import type { Pod } from '../../api/generated/types/core-v1.js';
import type { PodNominator } from '../framework/interfaces.js';
import { type PodInfo, podKey } from '../framework/pod-info.js';

const NONE: readonly PodInfo[] = [];

/** Nominated pods per node (upstream's nominator). */
export class Nominator implements PodNominator {
  private readonly byNode = new Map<string, PodInfo[]>();
  private readonly nodeOf = new Map<string, string>();

  /** Records pi as nominated to nodeName ('' uses the pod's status.nominatedNodeName). */
  addNominatedPod(pi: PodInfo, nodeName: string): void {
    this.deleteByKey(pi.key);
    const node = nodeName !== '' ? nodeName : (pi.pod.status?.nominatedNodeName ?? '');
    if (node === '') return;
    this.nodeOf.set(pi.key, node);
    const list = this.byNode.get(node);
    if (list === undefined) this.byNode.set(node, [pi]);
    else if (!list.some((p) => p.key === pi.key)) list.push(pi);
  }

  /** Forgets the pod's nomination. */
  deleteNominatedPodIfExists(pod: Pod): void {
    this.deleteByKey(podKey(pod));
  }

  /** Keeps a nomination across pod updates unless the update itself changes it. */
  updateNominatedPod(oldPod: Pod, newPi: PodInfo): void {
    const key = podKey(oldPod);
    let node = '';
    // An update that carries no nominatedNodeName keeps the scheduler's own nomination
    // (the status write may not have landed yet).
    if (
      (newPi.pod.status?.nominatedNodeName ?? '') === '' &&
      (oldPod.status?.nominatedNodeName ?? '') === ''
    ) {
      node = this.nodeOf.get(key) ?? '';
    }
    this.deleteByKey(key);
    this.addNominatedPod(newPi, node);
  }

  /** The pods nominated to a node. */
  nominatedPodsForNode(nodeName: string): readonly PodInfo[] {
    return this.byNode.get(nodeName) ?? NONE;
  }

  count(): number {
    return this.nodeOf.size;
  }

  /** The node a pod is nominated to. */
  nominatedNodeOf(pod: Pod): string | undefined {
    return this.nodeOf.get(podKey(pod));
  }

  private deleteByKey(key: string): void {
    const node = this.nodeOf.get(key);
    if (node === undefined) return;
    this.nodeOf.delete(key);
    const list = this.byNode.get(node);
    if (list === undefined) return;
    const i = list.findIndex((p) => p.key === key);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.byNode.delete(node);
  }
}
