// Why a pod fits no node, and the one-line message users read in FailedScheduling events and
// the PodScheduled condition. The format is upstream's FitError.Error() exactly: reasons
// counted per node, each histogram entry "<count> <reason>", entries sorted as strings.

import type { Pod } from '../../api/generated/types/core-v1.js';
import type { NodeToStatus } from './interfaces.js';
import { Code, Status } from './status.js';

/** Per-node statuses of a failed attempt, plus what nodes absent from the map count as. */
export class NodeStatusMap implements NodeToStatus {
  readonly statuses = new Map<string, Status>();
  /** Upstream's default: Unresolvable with no reason (absent nodes add nothing to the message). */
  absentStatus: Status = new Status(Code.UnschedulableAndUnresolvable);

  /** A node's status (the absent status when not recorded). */
  get(name: string): Status {
    return this.statuses.get(name) ?? this.absentStatus;
  }

  /** Records a node's status. */
  set(name: string, s: Status): void {
    this.statuses.set(name, s);
  }

  /** Number of recorded nodes. */
  get size(): number {
    return this.statuses.size;
  }
}

/** What the framework learnt while failing to place a pod. */
export interface Diagnosis {
  nodeToStatus: NodeStatusMap;
  /** Plugins that rejected the pod: the queue requeues it on their events. */
  unschedulablePlugins: Set<string>;
  pendingPlugins: Set<string>;
  /** The PreFilter rejection message, when PreFilter failed. */
  preFilterMsg: string;
  /** The PostFilter (preemption) message. */
  postFilterMsg: string;
}

/** A fresh, empty diagnosis. */
export function newDiagnosis(): Diagnosis {
  return {
    nodeToStatus: new NodeStatusMap(),
    unschedulablePlugins: new Set(),
    pendingPlugins: new Set(),
    preFilterMsg: '',
    postFilterMsg: '',
  };
}

/** The "0/N nodes are available: …" message for a diagnosis. */
export function fitErrorMessage(
  numAllNodes: number,
  d: Pick<Diagnosis, 'nodeToStatus' | 'preFilterMsg' | 'postFilterMsg'>,
): string {
  let msg = `0/${numAllNodes} nodes are available:`;
  if (d.preFilterMsg !== '') {
    msg += ` ${d.preFilterMsg}.`;
  } else {
    const counts = new Map<string, number>();
    for (const s of d.nodeToStatus.statuses.values()) {
      for (const r of s.reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
    }
    const absent = numAllNodes - d.nodeToStatus.size;
    if (absent > 0) {
      for (const r of d.nodeToStatus.absentStatus.reasons) counts.set(r, (counts.get(r) ?? 0) + absent);
    }
    const entries = [...counts].map(([r, n]) => `${n} ${r}`);
    entries.sort(compareGoStrings);
    if (entries.length > 0) msg += ` ${entries.join(', ')}.`;
  }
  if (d.postFilterMsg !== '') msg += ` ${d.postFilterMsg}`;
  return msg;
}

/** Go's sort.Strings order (byte-wise, which UTF-16 order matches for the BMP). */
function compareGoStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** No node fits the pod (upstream's framework.FitError). */
export class FitError extends Error {
  readonly pod: Pod;
  readonly numAllNodes: number;
  readonly diagnosis: Diagnosis;

  /** Builds the error; the message is computed on demand since PostFilter adds to it. */
  constructor(pod: Pod, numAllNodes: number, diagnosis: Diagnosis) {
    // No message argument: Error would define an own `message` shadowing the getter below.
    super();
    this.name = 'FitError';
    this.pod = pod;
    this.numAllNodes = numAllNodes;
    this.diagnosis = diagnosis;
  }

  override get message(): string {
    return fitErrorMessage(this.numAllNodes, this.diagnosis);
  }
}
