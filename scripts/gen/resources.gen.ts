// Generates src/api/generated/resources.ts: the resources and groups the upstream API serves,
// derived from the paths and operations of the OpenAPI v2 document, plus the hand-kept facts
// of resource-facts.ts (short names, categories, group order, preferred versions).
//
// A path /api/v1/[watch/][namespaces/{namespace}/]<plural>[/{name}[/<sub>[/{path}]]] (or the
// same under /apis/<group>/<version>) names a resource; its operations' x-kubernetes-action
// give the verbs (watch and watchlist → watch, post → create, put → update; connect actions
// map their HTTP method the way upstream discovery does, plus the `connect` marker) and
// x-kubernetes-group-version-kind gives the kind.
import type { GroupInfo, ResourceInfo, SubresourceInfo } from '../../src/api/registry-types.js';
import { GENERATED_HEADER, type GeneratedFile, type GenContext } from './context.js';
import { loadSwagger, operationsOf, type SwaggerDoc, type SwaggerGVK } from './openapi-model.js';
import {
  categoriesFor,
  compareGroups,
  compareVersions,
  PREFERRED_VERSIONS,
  shortNamesFor,
} from './resource-facts.js';

/** Path of the generated registry, relative to the repository root. */
export const RESOURCES_PATH = 'src/api/generated/resources.ts';

/** The parts of an API path that identify a resource. */
export interface ParsedPath {
  group: string;
  version: string;
  namespaced: boolean;
  plural: string;
  named: boolean;
  subresource?: string;
}

/** Splits a resource path; undefined for discovery, version, log and other non-resource paths. */
export function parseResourcePath(path: string): ParsedPath | undefined {
  const seg = path.split('/').filter((s) => s.length > 0);
  let group: string;
  let version: string;
  let rest: string[];
  if (seg[0] === 'api' && seg.length >= 2) {
    group = '';
    version = seg[1]!;
    rest = seg.slice(2);
  } else if (seg[0] === 'apis' && seg.length >= 3) {
    group = seg[1]!;
    version = seg[2]!;
    rest = seg.slice(3);
  } else {
    return undefined;
  }
  if (rest[0] === 'watch') rest = rest.slice(1);
  let namespaced = false;
  if (rest[0] === 'namespaces' && rest[1] === '{namespace}' && rest.length >= 3) {
    namespaced = true;
    rest = rest.slice(2);
  }
  const plural = rest[0];
  if (plural === undefined || plural.startsWith('{')) return undefined;
  const named = rest[1] === '{name}';
  const subresource = named ? rest[2] : undefined;
  if (!named && rest.length > 1) return undefined;
  return { group, version, namespaced, plural, named, ...(subresource ? { subresource } : {}) };
}

// Discovery verbs of connect subresources come from the HTTP methods upstream registers
// (HEAD and OPTIONS have no Kubernetes verb).
const METHOD_VERBS: Readonly<Record<string, string>> = {
  get: 'get',
  post: 'create',
  put: 'update',
  patch: 'patch',
  delete: 'delete',
};

const ACTION_VERBS: Readonly<Record<string, string>> = {
  get: 'get',
  list: 'list',
  watch: 'watch',
  watchlist: 'watch',
  post: 'create',
  put: 'update',
  patch: 'patch',
  delete: 'delete',
  deletecollection: 'deletecollection',
};

function verbsOf(method: string, action: string | undefined): string[] {
  if (action === 'connect') {
    const v = METHOD_VERBS[method];
    return v === undefined ? ['connect'] : ['connect', v];
  }
  const v = action === undefined ? undefined : ACTION_VERBS[action];
  return v === undefined ? [] : [v];
}

interface Acc {
  group: string;
  version: string;
  plural: string;
  namespaced: boolean;
  kind?: SwaggerGVK;
  verbs: Set<string>;
  subs: Map<string, { verbs: Set<string>; kind?: SwaggerGVK }>;
}

function sameGVK(a: SwaggerGVK | undefined, b: SwaggerGVK): boolean {
  return a !== undefined && a.group === b.group && a.version === b.version && a.kind === b.kind;
}

