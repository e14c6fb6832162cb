// A compiled CRD schema as a SchemaNode tree (src/api/schema-types.ts), the shape server-side
// apply, the patch engines and OpenAPI publishing read. Only the structural part carries
// over (value validations such as anyOf do not describe structure). As upstream's apply
// models do, the root and every embedded resource get apiVersion/kind strings and metadata
// as ObjectMeta; that one `ref` resolves through the generated table.
import type { SchemaNode } from '../../api/schema-types.js';
import type { CSchema } from './compile.js';

/** The ObjectMeta definition every custom resource's metadata uses. */
export const OBJECT_META_DEFINITION = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

const SCALAR_TYPES = new Set(['string', 'integer', 'number', 'boolean']);

/** The SchemaNode of a whole custom resource (root gets TypeMeta and ObjectMeta). */
export function resourceSchemaNode(s: CSchema): SchemaNode {
  return withTypeMeta(toSchemaNode(s), true);
}

function withTypeMeta(node: SchemaNode, force: boolean): SchemaNode {
  if (!force) return node;
  const properties: Record<string, SchemaNode> = {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    ...(node.properties ?? {}),
    metadata: { ref: OBJECT_META_DEFINITION },
  };
  return { ...node, type: 'object', properties };
}

/** The SchemaNode of one schema node and everything below it. */
export function toSchemaNode(s: CSchema): SchemaNode {
  const n: SchemaNode = {};
  if (s.intOrString) {
    n.intOrString = true;
  } else if (s.type === 'object' || s.type === 'array' || SCALAR_TYPES.has(s.type)) {
    n.type = s.type as NonNullable<SchemaNode['type']>;
  }
  if (s.intOrString) n.format = 'int-or-string';
  else if (s.format !== '') n.format = s.format;
  if (s.properties !== undefined && s.properties.size > 0) {
    const props: Record<string, SchemaNode> = {};
    for (const [k, v] of s.properties) props[k] = toSchemaNode(v);
    n.properties = props;
  }
  if (typeof s.additionalProperties === 'object')
    n.additionalProperties = toSchemaNode(s.additionalProperties);
  else if (s.additionalProperties === true) n.additionalProperties = {};
  if (s.items !== undefined) n.items = toSchemaNode(s.items);
  if (s.required.length > 0) n.required = [...s.required];
  if (s.enum !== undefined && s.enum.length > 0 && s.enum.every((e) => typeof e === 'string')) {
    n.enum = s.enum as string[];
  }
  if (s.listType === 'atomic' || s.listType === 'set' || s.listType === 'map') n.listType = s.listType;
  if (s.listMapKeys !== undefined && s.listMapKeys.length > 0) n.listMapKeys = [...s.listMapKeys];
  if (s.mapType === 'atomic' || s.mapType === 'granular') n.mapType = s.mapType;
  if (s.preserveUnknownFields) n.preserveUnknownFields = true;
  if (s.embeddedResource) {
    n.embeddedResource = true;
    return withTypeMeta(n, true);
  }
  return n;
}
