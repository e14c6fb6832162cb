// The shape of the generated schema table (src/api/generated/schemas.ts), written by
// `npm run gen` from the upstream OpenAPI document. Validation, defaulting, the patch
// engines and the OpenAPI endpoints all read this one table, so its shape is a contract.

/** Group, version and kind of an API type. */
export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

/** One schema node: a definition, a property, an array item or a map value. */
export interface SchemaNode {
  /** JSON type; absent for `ref` nodes and for free-form values (any JSON). */
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  /** OpenAPI format: int32, int64, double, byte, date-time, int-or-string, … */
  format?: string;
  /** Name of another definition in the table, e.g. `io.k8s.api.core.v1.PodSpec`. */
  ref?: string;
  /** Element schema of an array. */
  items?: SchemaNode;
  /** Value schema of a map (object with arbitrary keys). */
  additionalProperties?: SchemaNode;
  /** Named properties of a struct. */
  properties?: Record<string, SchemaNode>;
  /** Required property names of a struct. */
  required?: string[];
  /** Allowed values (upstream's `+enum` types). */
  enum?: string[];
  /** x-kubernetes-patch-strategy: `merge`, `retainKeys`, `merge,retainKeys`, `replace`. */
  patchStrategy?: string;
  /** x-kubernetes-patch-merge-key. */
  patchMergeKey?: string;
  /** x-kubernetes-list-type. */
  listType?: 'atomic' | 'set' | 'map';
  /** x-kubernetes-list-map-keys. */
  listMapKeys?: string[];
  /** x-kubernetes-map-type (on maps and structs). */
  mapType?: 'atomic' | 'granular';
  /** The value is an IntOrString (JSON number or string). */
  intOrString?: true;
  /** The value is a resource.Quantity (string, or a JSON number on input). */
  quantity?: true;
  /** Any JSON is allowed below this node (RawExtension, JSON, FieldsV1, …). */
  preserveUnknownFields?: true;
  /** The value is a whole embedded object with apiVersion/kind/metadata. */
  embeddedResource?: true;
}

/** A top-level definition of the table. */
export interface DefinitionSchema extends SchemaNode {
  /** Fully qualified upstream definition name. */
  name: string;
  /** x-kubernetes-group-version-kind: the GVKs served with this schema. */
  gvk?: GroupVersionKind[];
}
