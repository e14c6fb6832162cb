// Lookups over the generated schema table (src/api/generated/schemas.ts). Validation,
// defaulting, the patch engines and the OpenAPI endpoints walk schemas only through these
// functions, so the one rule that matters — property nodes may be `ref`s to definitions, and
// flags such as `quantity` live on the definition — is applied in one place.
import { definitions } from './generated/schemas.js';
import type { DefinitionSchema, GroupVersionKind, SchemaNode } from './schema-types.js';

// Definitions added at run time (custom resources' schemas), newest registration last, so
// two API servers in one process may register the same name and each unregister its own.
const registered = new Map<string, DefinitionSchema[]>();

/** The definition with this fully qualified name (e.g. `io.k8s.api.core.v1.Pod`). */
export function getDefinition(name: string): DefinitionSchema | undefined {
  if (Object.hasOwn(definitions, name)) return definitions[name];
  const r = registered.get(name);
  return r === undefined ? undefined : r[r.length - 1];
}

/**
 * Adds a definition at run time (a custom resource's schema, for the patch and apply
 * engines), never shadowing a generated one. It is found by getDefinition only (not by
 * GVK: custom kinds are validated by their own schemas). Returns the function removing it.
 */
export function registerDefinition(def: DefinitionSchema): () => void {
  if (Object.hasOwn(definitions, def.name)) throw new Error(`definition ${def.name} is built in`);
  let list = registered.get(def.name);
  if (list === undefined) {
    list = [];
    registered.set(def.name, list);
  }
  list.push(def);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    unregisterDefinition(def);
  };
}

/** Removes one registration made by registerDefinition (its returned function calls this). */
export function unregisterDefinition(def: DefinitionSchema): void {
  const list = registered.get(def.name);
  if (list === undefined) return;
  const i = list.lastIndexOf(def);
  if (i >= 0) list.splice(i, 1);
  if (list.length === 0) registered.delete(def.name);
}

let all: readonly DefinitionSchema[] | undefined;

/** Every definition of the table, sorted by name. */
export function allDefinitions(): readonly DefinitionSchema[] {
  if (all === undefined) {
    all = Object.freeze(
      Object.keys(definitions)
        .sort()
        .map((k) => definitions[k]!),
    );
  }
  return all;
}

function gvkKey(group: string, version: string, kind: string): string {
  return `${group}/${version}/${kind}`;
}

let byGVK: Map<string, DefinitionSchema> | undefined;

function gvkIndex(): Map<string, DefinitionSchema> {
  if (byGVK === undefined) {
    byGVK = new Map();
    for (const def of allDefinitions()) {
      for (const g of def.gvk ?? []) {
        const key = gvkKey(g.group, g.version, g.kind);
        // Several definitions never claim one GVK upstream; keep the first (by name) if one
        // ever does, so the answer stays stable.
        if (!byGVK.has(key)) byGVK.set(key, def);
      }
    }
  }
  return byGVK;
}

/**
 * The definition served for a group/version/kind. meta/v1 types (Status, DeleteOptions,
 * WatchEvent, …) are found under every group/version that upstream lists for them.
 */
export function definitionForGVK(gvk: GroupVersionKind): DefinitionSchema | undefined {
  return gvkIndex().get(gvkKey(gvk.group, gvk.version, gvk.kind));
}

/** The group/version/kinds a definition is served as (empty for non-kinds). */
export function gvksOf(name: string): readonly GroupVersionKind[] {
  return getDefinition(name)?.gvk ?? [];
}

/**
 * Follows `ref` (through chains of refs) to the definition; any other node is returned as is.
 * An unknown ref yields undefined rather than the bare ref node, so callers never mistake a
 * dangling reference for a free-form value.
 */
export function resolveNode(node: SchemaNode): SchemaNode | undefined {
  let cur: SchemaNode | undefined = node;
  for (let hops = 0; cur?.ref !== undefined; hops++) {
    if (hops > 32) return undefined;
    cur = getDefinition(cur.ref);
  }
  return cur;
}

/**
 * The schema of `key` below `node`: a named property of a struct, or the value schema of a
 * map. The node is resolved first; the returned child is not (it may itself be a `ref`).
 */
export function propertySchema(node: SchemaNode, key: string): SchemaNode | undefined {
  const n = resolveNode(node);
  if (n === undefined) return undefined;
  if (n.properties !== undefined && Object.hasOwn(n.properties, key)) return n.properties[key];
  return n.additionalProperties;
}

/** The element schema of an array node (resolving the node first), unresolved. */
export function itemSchema(node: SchemaNode): SchemaNode | undefined {
  return resolveNode(node)?.items;
}

/** True when any JSON is allowed at this node (free-form definitions, preserve-unknown-fields). */
export function isFreeForm(node: SchemaNode): boolean {
  const n = resolveNode(node);
  if (n === undefined) return true;
  if (n.preserveUnknownFields === true) return true;
  return n.type === undefined && n.properties === undefined && n.items === undefined;
}
