// ImageLocality: prefers nodes that already have the pod's images, weighting each image by
// its size and by how widely it is spread (an image on every node says nothing), clamped
// between 23 MB and 1000 MB per container as upstream.

import type { Pod } from '../../../api/generated/types/core-v1.js';
import type { CycleState } from '../../framework/cycle-state.js';
import { type Handle, MAX_NODE_SCORE, type Plugin, type ScorePlugin } from '../../framework/interfaces.js';
import type { NodeInfo } from '../../framework/node-info.js';

/** The upstream plugin name. */
export const NAME = 'ImageLocality';

const MB = 1024 * 1024;
const MIN_THRESHOLD = 23 * MB;
const MAX_CONTAINER_THRESHOLD = 1000 * MB;

/** Upstream's normalizedImageName: an image without tag or digest means :latest. */
export function normalizedImageName(name: string): string {
  if (name.lastIndexOf(':') <= name.lastIndexOf('/')) return `${name}:latest`;
  return name;
}

/** Scores image presence. */
export class ImageLocality implements ScorePlugin {
  readonly name = NAME;

  /** A plugin reading the node count from the handle's snapshot. */
  constructor(private readonly handle: Handle) {}

  score(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): number {
    if (nodeInfo.imageCount === 0) return 0;
    const images = nodeInfo.imageStates;
    const total = this.handle.snapshot().numNodes;
    const spec = pod.spec;
    if (spec === undefined) return 0;
    let sum = 0;
    let n = 0;
    for (const list of [spec.initContainers ?? [], spec.containers ?? []]) {
      for (const c of list) {
        n++;
        if (c.image === undefined) continue;
        const st = images.get(normalizedImageName(c.image));
        if (st !== undefined && total > 0) sum += Math.trunc(st.size * (st.numNodes / total));
      }
    }
    const max = MAX_CONTAINER_THRESHOLD * Math.max(n, 1);
    if (sum < MIN_THRESHOLD) sum = MIN_THRESHOLD;
    else if (sum > max) sum = max;
    return Math.trunc((MAX_NODE_SCORE * (sum - MIN_THRESHOLD)) / (max - MIN_THRESHOLD));
  }
}

/** Factory for the registry. */
export function newImageLocality(_args: unknown, handle: Handle): Plugin {
  return new ImageLocality(handle);
}
