// RBAC rule matching and rule arithmetic, as upstream's rbac/v1 helpers and the rule
// validation package define them: a request matches a PolicyRule when verb, API group,
// resource (with `*`, `resource/subresource` and `*/subresource`), resource name and
// non-resource URL (`*` suffix) all match; one rule set "covers" another when every atomic
// permission of the second is matched by some rule of the first (escalation checks).
import type { PolicyRule } from '../../../api/generated/types/rbac-v1.js';

/** The part of a request a rule is matched against. */
export interface RuleRequest {
  verb: string;
  resourceRequest: boolean;
  apiGroup: string;
  resource: string;
  subresource: string;
  name: string;
  path?: string;
}

const ALL = '*';

/** True when the rule grants the verb. */
export function verbMatches(rule: PolicyRule, verb: string): boolean {
  return rule.verbs.some((v) => v === ALL || v === verb);
}

/** True when the rule covers the API group. */
export function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return (rule.apiGroups ?? []).some((g) => g === ALL || g === group);
}

// True when the rule names the resource: `*`, the exact `resource[/subresource]`, or
// `*/subresource` for that subresource of any resource.
/** True when the rule names the resource (wildcards and subresources as upstream). */
export function resourceMatches(rule: PolicyRule, combined: string, subresource: string): boolean {
  for (const r of rule.resources ?? []) {
    if (r === ALL || r === combined) return true;
    if (subresource === '') continue;
    if (r.length === subresource.length + 2 && r.startsWith('*/') && r.endsWith(subresource)) return true;
  }
  return false;
}

/** True when the rule has no resourceNames or lists the requested one. */
export function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(name);
}

/** True when the rule's nonResourceURLs match the path (exact, `*`, or a `prefix*`). */
export function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  for (const u of rule.nonResourceURLs ?? []) {
    if (u === ALL || u === path) return true;
    if (u.endsWith('*') && path.startsWith(trimStars(u))) return true;
  }
  return false;
}

function trimStars(s: string): string {
  let end = s.length;
  while (end > 0 && s[end - 1] === '*') end--;
  return s.slice(0, end);
}

/** True when one rule allows the request (upstream RuleAllows). */
export function ruleAllows(req: RuleRequest, rule: PolicyRule): boolean {
  if (!verbMatches(rule, req.verb)) return false;
  if (req.resourceRequest) {
    const combined = req.subresource === '' ? req.resource : `${req.resource}/${req.subresource}`;
    return (
      apiGroupMatches(rule, req.apiGroup) &&
      resourceMatches(rule, combined, req.subresource) &&
      resourceNameMatches(rule, req.name)
    );
  }
  return nonResourceURLMatches(rule, req.path ?? '');
}

/** True when any rule allows the request. */
export function rulesAllow(req: RuleRequest, rules: readonly PolicyRule[]): boolean {
  for (const r of rules) if (ruleAllows(req, r)) return true;
  return false;
}

/**
 * A rule prepared for the hot path: sets instead of arrays and the wildcard flags
 * precomputed, so a decision over hundreds of rules stays cheap.
 */
export class CompiledRule {
  private readonly allVerbs: boolean;
  private readonly verbs: ReadonlySet<string>;
  private readonly allGroups: boolean;
  private readonly groups: ReadonlySet<string>;
  private readonly allResources: boolean;
  private readonly resources: ReadonlySet<string>;
  private readonly names: ReadonlySet<string>;

  constructor(readonly rule: PolicyRule) {
    this.allVerbs = rule.verbs.includes(ALL);
    this.verbs = new Set(rule.verbs);
    this.allGroups = (rule.apiGroups ?? []).includes(ALL);
    this.groups = new Set(rule.apiGroups ?? []);
    this.allResources = (rule.resources ?? []).includes(ALL);
    this.resources = new Set(rule.resources ?? []);
    this.names = new Set(rule.resourceNames ?? []);
  }

  /** Same answer as ruleAllows(req, this.rule). */
  allows(req: RuleRequest): boolean {
    if (!this.allVerbs && !this.verbs.has(req.verb)) return false;
    if (!req.resourceRequest) return nonResourceURLMatches(this.rule, req.path ?? '');
    if (!this.allGroups && !this.groups.has(req.apiGroup)) return false;
    if (!this.allResources) {
      if (req.subresource === '') {
        if (!this.resources.has(req.resource)) return false;
      } else if (
        !this.resources.has(`${req.resource}/${req.subresource}`) &&
        !this.resources.has(`*/${req.subresource}`)
      ) {
        return false;
      }
    }
    return this.names.size === 0 || this.names.has(req.name);
  }
}

/** Compiles a role's rules. */
export function compileRules(rules: readonly PolicyRule[] | undefined): CompiledRule[] {
  return (rules ?? []).map((r) => new CompiledRule(r));
}

// ---- rule arithmetic for escalation checks -------------------------------------------

