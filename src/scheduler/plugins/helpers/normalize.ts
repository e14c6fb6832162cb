// Score normalization helpers (upstream's pluginhelper.DefaultNormalizeScore).

import { MAX_NODE_SCORE, type NodeScore } from '../../framework/interfaces.js';

/** Scales scores so the highest becomes MAX_NODE_SCORE (reversed: the lowest does). */
export function defaultNormalizeScore(scores: NodeScore[], reverse: boolean, max = MAX_NODE_SCORE): void {
  let top = 0;
  for (const s of scores) if (s.score > top) top = s.score;
  if (top === 0) {
    if (reverse) for (const s of scores) s.score = max;
    return;
  }
  for (const s of scores) {
    let v = Math.trunc((max * s.score) / top);
    if (reverse) v = max - v;
    s.score = v;
  }
}

/** Reads an object-valued plugin args blob (config already validated it). */
export function argsObject(args: unknown): Record<string, unknown> {
  return typeof args === 'object' && args !== null && !Array.isArray(args)
    ? (args as Record<string, unknown>)
    : {};
}
