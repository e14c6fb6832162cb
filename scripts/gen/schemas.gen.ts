// Generates src/api/generated/schemas.ts: every definition of the upstream OpenAPI v2
// document as a DefinitionSchema (src/api/schema-types.ts), keyed by its fully qualified
// name. Only structure and the Kubernetes extensions are kept (no descriptions). The file is
// imported at runtime by the API server, so it is written compactly: one definition per line.
//
// Flags the document does not state directly:
// - `quantity` and `intOrString` sit on the Quantity / IntOrString definitions; references
//   to them stay plain `ref` nodes (consumers resolve refs).
// - `preserveUnknownFields` marks the free-form definitions (RawExtension, FieldsV1, Patch,
//   apiextensions JSON and the JSONSchemaPropsOr* unions) and any node upstream marks with
//   x-kubernetes-preserve-unknown-fields.
// - `enum` comes from upstream's "Possible enum values" description lines and, where the v2
//   document lacks them, from the `enum` keys of the OpenAPI v3 samples.
import type { DefinitionSchema, GroupVersionKind, SchemaNode } from '../../src/api/schema-types.js';
import { GENERATED_HEADER, type GeneratedFile, type GenContext } from './context.js';
import {
  type EnumFacts,
  enumFromDescription,
  INT_OR_STRING,
  isFreeForm,
  loadSwagger,
  loadV3Enums,
  QUANTITY,
  refName,
  type SwaggerNode,
} from './openapi-model.js';

/** Path of the generated schema table, relative to the repository root. */
export const SCHEMAS_PATH = 'src/api/generated/schemas.ts';

const SCHEMA_TYPES = new Set(['object', 'array', 'string', 'integer', 'number', 'boolean']);
const LIST_TYPES = new Set(['atomic', 'set', 'map']);
const MAP_TYPES = new Set(['atomic', 'granular']);

/** Converts one v2 node (recursively) into the table's node shape, in a fixed key order. */
export function convertNode(node: SwaggerNode): SchemaNode {
  const out: SchemaNode = {};
  if (node.type !== undefined && SCHEMA_TYPES.has(node.type)) out.type = node.type as SchemaNode['type'];
  if (node.format !== undefined) out.format = node.format;
  if (node.$ref !== undefined) out.ref = refName(node.$ref);
  if (node.items !== undefined) out.items = convertNode(node.items);
  if (typeof node.additionalProperties === 'object') {
    out.additionalProperties = convertNode(node.additionalProperties);
  } else if (node.additionalProperties === true) {
    out.additionalProperties = { preserveUnknownFields: true };
  }
  if (node.properties !== undefined) {
    const props: Record<string, SchemaNode> = {};
    for (const [k, v] of Object.entries(node.properties)) props[k] = convertNode(v);
    out.properties = props;
  }
  if (node.required !== undefined && node.required.length > 0) out.required = [...node.required];
  const values = enumFromDescription(node.description);
  if (values !== undefined) {
    if (node.type === 'array' && out.items !== undefined) out.items.enum = values;
    else out.enum = values;
  } else if (Array.isArray(node.enum)) {
    const literal = node.enum.filter((v): v is string => typeof v === 'string');
    if (literal.length > 0) out.enum = [...new Set(literal)];
  }
  const ps = node['x-kubernetes-patch-strategy'];
  if (ps !== undefined) out.patchStrategy = ps;
  const pk = node['x-kubernetes-patch-merge-key'];
  if (pk !== undefined) out.patchMergeKey = pk;
  const lt = node['x-kubernetes-list-type'];
  if (lt !== undefined && LIST_TYPES.has(lt)) out.listType = lt as SchemaNode['listType'];
  const lk = node['x-kubernetes-list-map-keys'];
  if (lk !== undefined) out.listMapKeys = [...lk];
  const mt = node['x-kubernetes-map-type'];
  if (mt !== undefined && MAP_TYPES.has(mt)) out.mapType = mt as SchemaNode['mapType'];
  if (node.format === 'int-or-string') out.intOrString = true;
  if (node['x-kubernetes-preserve-unknown-fields'] === true) out.preserveUnknownFields = true;
  if (node['x-kubernetes-embedded-resource'] === true) out.embeddedResource = true;
  return out;
}

/** Applies enum facts from the v3 samples to properties that have no enum yet. */
function applyEnumFacts(name: string, def: DefinitionSchema, facts: EnumFacts): void {
  const props = facts.get(name);
  if (props === undefined || def.properties === undefined) return;
  for (const [prop, fact] of props) {
    const node = def.properties[prop];
    if (node === undefined) continue;
    if (fact.values !== undefined && node.enum === undefined && node.type === 'string')
      node.enum = fact.values;
    if (fact.itemValues !== undefined && node.items !== undefined && node.items.enum === undefined) {
      node.items.enum = fact.itemValues;
    }
  }
}

/** Builds the DefinitionSchema of one named definition. */
export function convertDefinition(name: string, node: SwaggerNode, facts: EnumFacts): DefinitionSchema {
  const def: DefinitionSchema = { name, ...convertNode(node) };
  if (name === QUANTITY) def.quantity = true;
  if (name === INT_OR_STRING) def.intOrString = true;
  if (isFreeForm(name)) def.preserveUnknownFields = true;
  const gvks = node['x-kubernetes-group-version-kind'];
  if (gvks !== undefined && gvks.length > 0) {
    def.gvk = gvks.map((g): GroupVersionKind => ({ group: g.group, version: g.version, kind: g.kind }));
  }
  applyEnumFacts(name, def, facts);
  return def;
}

/** Emits the schema table. */
export function generate(ctx: GenContext): GeneratedFile[] {
  const doc = loadSwagger(ctx);
  const facts = loadV3Enums(ctx);
  const lines: string[] = [];
  for (const name of Object.keys(doc.definitions).sort()) {
    const def = convertDefinition(name, doc.definitions[name]!, facts);
    lines.push(`${JSON.stringify(name)}:${JSON.stringify(def)},`);
  }
  const content =
    `${GENERATED_HEADER}// The schema of every upstream API definition (see src/api/schema-types.ts).\n` +
    `import type { DefinitionSchema } from '../schema-types.js';\n\n` +
    `/** Every definition of the upstream OpenAPI document, keyed by its fully qualified name. */\n` +
    `export const definitions: Record<string, DefinitionSchema> = {\n${lines.join('\n')}\n};\n`;
  return [{ path: SCHEMAS_PATH, content }];
}
