// Renders the project's schema table as OpenAPI schema objects, in the two dialects kts
// serves. v3 wraps every reference as `allOf: [{$ref}]` (as upstream's v3 documents do, so
// extensions such as the patch strategy can sit beside it); v2 puts extensions beside a bare
// `$ref`. Descriptions are left out: kts publishes structure, not upstream's prose.
import { getDefinition } from '../../api/schema.js';
import type { DefinitionSchema, SchemaNode } from '../../api/schema-types.js';

/** The OpenAPI dialect to render. */
export type Dialect = 'v2' | 'v3';

/** A JSON object as rendered into a document. */
export type JsonObject = { [key: string]: unknown };

const REF_PREFIX: Record<Dialect, string> = {
  v2: '#/definitions/',
  v3: '#/components/schemas/',
};

/** The JSON reference to a definition in the given dialect. */
export function refTo(dialect: Dialect, name: string): string {
  return REF_PREFIX[dialect] + name;
}

// Kubernetes extensions carried on any node (property, item, map value or definition).
function extensions(node: SchemaNode, out: JsonObject): void {
  if (node.listMapKeys !== undefined) out['x-kubernetes-list-map-keys'] = [...node.listMapKeys];
  if (node.listType !== undefined) out['x-kubernetes-list-type'] = node.listType;
  if (node.mapType !== undefined) out['x-kubernetes-map-type'] = node.mapType;
  if (node.patchMergeKey !== undefined) out['x-kubernetes-patch-merge-key'] = node.patchMergeKey;
  if (node.patchStrategy !== undefined) out['x-kubernetes-patch-strategy'] = node.patchStrategy;
}

/** Renders one schema node (not a top-level definition) in the given dialect. */
export function renderNode(node: SchemaNode, dialect: Dialect): JsonObject {
  const out: JsonObject = {};
  if (node.ref !== undefined) {
    if (dialect === 'v3') out.allOf = [{ $ref: refTo(dialect, node.ref) }];
    else out.$ref = refTo(dialect, node.ref);
    extensions(node, out);
    return out;
  }
  renderBody(node, dialect, out);
  extensions(node, out);
  return out;
}

function renderBody(node: SchemaNode, dialect: Dialect, out: JsonObject): void {
  if (node.quantity === true) {
    // Quantity is a string on output and a string or number on input.
    if (dialect === 'v3') out.oneOf = [{ type: 'string' }, { type: 'number' }];
    else out.type = 'string';
    return;
  }
  if (node.intOrString === true) {
    if (dialect === 'v3') {
      out.format = 'int-or-string';
      out.oneOf = [{ type: 'integer' }, { type: 'string' }];
    } else {
      out.type = 'string';
      out.format = 'int-or-string';
    }
    return;
  }
  if (node.type !== undefined) out.type = node.type;
  if (node.format !== undefined) out.format = node.format;
  if (node.enum !== undefined) out.enum = [...node.enum];
  if (node.items !== undefined) out.items = renderNode(node.items, dialect);
  if (node.additionalProperties !== undefined) {
    out.additionalProperties = renderNode(node.additionalProperties, dialect);
  }
  if (node.properties !== undefined) {
    const props: JsonObject = {};
    for (const key of Object.keys(node.properties).sort())
      props[key] = renderNode(node.properties[key]!, dialect);
    out.properties = props;
  }
  if (node.required !== undefined && node.required.length > 0) out.required = [...node.required];
  // A node with no type at all already admits any JSON; say so for readers that prune.
  if (node.type === undefined && node.preserveUnknownFields === true && dialect === 'v3') {
    out['x-kubernetes-preserve-unknown-fields'] = true;
  }
}

/** Renders a top-level definition, with its group/version/kinds. */
export function renderDefinition(def: DefinitionSchema, dialect: Dialect): JsonObject {
  const out: JsonObject = {};
  if (def.ref !== undefined) {
    if (dialect === 'v3') out.allOf = [{ $ref: refTo(dialect, def.ref) }];
    else out.$ref = refTo(dialect, def.ref);
  } else {
    renderBody(def, dialect, out);
  }
  extensions(def, out);
  if (def.gvk !== undefined && def.gvk.length > 0) {
    out['x-kubernetes-group-version-kind'] = def.gvk.map((g) => ({
      group: g.group,
      kind: g.kind,
      version: g.version,
    }));
  }
  return out;
}

function collectRefs(node: SchemaNode, into: string[]): void {
  if (node.ref !== undefined) into.push(node.ref);
  if (node.items !== undefined) collectRefs(node.items, into);
  if (node.additionalProperties !== undefined) collectRefs(node.additionalProperties, into);
  if (node.properties !== undefined) for (const p of Object.values(node.properties)) collectRefs(p, into);
}

const closureCache = new Map<string, readonly string[]>();

// The definitions one definition reaches, itself included; memoised per root because every
// group/version document starts from the same meta types.
function reach(name: string): readonly string[] {
  const cached = closureCache.get(name);
  if (cached !== undefined) return cached;
  const seen = new Set<string>();
  const stack = [name];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    const def = getDefinition(n);
    if (def === undefined) continue;
    seen.add(n);
    const refs: string[] = [];
    collectRefs(def, refs);
    for (const r of refs) if (!seen.has(r)) stack.push(r);
  }
  const out = [...seen];
  closureCache.set(name, out);
  return out;
}

/** The transitive closure of definitions reachable from `roots`, sorted by name. */
export function definitionClosure(roots: Iterable<string>): string[] {
  const all = new Set<string>();
  for (const r of roots) for (const n of reach(r)) all.add(n);
  return [...all].sort();
}

/** Renders the named definitions as a name → schema object, in the given order. */
export function renderDefinitions(names: readonly string[], dialect: Dialect): JsonObject {
  const out: JsonObject = {};
  for (const n of names) {
    const def = getDefinition(n);
    if (def !== undefined) out[n] = renderDefinition(def, dialect);
  }
  return out;
}
