// PrioritySort: the default QueueSort — higher spec.priority first, then the pod that
// entered the queue earlier.

import type { Plugin, QueuedPodInfo, QueueSortPlugin } from '../../framework/interfaces.js';
import { podPriority } from '../../framework/pod-info.js';

/** The upstream plugin name. */
export const NAME = 'PrioritySort';

/** Orders activeQ by priority, then queue timestamp. */
export class PrioritySort implements QueueSortPlugin {
  readonly name = NAME;

  less(a: QueuedPodInfo, b: QueuedPodInfo): boolean {
    const p1 = podPriority(a.podInfo.pod);
    const p2 = podPriority(b.podInfo.pod);
    return p1 > p2 || (p1 === p2 && a.timestamp < b.timestamp);
  }
}

/** Factory for the registry. */
export function newPrioritySort(): Plugin {
  return new PrioritySort();
}
