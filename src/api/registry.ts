// Lookups over the generated resource registry (src/api/generated/resources.ts): by
// group/version/plural (routing), by kind (decoding, owner references), by group (discovery),
// and by the names a user types (`po`, `pod`, `pods`, `deployments.apps`,
// `deployments.v1.apps`), resolved the way kubectl's RESTMapper does: the preferred version
// of each group, groups in discovery order, first match wins.
import { groups, resources } from './generated/resources.js';
import type { GroupInfo, ResourceInfo, SubresourceInfo } from './registry-types.js';

function gvKey(group: string, version: string): string {
  return `${group}/${version}`;
}

interface Index {
  byPlural: Map<string, ResourceInfo>;
  byKind: Map<string, ResourceInfo>;
  byGV: Map<string, ResourceInfo[]>;
  groups: Map<string, GroupInfo>;
  preferred: readonly ResourceInfo[];
}

let index: Index | undefined;

function build(): Index {
  const byPlural = new Map<string, ResourceInfo>();
  const byKind = new Map<string, ResourceInfo>();
  const byGV = new Map<string, ResourceInfo[]>();
  for (const r of resources) {
    const gv = gvKey(r.group, r.version);
    byPlural.set(`${gv}/${r.plural}`, r);
    // Kinds are unique per group/version except for kinds served by several resources
    // (none upstream today); the first in table order wins.
    if (!byKind.has(`${gv}/${r.kind}`)) byKind.set(`${gv}/${r.kind}`, r);
    const list = byGV.get(gv) ?? [];
    list.push(r);
    byGV.set(gv, list);
  }
  const groupMap = new Map(groups.map((g) => [g.name, g]));
  return { byPlural, byKind, byGV, groups: groupMap, preferred: Object.freeze(choosePreferred(groupMap)) };
}

// Mirrors client-go's ServerPreferredResources: each group/resource once, at the group's
// preferred version when served there, otherwise at the first version (in the group's
// version order) that serves it.
function choosePreferred(groupMap: Map<string, GroupInfo>): ResourceInfo[] {
  const chosen = new Map<string, ResourceInfo>();
  const order: string[] = [];
  for (const g of groups) {
    for (const v of g.versions) {
      for (const r of resources) {
        if (r.group !== g.name || r.version !== v) continue;
        const key = `${r.group}/${r.plural}`;
        const prev = chosen.get(key);
        if (prev === undefined) order.push(key);
        else if (v !== groupMap.get(g.name)?.preferredVersion) continue;
        chosen.set(key, r);
      }
    }
  }
  return order.map((k) => chosen.get(k)!);
}

function idx(): Index {
  if (index === undefined) index = build();
  return index;
}

/** The resource served at group/version under this plural (e.g. '', 'v1', 'pods'). */
export function resourceFor(group: string, version: string, plural: string): ResourceInfo | undefined {
  return idx().byPlural.get(`${gvKey(group, version)}/${plural}`);
}

/** The resource of a kind at group/version (e.g. 'apps', 'v1', 'Deployment'). */
export function resourceForKind(group: string, version: string, kind: string): ResourceInfo | undefined {
  return idx().byKind.get(`${gvKey(group, version)}/${kind}`);
}

/** Every resource served at group/version, sorted by plural; empty for an unknown version. */
export function resourcesIn(group: string, version: string): readonly ResourceInfo[] {
  return idx().byGV.get(gvKey(group, version)) ?? [];
}

/** The API group with this name ('' for core). */
export function groupInfo(name: string): GroupInfo | undefined {
  return idx().groups.get(name);
}

/** Every API group, core first, in discovery order. */
export function allGroups(): readonly GroupInfo[] {
  return groups;
}

/** Each group/resource once, at its preferred version, in discovery order. */
export function preferredResources(): readonly ResourceInfo[] {
  return idx().preferred;
}

/** A named subresource of a resource (`status`, `scale`, `exec`, …). */
export function subresourceOf(resource: ResourceInfo, name: string): SubresourceInfo | undefined {
  return resource.subresources.find((s) => s.name === name);
}

/** True for subresources served by a streaming/proxy connection (exec, attach, portforward, proxy). */
export function isConnectSubresource(sub: SubresourceInfo): boolean {
  return sub.verbs.includes('connect');
}

/**
 * The verbs to publish in discovery: the registry marks connect subresources with a
 * `connect` verb that upstream discovery does not list (it lists the HTTP verbs instead).
 */
export function discoveryVerbs(verbs: readonly string[]): string[] {
  return verbs.filter((v) => v !== 'connect');
}

function matchesName(r: ResourceInfo, name: string): boolean {
  return r.plural === name || r.singular === name || r.shortNames.includes(name);
}

/**
 * Resolves what a user types for a resource: a plural, singular or short name, optionally
 * qualified by group (`deployments.apps`, `deploy.apps`) or by version and group
 * (`deployments.v1.apps`, `pods.v1.`). Matching is case-insensitive (kubectl lower-cases
 * resource arguments; `Pod` also matches the kind). Among unqualified matches the preferred
 * version of the first group in discovery order wins (`events` → core events).
 */
export function resolveResource(arg: string): ResourceInfo | undefined {
  const input = arg.toLowerCase();
  if (input.length === 0) return undefined;
  const kindMatch = (r: ResourceInfo, name: string): boolean =>
    matchesName(r, name) || r.kind.toLowerCase() === name;

  for (const r of preferredResources()) if (kindMatch(r, input)) return r;

  const dot = input.indexOf('.');
  if (dot < 0) return undefined;
  const name = input.slice(0, dot);
  const rest = input.slice(dot + 1);
  // name.group: the group's preferred version first, then its other versions.
  const g = groupInfo(rest);
  if (g !== undefined) {
    for (const v of g.versions) {
      for (const r of resourcesIn(g.name, v)) if (kindMatch(r, name)) return r;
    }
  }
  // name.version.group (the group may be empty: `pods.v1.`).
  const dot2 = rest.indexOf('.');
  if (dot2 >= 0) {
    const version = rest.slice(0, dot2);
    const group = rest.slice(dot2 + 1);
    for (const r of resourcesIn(group, version)) if (kindMatch(r, name)) return r;
  }
  return undefined;
}
