// Compiles schema-table nodes into a flat, precomputed form for the structural validator.
// Validation runs on every write, so everything that does not depend on the object (Go type
// names for decode errors, property lookups, ref resolution) is computed once per schema node
// and cached; the walk in schema-validate.ts then only reads these records.
import type { DefinitionSchema, SchemaNode } from '../schema-types.js';

/** What a compiled node accepts. */
export enum NodeKind {
  /** Any JSON (free-form, preserve-unknown-fields, RawExtension). */
  Any = 0,
  String = 1,
  /** format: byte — a base64 string decoded into []byte. */
  Bytes = 2,
  /** metav1.Time / MicroTime — an RFC 3339 string. */
  DateTime = 3,
  Integer = 4,
  Number = 5,
  Boolean = 6,
  Struct = 7,
  Map = 8,
  Array = 9,
  IntOrString = 10,
  Quantity = 11,
}

/** A schema node prepared for the structural walk. */
export interface CompiledNode {
  kind: NodeKind;
  /** The Go type upstream's decoder names in `cannot unmarshal … of type T`. */
  goType: string;
  /** Struct nodes: Go struct name used as error context (`PodSpec`). */
  structName: string;
  /** Struct nodes: the known properties. */
  props: Map<string, CompiledNode> | undefined;
  /** Embedded-resource structs with unknown fields allowed besides apiVersion/kind/metadata. */
  openStruct: boolean;
  /** Array items or map values. */
  elem: CompiledNode | undefined;
  /** Integer nodes: the inclusive range upstream's Go type can hold. */
  min: number;
  max: number;
}

/** Finds a definition of the schema table by its fully qualified name. */
export type DefinitionLookup = (name: string) => DefinitionSchema | undefined;

const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
const TIME = 'io.k8s.apimachinery.pkg.apis.meta.v1.Time';
const MICRO_TIME = 'io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime';
const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
// Beyond 2^53 doubles are inexact anyway; ±2^63 is where Go's int64 parse fails.
const INT64_LIMIT = 2 ** 63;

const ANY: CompiledNode = leaf(NodeKind.Any, 'interface {}');

function leaf(kind: NodeKind, goType: string): CompiledNode {
  return {
    kind,
    goType,
    structName: '',
    props: undefined,
    openStruct: false,
    elem: undefined,
    min: 0,
    max: 0,
  };
}

/** `io.k8s.api.core.v1.PodSpec` → `v1.PodSpec` (package name + type, as Go's reflect prints). */
export function goTypeOfDefinition(name: string): string {
  const parts = name.split('.');
  const type = parts[parts.length - 1] ?? name;
  const pkg = parts[parts.length - 2];
  return pkg === undefined ? type : `${pkg}.${type}`;
}

/** Compiles nodes reachable from definitions; one compiler per lookup keeps caches coherent. */
export class SchemaCompiler {
  private readonly byDefinition = new Map<string, CompiledNode>();
  private readonly byNode = new WeakMap<SchemaNode, CompiledNode>();

  constructor(private readonly lookup: DefinitionLookup) {}

  /** The compiled form of a top-level definition. */
  definition(def: DefinitionSchema): CompiledNode {
    const hit = this.byDefinition.get(def.name);
    if (hit !== undefined) return hit;
    return this.compileDefinition(def.name, def);
  }

  /** The compiled form of any node (inline or ref). */
  node(node: SchemaNode): CompiledNode {
    const hit = this.byNode.get(node);
    if (hit !== undefined) return hit;
    let out: CompiledNode;
    if (node.ref !== undefined) {
      out = this.ref(node.ref);
    } else {
      out = this.compileInline(node, undefined);
    }
    this.byNode.set(node, out);
    return out;
  }

  private ref(name: string): CompiledNode {
    const hit = this.byDefinition.get(name);
    if (hit !== undefined) return hit;
    const special = specialDefinition(name);
    if (special !== undefined) {
      this.byDefinition.set(name, special);
      return special;
    }
    const def = this.lookup(name);
    if (def === undefined) {
      // An unknown ref is a table bug; accepting anything keeps writes working.
      this.byDefinition.set(name, ANY);
      return ANY;
    }
    return this.compileDefinition(name, def);
  }

