// Node selector matching shared by NodeAffinity, PodTopologySpread and VolumeBinding
// (upstream's component-helpers nodeaffinity): terms are ORed, the requirements inside a
// term ANDed, an empty term matches nothing; matchFields supports metadata.name only.

import type {
  Node,
  NodeSelector,
  NodeSelectorRequirement,
  NodeSelectorTerm,
  Pod,
  PreferredSchedulingTerm,
} from '../../../api/generated/types/core-v1.js';

function labelRequirementMatches(
  r: NodeSelectorRequirement,
  labels: Record<string, string> | undefined,
): boolean {
  const v = labels?.[r.key];
  const has = v !== undefined;
  switch (r.operator) {
    case 'In':
      return has && (r.values ?? []).includes(v);
    case 'NotIn':
      return !has || !(r.values ?? []).includes(v);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
    case 'Lt': {
      if (!has || (r.values ?? []).length !== 1) return false;
      const want = parseIntStrict(r.values?.[0] ?? '');
      const got = parseIntStrict(v);
      if (want === undefined || got === undefined) return false;
      return r.operator === 'Gt' ? got > want : got < want;
    }
    default:
      return false;
  }
}

function parseIntStrict(s: string): bigint | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  return BigInt(s);
}

function fieldRequirementMatches(r: NodeSelectorRequirement, node: Node): boolean {
  if (r.key !== 'metadata.name') return false;
  const name = node.metadata?.name ?? '';
  const vals = r.values ?? [];
  if (r.operator === 'In') return vals.length === 1 && vals[0] === name;
  if (r.operator === 'NotIn') return vals.length === 1 && vals[0] !== name;
  return false;
}

/** True when every requirement of the term holds; an empty term matches nothing. */
export function nodeSelectorTermMatches(term: NodeSelectorTerm, node: Node): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  const labels = node.metadata?.labels;
  for (const r of exprs) if (!labelRequirementMatches(r, labels)) return false;
  for (const r of fields) if (!fieldRequirementMatches(r, node)) return false;
  return true;
}

/** True when any term matches. */
export function nodeSelectorMatches(sel: NodeSelector, node: Node): boolean {
  for (const t of sel.nodeSelectorTerms ?? []) if (nodeSelectorTermMatches(t, node)) return true;
  return false;
}

/** The pod's hard node constraints: spec.nodeSelector AND required node affinity. */
export class RequiredNodeAffinity {
  private readonly selector: [string, string][] | undefined;
  private readonly required: NodeSelector | undefined;

  /** Parses the pod's constraints once. */
  constructor(pod: Pod) {
    const ns = pod.spec?.nodeSelector;
    this.selector = ns !== undefined && Object.keys(ns).length > 0 ? Object.entries(ns) : undefined;
    this.required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  }

  /** True when the pod has any hard node constraint. */
  get isEmpty(): boolean {
    return this.selector === undefined && this.required === undefined;
  }

  /** True when the node satisfies both the nodeSelector and the required terms. */
  match(node: Node): boolean {
    if (this.selector !== undefined) {
      const labels = node.metadata?.labels;
      if (labels === undefined) return false;
      for (const [k, v] of this.selector) if (labels[k] !== v) return false;
    }
    if (this.required !== undefined && !nodeSelectorMatches(this.required, node)) return false;
    return true;
  }
}

/** Sum of the weights of the preferred terms the node matches. */
export function preferredTermsScore(terms: readonly PreferredSchedulingTerm[], node: Node): number {
  let score = 0;
  for (const t of terms) {
    if (t.weight !== 0 && nodeSelectorTermMatches(t.preference, node)) score += t.weight;
  }
  return score;
}
