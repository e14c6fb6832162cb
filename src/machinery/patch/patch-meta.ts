// Where strategic merge finds its per-field metadata (upstream's LookupPatchMeta). The engines
// walk a schema node alongside the document: a struct field's node carries the field's
// patchStrategy/patchMergeKey, its resolved definition carries the fields below it; a map
// (additionalProperties) hands every key the value schema; a list hands its items schema.
//
// Upstream's struct-based lookup fails on a field it does not know; here an unknown field, a
// free-form value or an absent schema simply has no metadata, so maps below it merge like a
// JSON merge patch and lists below it are replaced.
import { resolveNode } from '../../api/schema.js';
import type { SchemaNode } from '../../api/schema-types.js';
import { errOther } from './patch-errors.js';

/** Follows a `ref` node to its definition; undefined when it cannot be resolved. */
export type SchemaResolver = (node: SchemaNode) => SchemaNode | undefined;

/** The schema a strategic merge engine walks: a root node and how to follow refs. */
export interface PatchSchema {
  root: SchemaNode | undefined;
  resolve: SchemaResolver;
}

/** Patch metadata of one field plus the schema below it. */
export interface FieldPatchMeta {
  sub: PatchMeta;
  /** x-kubernetes-patch-strategy split on commas (empty when absent). */
  strategies: string[];
  /** x-kubernetes-patch-merge-key ('' when absent). */
  mergeKey: string;
}

/** A position in the schema, as the engines walk it. */
export class PatchMeta {
  private readonly node: SchemaNode | undefined;
  private readonly resolve: SchemaResolver;

  constructor(node: SchemaNode | undefined, resolve: SchemaResolver) {
    this.node = node === undefined ? undefined : resolve(node);
    this.resolve = resolve;
  }

  /** A walker for a whole document. */
  static of(schema: PatchSchema | undefined): PatchMeta {
    return new PatchMeta(schema?.root, schema?.resolve ?? ((n) => n));
  }

  /** The field node for `key`, unresolved (it carries the field's own patch metadata). */
  private field(key: string): SchemaNode | undefined {
    const n = this.node;
    if (n === undefined || n.preserveUnknownFields === true) return undefined;
    if (n.properties !== undefined && Object.hasOwn(n.properties, key)) return n.properties[key];
    return n.additionalProperties;
  }

  /** Metadata for a map-valued field (upstream LookupPatchMetadataForStruct). */
  forStruct(key: string): FieldPatchMeta {
    const f = this.field(key);
    return {
      sub: new PatchMeta(f, this.resolve),
      strategies: splitStrategies(f?.patchStrategy),
      mergeKey: f?.patchMergeKey ?? '',
    };
  }

  /** Metadata for a list-valued field; the sub-schema is that of the list's items. */
  forSlice(key: string): FieldPatchMeta {
    const f = this.field(key);
    const resolved = f === undefined ? undefined : this.resolve(f);
    // A list field without `items` (a ref to a struct used as a list) describes its elements.
    const items = f?.items ?? resolved?.items ?? f;
    return {
      sub: new PatchMeta(items, this.resolve),
      strategies: splitStrategies(f?.patchStrategy),
      mergeKey: f?.patchMergeKey ?? '',
    };
  }

  /** Upstream's Name() of a struct-based schema, used in one error message. */
  name(): string {
    return 'struct';
  }
}

function splitStrategies(s: string | undefined): string[] {
  return s === undefined || s === '' ? [] : s.split(',');
}

/**
 * Splits the strategies into (retainKeys?, the other strategy) as upstream's
 * extractRetainKeysPatchStrategy does.
 */
export function extractRetainKeysPatchStrategy(strategies: readonly string[]): [boolean, string] {
  switch (strategies.length) {
    case 0:
      return [false, ''];
    case 1:
      return strategies[0] === 'retainKeys' ? [true, ''] : [false, strategies[0] ?? ''];
    case 2:
      if (strategies[0] === 'retainKeys') return [true, strategies[1] ?? ''];
      if (strategies[1] === 'retainKeys') return [true, strategies[0] ?? ''];
      break;
  }
  throw errOther(`unexpected patch strategy: [${strategies.join(' ')}]`);
}

/** The PatchSchema of a definition of the generated schema table (refs resolved through it). */
export function builtinPatchSchema(root: SchemaNode | undefined): PatchSchema {
  return { root, resolve: resolveNode };
}
