// metav1.LabelSelector (matchLabels + matchExpressions) as the API objects carry it, and
// its conversion to and from the Selector model (upstream's LabelSelectorAsSelector,
// ParseToLabelSelector, FormatLabelSelector). A nil selector matches nothing; an empty one
// matches everything: workload controllers depend on that distinction.

import { goQuote } from '../go-format.js';
import type { Operator, Selector } from './selector.js';
import {
  everything,
  newSelector,
  nothing,
  parseToRequirements,
  Requirement,
  SelectorParseError,
} from './selector.js';

/** metav1.LabelSelectorOperator. */
export type LabelSelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

/** metav1.LabelSelectorRequirement. */
export interface LabelSelectorRequirement {
  key: string;
  operator: LabelSelectorOperator | string;
  values?: string[];
}

/** metav1.LabelSelector. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

function operatorOf(op: string): Operator | undefined {
  switch (op) {
    case 'In':
      return 'in';
    case 'NotIn':
      return 'notin';
    case 'Exists':
      return 'exists';
    case 'DoesNotExist':
      return '!';
    default:
      return undefined;
  }
}

/**
 * Converts a metav1.LabelSelector to a Selector: null/undefined → nothing, `{}` →
 * everything. Throws SelectorParseError with upstream's message on invalid input.
 */
export function labelSelectorAsSelector(ls: LabelSelector | null | undefined): Selector {
  if (ls === null || ls === undefined) return nothing();
  const matchLabels = ls.matchLabels ?? {};
  const exprs = ls.matchExpressions ?? [];
  if (Object.keys(matchLabels).length + exprs.length === 0) return everything();
  const reqs: Requirement[] = [];
  for (const [k, v] of Object.entries(matchLabels)) reqs.push(Requirement.create(k, '=', [v]));
  for (const expr of exprs) {
    const op = operatorOf(expr.operator);
    if (op === undefined) {
      throw new SelectorParseError(`${JSON.stringify(expr.operator)} is not a valid label selector operator`);
    }
    reqs.push(Requirement.create(expr.key, op, expr.values ?? []));
  }
  return newSelector(...reqs);
}

/**
 * The selector as kubectl prints it (`app=web,tier in (a,b)`), `<none>` when it selects
 * everything or nothing, `<error>` when it is invalid.
 */
export function formatLabelSelector(ls: LabelSelector | null | undefined): string {
  let s: string;
  try {
    s = labelSelectorAsSelector(ls).toString();
  } catch {
    return '<error>';
  }
  return s === '' ? '<none>' : s;
}

/**
 * The selector as a plain label map; only matchLabels and single-valued In expressions
 * convert (upstream's LabelSelectorAsMap). Throws for the rest.
 */
export function labelSelectorAsMap(ls: LabelSelector | null | undefined): Record<string, string> | undefined {
  if (ls === null || ls === undefined) return undefined;
  const out: Record<string, string> = { ...(ls.matchLabels ?? {}) };
  for (const expr of ls.matchExpressions ?? []) {
    const q = JSON.stringify(expr.operator);
    switch (expr.operator) {
      case 'In':
        if ((expr.values ?? []).length !== 1) {
          throw new SelectorParseError(
            `operator ${q} without a single value cannot be converted into the old label selector format`,
          );
        }
        out[expr.key] = (expr.values as string[])[0] as string;
        break;
      case 'NotIn':
      case 'Exists':
      case 'DoesNotExist':
        throw new SelectorParseError(`operator ${q} cannot be converted into the old label selector format`);
      default:
        throw new SelectorParseError(`${q} is not a valid selector operator`);
    }
  }
  return out;
}

/** Parses a selector string into a metav1.LabelSelector (upstream's ParseToLabelSelector). */
export function parseToLabelSelector(selector: string): LabelSelector {
  let reqs: Requirement[];
  try {
    reqs = parseToRequirements(selector);
  } catch (e) {
    throw new SelectorParseError(`couldn't parse the selector string "${selector}": ${(e as Error).message}`);
  }
  const out: Required<LabelSelector> = { matchLabels: {}, matchExpressions: [] };
  for (const r of reqs) {
    let op: LabelSelectorOperator;
    switch (r.operator) {
      case '=':
      case '==': {
        const vals = r.sortedValues();
        if (vals.length !== 1) throw new SelectorParseError('equals operator must have exactly one value');
        out.matchLabels[r.key] = vals[0] as string;
        continue;
      }
      case 'in':
        op = 'In';
        break;
      case 'notin':
        op = 'NotIn';
        break;
      case 'exists':
        op = 'Exists';
        break;
      case '!':
        op = 'DoesNotExist';
        break;
      case 'gt':
      case 'lt':
        throw new SelectorParseError(`${JSON.stringify(r.operator)} isn't supported in label selectors`);
      default:
        throw new SelectorParseError(`${JSON.stringify(r.operator)} is not a valid label selector operator`);
    }
    out.matchExpressions.push({ key: r.key, operator: op, values: r.sortedValues() });
  }
  return out;
}

/** A LabelSelector with exactly these matchLabels (undefined for undefined). */
export function setAsLabelSelector(
  set: Record<string, string> | undefined | null,
): LabelSelector | undefined {
  if (set === undefined || set === null) return undefined;
  return { matchLabels: { ...set } };
}

/**
 * Go's `%#v` of a metav1.LabelSelector value, as upstream's field errors print a selector
 * (e.g. an immutable one): `v1.LabelSelector{MatchLabels:map[string]string{"app":"a"},
 * MatchExpressions:[]v1.LabelSelectorRequirement(nil)}`. Absent lists and maps are Go's nil.
 */
export function labelSelectorGoString(sel: LabelSelector): string {
  const labels =
    sel.matchLabels == null
      ? 'map[string]string(nil)'
      : `map[string]string{${Object.keys(sel.matchLabels)
          .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
          .map((k) => `${goQuote(k)}:${goQuote(sel.matchLabels?.[k] ?? '')}`)
          .join(', ')}}`;
  const req = (r: LabelSelectorRequirement) =>
    `v1.LabelSelectorRequirement{Key:${goQuote(r.key)}, Operator:${goQuote(r.operator)}, Values:${
      r.values == null ? '[]string(nil)' : `[]string{${r.values.map(goQuote).join(', ')}}`
    }}`;
  const exprs =
    sel.matchExpressions == null
      ? '[]v1.LabelSelectorRequirement(nil)'
      : `[]v1.LabelSelectorRequirement{${sel.matchExpressions.map(req).join(', ')}}`;
  return `v1.LabelSelector{MatchLabels:${labels}, MatchExpressions:${exprs}}`;
}