  private compileDefinition(name: string, def: SchemaNode): CompiledNode {
    const special = specialDefinition(name) ?? specialNode(def);
    if (special !== undefined) {
      this.byDefinition.set(name, special);
      return special;
    }
    if (def.ref !== undefined) {
      const target = this.ref(def.ref);
      this.byDefinition.set(name, target);
      return target;
    }
    return this.compileInline(def, name);
  }

  private compileInline(node: SchemaNode, defName: string | undefined): CompiledNode {
    const special = specialNode(node);
    if (special !== undefined) return special;
    if (node.preserveUnknownFields === true && node.embeddedResource !== true) return ANY;
    switch (node.type) {
      case 'string':
        if (node.format === 'byte') return leaf(NodeKind.Bytes, '[]uint8');
        if (node.format === 'date-time') return leaf(NodeKind.DateTime, 'string');
        return leaf(NodeKind.String, 'string');
      case 'boolean':
        return leaf(NodeKind.Boolean, 'bool');
      case 'number':
        return leaf(NodeKind.Number, node.format === 'float' ? 'float32' : 'float64');
      case 'integer': {
        const int32 = node.format === 'int32';
        const out = leaf(NodeKind.Integer, int32 ? 'int32' : node.format === 'int64' ? 'int64' : 'int');
        out.min = int32 ? INT32_MIN : -INT64_LIMIT;
        out.max = int32 ? INT32_MAX : INT64_LIMIT;
        return out;
      }
      case 'array': {
        const out = leaf(NodeKind.Array, '');
        this.remember(node, defName, out);
        out.elem = node.items === undefined ? ANY : this.node(node.items);
        out.goType = `[]${out.elem.goType}`;
        return out;
      }
      case 'object':
      case undefined:
        return this.compileObject(node, defName);
      default:
        return ANY;
    }
  }

  private compileObject(node: SchemaNode, defName: string | undefined): CompiledNode {
    if (node.properties !== undefined) {
      const out = leaf(NodeKind.Struct, defName !== undefined ? goTypeOfDefinition(defName) : 'struct');
      out.structName = defName !== undefined ? out.goType.slice(out.goType.indexOf('.') + 1) : '';
      out.openStruct = node.preserveUnknownFields === true;
      this.remember(node, defName, out);
      const props = new Map<string, CompiledNode>();
      out.props = props;
      for (const [key, child] of Object.entries(node.properties)) props.set(key, this.node(child));
      if (node.embeddedResource === true && !props.has('metadata')) {
        const meta = this.lookup(OBJECT_META);
        if (meta !== undefined) props.set('metadata', this.definition(meta));
      }
      return out;
    }
    if (node.additionalProperties !== undefined) {
      const out = leaf(NodeKind.Map, '');
      this.remember(node, defName, out);
      out.elem = this.node(node.additionalProperties);
      // Resource lists are the one common named map type in the core API.
      out.goType = out.elem.kind === NodeKind.Quantity ? 'v1.ResourceList' : `map[string]${out.elem.goType}`;
      return out;
    }
    if (node.embeddedResource === true) {
      const out = leaf(NodeKind.Struct, 'struct');
      out.openStruct = true;
      const props = new Map<string, CompiledNode>();
      const meta = this.lookup(OBJECT_META);
      if (meta !== undefined) props.set('metadata', this.definition(meta));
      out.props = props;
      return out;
    }
    return ANY;
  }

  // Recursive definitions (JSONSchemaProps) must find themselves while being compiled.
  private remember(node: SchemaNode, defName: string | undefined, out: CompiledNode): void {
    if (defName !== undefined) this.byDefinition.set(defName, out);
    this.byNode.set(node, out);
  }
}

function specialDefinition(name: string): CompiledNode | undefined {
  switch (name) {
    case QUANTITY:
      return leaf(NodeKind.Quantity, 'resource.Quantity');
    case INT_OR_STRING:
      return intOrString();
    case TIME:
    case MICRO_TIME:
      return leaf(NodeKind.DateTime, 'string');
    default:
      return undefined;
  }
}

function specialNode(node: SchemaNode): CompiledNode | undefined {
  if (node.quantity === true) return leaf(NodeKind.Quantity, 'resource.Quantity');
  if (node.intOrString === true || node.format === 'int-or-string') return intOrString();
  return undefined;
}

function intOrString(): CompiledNode {
  // IntOrString decodes its number form into an int32 field, so range errors name int32.
  const out = leaf(NodeKind.IntOrString, 'int32');
  out.min = INT32_MIN;
  out.max = INT32_MAX;
  return out;
}
