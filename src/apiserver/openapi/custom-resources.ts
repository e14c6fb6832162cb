// OpenAPI for custom resources, as upstream's apiextensions OpenAPI controllers publish it:
// per served CRD version a definition named `<reversed group>.<version>.<Kind>` (the CRD's
// own schema with its descriptions, so `kubectl explain` shows them; metadata a reference to
// ObjectMeta; apiVersion/kind added to embedded resources) and one for `<Kind>List`, both
// carrying x-kubernetes-group-version-kind, plus the routes of the resource. v3 keeps the
// schema as written (value validations, nullable, x-kubernetes extensions); v2 is reduced
// as upstream's ToStructuralOpenAPIV2 does (no allOf/anyOf/oneOf/not, nullable and
// preserve-unknown-fields nodes lose their type and structure) so that kubectl's client-side
// validation never rejects what the server accepts.
import type { JSONSchemaProps } from '../../api/generated/types/apiextensions-v1.js';
import type { ServedCustomResource } from '../../apiextensions/registry.js';
import { META, type Route, resourceRoutes } from './routes.js';
import { type Dialect, type JsonObject, refTo } from './schema-json.js';

const OBJECT_META = `${META}.ObjectMeta`;
const LIST_META = `${META}.ListMeta`;

const API_VERSION_DOC =
  'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources';
const KIND_DOC =
  'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds';
const METADATA_DOC =
  "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";
const LIST_METADATA_DOC =
  'Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds';

/** The list definition's name for a custom kind's definition name. */
export function listDefinitionName(definition: string, listKind: string): string {
  return `${definition.slice(0, definition.lastIndexOf('.') + 1)}${listKind}`;
}

function ref(dialect: Dialect, name: string, description: string): JsonObject {
  return dialect === 'v3'
    ? { allOf: [{ $ref: refTo('v3', name) }], description }
    : { $ref: refTo('v2', name), description };
}

const COPIED_KEYS = [
  'description',
  'type',
  'format',
  'title',
  'default',
  'example',
  'externalDocs',
  'maximum',
  'exclusiveMaximum',
  'minimum',
  'exclusiveMinimum',
  'maxLength',
  'minLength',
  'pattern',
  'maxItems',
  'minItems',
  'uniqueItems',
  'multipleOf',
  'enum',
  'maxProperties',
  'minProperties',
  'required',
  'nullable',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-embedded-resource',
  'x-kubernetes-int-or-string',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-list-type',
  'x-kubernetes-map-type',
  'x-kubernetes-validations',
] as const;

const JUNCTORS = ['allOf', 'anyOf', 'oneOf'] as const;

/** One schema node of a CRD in the given dialect (v2 reduced as ToStructuralOpenAPIV2 does). */
export function renderCustomSchema(s: JSONSchemaProps, dialect: Dialect): JsonObject {
  const out: JsonObject = {};
  const src = s as Record<string, unknown>;
  for (const k of COPIED_KEYS) if (src[k] !== undefined) out[k] = structuredClone(src[k]);
  if (s.properties !== undefined) {
    const props: JsonObject = {};
    for (const k of Object.keys(s.properties).sort())
      props[k] = renderCustomSchema(s.properties[k]!, dialect);
    out.properties = props;
  }
  if (s.items !== undefined && !Array.isArray(s.items)) out.items = renderCustomSchema(s.items, dialect);
  if (s.additionalProperties !== undefined) {
    out.additionalProperties =
      typeof s.additionalProperties === 'boolean'
        ? s.additionalProperties
        : renderCustomSchema(s.additionalProperties, dialect);
  }
  if (dialect === 'v3') {
    for (const j of JUNCTORS) {
      const list = s[j];
      if (list !== undefined) out[j] = list.map((x) => renderCustomSchema(x, dialect));
    }
    if (s.not !== undefined) out.not = renderCustomSchema(s.not, dialect);
  }
  if (s['x-kubernetes-embedded-resource'] === true) addTypeAndObjectMeta(out, dialect, true);
  return dialect === 'v2' ? reduceForV2(out) : out;
}

