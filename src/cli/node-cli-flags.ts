// The node flags `kts server` and `kts agent` share: the same names, kinds and usage
// messages, so a node is described the same way whichever command runs it. Each helper
// returns either the value or the usage message, leaving exit codes to the command.
import type { Taint } from '../api/generated/types/core-v1.js';
import { defaultRuntimeKind, type RuntimeKind } from '../server/node-runtime.js';
import { parseLabel, parseTaint } from '../server/node-flags.js';
import { type FlagSpec, flagList, flagString } from './flags.js';

/** Flags both commands accept for the node they run. */
export const NODE_FLAG_SPEC: FlagSpec = {
  'data-dir': 'string',
  token: 'string',
  'node-name': 'string',
  'node-label': 'list',
  'node-taint': 'list',
  runtime: 'string',
  'kubelet-port': 'number',
  'cluster-dns': 'string',
  'cluster-domain': 'string',
  v: 'boolean',
  help: 'boolean',
};

/** `--runtime` (or the machine's default), or a usage message for a bad value. */
export function runtimeFlagOf(v: Record<string, unknown>): { runtime: RuntimeKind } | { usage: string } {
  const flag = flagString(v.runtime);
  if (flag !== undefined && flag !== 'cri' && flag !== 'process')
    return { usage: '--runtime must be cri or process' };
  return { runtime: flag ?? defaultRuntimeKind() };
}

/** `--node-label` and `--node-taint`, or a usage message naming the first bad one. */
export function nodeLabelsAndTaintsOf(
  v: Record<string, unknown>,
): { nodeLabels: Record<string, string>; nodeTaints: Taint[] } | { usage: string } {
  const nodeLabels: Record<string, string> = {};
  const nodeTaints: Taint[] = [];
  try {
    for (const l of flagList(v['node-label'])) {
      const [k, val] = parseLabel(l);
      nodeLabels[k] = val;
    }
    // Taints are not comma-split by meaning, but the list flag splits on commas: k3s does too.
    for (const t of flagList(v['node-taint'])) nodeTaints.push(parseTaint(t));
  } catch (e) {
    return { usage: (e as Error).message };
  }
  return { nodeLabels, nodeTaints };
}