/** Collects resources with verbs, kinds and subresources from every path of the document. */
export function collectResources(doc: SwaggerDoc): ResourceInfo[] {
  const acc = new Map<string, Acc>();
  for (const path of Object.keys(doc.paths).sort()) {
    const p = parseResourcePath(path);
    if (p === undefined) continue;
    const key = `${p.group}/${p.version}/${p.plural}`;
    let r = acc.get(key);
    if (r === undefined) {
      r = {
        group: p.group,
        version: p.version,
        plural: p.plural,
        namespaced: false,
        verbs: new Set(),
        subs: new Map(),
      };
      acc.set(key, r);
    }
    if (p.namespaced) r.namespaced = true;
    for (const [method, op] of operationsOf(doc.paths[path] as Record<string, unknown>)) {
      const verbs = verbsOf(method, op['x-kubernetes-action']);
      const gvk = op['x-kubernetes-group-version-kind'];
      if (p.subresource === undefined) {
        for (const v of verbs) r.verbs.add(v);
        if (gvk !== undefined && r.kind === undefined) r.kind = gvk;
        else if (gvk !== undefined && !sameGVK(r.kind, gvk)) {
          throw new Error(`resources.gen: ${path} serves ${gvk.kind} but ${r.kind?.kind} was seen before`);
        }
      } else {
        let s = r.subs.get(p.subresource);
        if (s === undefined) {
          s = { verbs: new Set() };
          r.subs.set(p.subresource, s);
        }
        for (const v of verbs) s.verbs.add(v);
        if (gvk !== undefined && s.kind === undefined) s.kind = gvk;
      }
    }
  }

  const out: ResourceInfo[] = [];
  for (const r of acc.values()) {
    if (r.kind === undefined) {
      throw new Error(`resources.gen: no kind for ${r.group}/${r.version}/${r.plural}`);
    }
    const kind = r.kind.kind;
    const subresources: SubresourceInfo[] = [...r.subs.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([name, s]) => {
        const k = s.kind ?? r.kind!;
        const foreign = k.group !== r.group || k.version !== r.version;
        return {
          name,
          kind: k.kind,
          ...(foreign ? { group: k.group, version: k.version } : {}),
          verbs: [...s.verbs].sort(),
        };
      });
    out.push({
      group: r.group,
      version: r.version,
      kind,
      listKind: `${kind}List`,
      plural: r.plural,
      singular: kind.toLowerCase(),
      shortNames: shortNamesFor(r.group, r.plural),
      categories: categoriesFor(r.group, r.plural),
      namespaced: r.namespaced,
      verbs: [...r.verbs].sort(),
      subresources,
      definition: '',
    });
  }
  return out;
}

/** Fills `definition` from the schemas' GVK lists; fails when a kind has no schema. */
function attachDefinitions(doc: SwaggerDoc, resources: ResourceInfo[]): void {
  const byGVK = new Map<string, string>();
  for (const name of Object.keys(doc.definitions).sort()) {
    for (const g of doc.definitions[name]!['x-kubernetes-group-version-kind'] ?? []) {
      const k = `${g.group}/${g.version}/${g.kind}`;
      if (!byGVK.has(k)) byGVK.set(k, name);
    }
  }
  for (const r of resources) {
    const def = byGVK.get(`${r.group}/${r.version}/${r.kind}`);
    if (def === undefined)
      throw new Error(`resources.gen: no definition for ${r.group}/${r.version} ${r.kind}`);
    r.definition = def;
  }
}

/** Groups with versions in upstream priority order and their preferred version. */
export function buildGroups(resources: ResourceInfo[]): GroupInfo[] {
  const versions = new Map<string, Set<string>>();
  for (const r of resources) {
    const set = versions.get(r.group) ?? new Set<string>();
    set.add(r.version);
    versions.set(r.group, set);
  }
  return [...versions.keys()].sort(compareGroups).map((name) => {
    const served = [...versions.get(name)!].sort(compareVersions);
    const explicit = PREFERRED_VERSIONS[name];
    const preferredVersion = explicit !== undefined && served.includes(explicit) ? explicit : served[0]!;
    // The preferred version leads the list, as in upstream discovery.
    const ordered = [preferredVersion, ...served.filter((v) => v !== preferredVersion)];
    return { name, versions: ordered, preferredVersion };
  });
}

function render(resources: ResourceInfo[], groups: GroupInfo[]): string {
  const lines = resources.map((r) => `${JSON.stringify(r)},`);
  const glines = groups.map((g) => `${JSON.stringify(g)},`);
  return (
    `${GENERATED_HEADER}// The resources and API groups served (see src/api/registry-types.ts).\n` +
    `import type { GroupInfo, ResourceInfo } from '../registry-types.js';\n\n` +
    `/** Every served resource, by group (discovery order), version (preferred first) and plural. */\n` +
    `export const resources: ResourceInfo[] = [\n${lines.join('\n')}\n];\n\n` +
    `/** Every API group, the core group ('') first, in discovery order. */\n` +
    `export const groups: GroupInfo[] = [\n${glines.join('\n')}\n];\n`
  );
}

/** Emits the resource registry. */
export function generate(ctx: GenContext): GeneratedFile[] {
  const doc = loadSwagger(ctx);
  const resources = collectResources(doc);
  attachDefinitions(doc, resources);
  const groups = buildGroups(resources);
  const gIndex = new Map(groups.map((g, i) => [g.name, i]));
  const vIndex = (r: ResourceInfo): number => {
    const g = groups[gIndex.get(r.group)!]!;
    return g.versions.indexOf(r.version);
  };
  resources.sort(
    (a, b) =>
      gIndex.get(a.group)! - gIndex.get(b.group)! ||
      vIndex(a) - vIndex(b) ||
      (a.plural < b.plural ? -1 : a.plural > b.plural ? 1 : 0),
  );
  return [{ path: RESOURCES_PATH, content: render(resources, groups) }];
}