function addTypeAndObjectMeta(out: JsonObject, dialect: Dialect, requireTypeMeta: boolean): void {
  const props = (out.properties as JsonObject | undefined) ?? {};
  props.apiVersion = { description: API_VERSION_DOC, type: 'string' };
  props.kind = { description: KIND_DOC, type: 'string' };
  props.metadata = ref(dialect, OBJECT_META, METADATA_DOC);
  const sorted: JsonObject = {};
  for (const k of Object.keys(props).sort()) sorted[k] = props[k];
  out.properties = sorted;
  if (requireTypeMeta) {
    const req = new Set((out.required as string[] | undefined) ?? []);
    const add = ['kind', 'apiVersion'].filter((k) => !req.has(k));
    out.required = [...((out.required as string[] | undefined) ?? []), ...add];
  }
}

// openapiv2.ToStructuralOpenAPIV2 on one (already converted) node.
function reduceForV2(out: JsonObject): JsonObject {
  if (out.nullable === true) {
    delete out.type;
    delete out.items;
    delete out.properties;
  }
  delete out.nullable;
  if (out['x-kubernetes-preserve-unknown-fields'] === true) {
    delete out.items;
    delete out.properties;
    if (out.type === 'object') delete out.type;
  }
  if (out.type === 'array' && out.items === undefined) delete out.type;
  return out;
}

/** The definitions (name → schema) one served custom resource version contributes. */
export function customResourceDefinitions(e: ServedCustomResource, dialect: Dialect): JsonObject {
  const { info } = e;
  const schema = e.crd.spec.versions.find((v) => v.name === e.version)?.schema?.openAPIV3Schema;
  let root: JsonObject;
  if (schema === undefined || (dialect === 'v2' && schema['x-kubernetes-preserve-unknown-fields'] === true)) {
    // Upstream publishes a bare object here: anything more makes kubectl reject unknown fields.
    root = { type: 'object' };
  } else {
    root = renderCustomSchema(schema, dialect);
    addTypeAndObjectMeta(root, dialect, false);
  }
  const gvk = (kind: string): JsonObject[] => [{ group: info.group, kind, version: info.version }];
  root['x-kubernetes-group-version-kind'] = gvk(info.kind);
  const selectable = e.crd.spec.versions.find((v) => v.name === e.version)?.selectableFields ?? [];
  if (selectable.length > 0) {
    root['x-kubernetes-selectable-fields'] = selectable.map((f) => ({
      fieldPath: f.jsonPath.replace(/^\./, ''),
    }));
  }
  const list: JsonObject = {
    description: `${info.listKind} is a list of ${info.kind}`,
    required: ['items'],
    properties: {
      apiVersion: { description: API_VERSION_DOC, type: 'string' },
      items: {
        description: `List of ${e.crd.spec.names.plural}. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md`,
        type: 'array',
        items:
          dialect === 'v3' ? { $ref: refTo('v3', info.definition) } : { $ref: refTo('v2', info.definition) },
      },
      kind: { description: KIND_DOC, type: 'string' },
      metadata: ref(dialect, LIST_META, LIST_METADATA_DOC),
    },
    type: 'object',
    'x-kubernetes-group-version-kind': gvk(info.listKind),
  };
  return {
    [info.definition]: root,
    [listDefinitionName(info.definition, info.listKind)]: list,
  };
}

/** The routes of the served custom resources of one group/version. */
export function customResourceRoutes(
  entries: readonly ServedCustomResource[],
  group: string,
  version: string,
): Route[] {
  const mine = entries.filter((e) => e.info.group === group && e.info.version === version);
  const names = new Map<string, string>();
  for (const e of mine) {
    names.set(`${e.info.kind}`, e.info.definition);
    names.set(`${e.info.listKind}`, listDefinitionName(e.info.definition, e.info.listKind));
  }
  return resourceRoutes(
    group,
    version,
    mine.map((e) => e.info),
    {
      definition: (gvk) => (gvk.group === group && gvk.version === version ? names.get(gvk.kind) : undefined),
      patchTypes: [
        'application/json-patch+json',
        'application/merge-patch+json',
        'application/apply-patch+yaml',
      ],
      deleteReturnsStatus: true,
    },
  );
}