/** Splits a rule into one rule per (group, resource, verb[, name]) and per (url, verb). */
export function breakdownRule(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const g of rule.apiGroups ?? []) {
    for (const r of rule.resources ?? []) {
      for (const v of rule.verbs) {
        const names = rule.resourceNames ?? [];
        if (names.length > 0) {
          for (const n of names) out.push({ apiGroups: [g], resources: [r], verbs: [v], resourceNames: [n] });
        } else {
          out.push({ apiGroups: [g], resources: [r], verbs: [v] });
        }
      }
    }
  }
  for (const u of rule.nonResourceURLs ?? []) {
    for (const v of rule.verbs) out.push({ nonResourceURLs: [u], verbs: [v] });
  }
  return out;
}

function hasAll(set: readonly string[] | undefined, want: readonly string[] | undefined): boolean {
  const s = set ?? [];
  return (want ?? []).every((w) => s.includes(w));
}

function resourceCoversAll(owner: readonly string[], wanted: readonly string[]): boolean {
  if (owner.includes(ALL) || hasAll(owner, wanted)) return true;
  for (const path of wanted) {
    if (owner.includes(path)) continue;
    const slash = path.indexOf('/');
    if (slash < 0) return false;
    if (!owner.includes(`*/${path.slice(slash + 1)}`)) return false;
  }
  return true;
}

function nonResourceURLCovers(owner: string, sub: string): boolean {
  if (owner === sub) return true;
  return owner.endsWith('*') && sub.startsWith(trimStars(owner));
}

function nonResourceURLsCoverAll(owner: readonly string[], wanted: readonly string[]): boolean {
  return wanted.every((w) => owner.some((o) => nonResourceURLCovers(o, w)));
}

/** True when ownerRule grants everything subRule does (subRule already broken down). */
export function ruleCovers(owner: PolicyRule, sub: PolicyRule): boolean {
  const verbs = owner.verbs.includes(ALL) || hasAll(owner.verbs, sub.verbs);
  const groups = (owner.apiGroups ?? []).includes(ALL) || hasAll(owner.apiGroups, sub.apiGroups);
  const resources = resourceCoversAll(owner.resources ?? [], sub.resources ?? []);
  const urls = nonResourceURLsCoverAll(owner.nonResourceURLs ?? [], sub.nonResourceURLs ?? []);
  const ownerNames = owner.resourceNames ?? [];
  const subNames = sub.resourceNames ?? [];
  const names =
    subNames.length === 0 ? ownerNames.length === 0 : ownerNames.length === 0 || hasAll(ownerNames, subNames);
  return verbs && groups && resources && names && urls;
}

/** Whether `owner` covers every permission in `servant`, and the atomic rules it does not. */
export function covers(
  owner: readonly PolicyRule[],
  servant: readonly PolicyRule[],
): { covered: boolean; missing: PolicyRule[] } {
  const missing: PolicyRule[] = [];
  for (const s of servant) {
    for (const sub of breakdownRule(s)) {
      if (!owner.some((o) => ruleCovers(o, sub))) missing.push(sub);
    }
  }
  return { covered: missing.length === 0, missing };
}

/**
 * Merges rules of one group and one resource (and at most one name) that differ only in
 * verbs, so an escalation message lists `Verbs:["get" "list"]` once per resource.
 */
export function compactRules(rules: readonly PolicyRule[]): PolicyRule[] {
  const out: PolicyRule[] = [];
  const simple = new Map<string, PolicyRule>();
  for (const r of rules) {
    const key = simpleKey(r);
    if (key === undefined) {
      out.push(r);
      continue;
    }
    const existing = simple.get(key);
    if (existing) existing.verbs = [...existing.verbs, ...r.verbs];
    else simple.set(key, structuredClone(r));
  }
  return [...out, ...simple.values()];
}

function simpleKey(r: PolicyRule): string | undefined {
  const names = r.resourceNames ?? [];
  if (names.length > 1 || (r.nonResourceURLs ?? []).length > 0) return undefined;
  const groups = r.apiGroups ?? [];
  const resources = r.resources ?? [];
  if (groups.length !== 1 || resources.length !== 1) return undefined;
  return JSON.stringify([groups[0], resources[0], names[0] ?? null]);
}

/** Go's `%q` of a []string: `["a" "b"]`. */
export function goQuoteList(list: readonly string[]): string {
  return `[${list.map((s) => JSON.stringify(s)).join(' ')}]`;
}

/** Upstream's compact rule rendering for escalation errors. */
export function compactString(r: PolicyRule): string {
  const parts: string[] = [];
  if ((r.apiGroups ?? []).length > 0) parts.push(`APIGroups:${goQuoteList(r.apiGroups ?? [])}`);
  if ((r.resources ?? []).length > 0) parts.push(`Resources:${goQuoteList(r.resources ?? [])}`);
  if ((r.nonResourceURLs ?? []).length > 0)
    parts.push(`NonResourceURLs:${goQuoteList(r.nonResourceURLs ?? [])}`);
  if ((r.resourceNames ?? []).length > 0) parts.push(`ResourceNames:${goQuoteList(r.resourceNames ?? [])}`);
  if (r.verbs.length > 0) parts.push(`Verbs:${goQuoteList(r.verbs)}`);
  return `{${parts.join(', ')}}`;
}
