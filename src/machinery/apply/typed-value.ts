// Objects walked together with their schema, as structured-merge-diff's typed package does:
// the set of fields an object sets (ToFieldSet), the fields that differ between two versions
// (Compare), an applied configuration merged onto a live object (Merge) and fields removed
// from an object (RemoveItems). Each walk visits every value once and looks children up by
// key, so its cost is linear in the size of the objects.
//
// Schemas come from the project's schema table through an injected resolver. A node the
// table does not describe (no schema, free-form, preserve-unknown-fields) is "deduced" as
// upstream does for untyped content: maps are granular and lists atomic.
import type { SchemaNode } from '../../api/schema-types.js';
import { FieldSet } from './field-set.js';
import {
  fieldElement,
  keyElement,
  type PathElement,
  serializePathElement,
  valueElement,
} from './path-element.js';

/** Follows `ref`s to the node they name (undefined when the name is unknown). */
export type SchemaResolver = (node: SchemaNode) => SchemaNode | undefined;

/** How a schema node behaves for apply; `undefined` schema means deduced. */
export type TypeInfo =
  | { kind: 'scalar' }
  | { kind: 'deduced' }
  | { kind: 'list'; rel: 'atomic' | 'set' | 'map'; keys: readonly string[]; item: SchemaNode | undefined }
  | {
      kind: 'map';
      atomic: boolean;
      props: Readonly<Record<string, SchemaNode>> | undefined;
      elem: SchemaNode | undefined;
    };

/** A resolver plus the per-node classification cache; one per schema table. */
export class TypeContext {
  private readonly cache = new WeakMap<SchemaNode, TypeInfo>();

  /** Wraps a ref resolver (e.g. `resolveNode` from src/api/schema.ts). */
  constructor(readonly resolve: SchemaResolver) {}

  /** The behaviour of `node` (cached). */
  info(node: SchemaNode | undefined): TypeInfo {
    if (node === undefined) return DEDUCED;
    let t = this.cache.get(node);
    if (t === undefined) {
      t = this.classify(node);
      this.cache.set(node, t);
    }
    return t;
  }

  private classify(node: SchemaNode): TypeInfo {
    const def = node.ref !== undefined ? this.resolve(node) : node;
    if (def === undefined) return DEDUCED;
    // annotations may sit on the property node (list types, patch strategy) or on the
    // definition it references (map type of LabelSelector)
    const type = node.type ?? def.type;
    if (type === 'array' || def.items !== undefined) {
      const listType = node.listType ?? def.listType;
      const strategy = node.patchStrategy ?? def.patchStrategy;
      const mergeKey = node.patchMergeKey ?? def.patchMergeKey;
      const item = node.items ?? def.items;
      if (listType === 'map')
        return { kind: 'list', rel: 'map', keys: node.listMapKeys ?? def.listMapKeys ?? [], item };
      if (listType === 'set') return { kind: 'list', rel: 'set', keys: [], item };
      if (listType === undefined && strategy?.split(',').includes('merge') === true) {
        if (mergeKey !== undefined) return { kind: 'list', rel: 'map', keys: [mergeKey], item };
        return { kind: 'list', rel: 'set', keys: [], item };
      }
      return { kind: 'list', rel: 'atomic', keys: [], item };
    }
    if (def.intOrString === true || def.quantity === true) return SCALAR;
    if (type === 'string' || type === 'integer' || type === 'number' || type === 'boolean') return SCALAR;
    const props = def.properties;
    const elem = def.additionalProperties;
    if (props === undefined && elem === undefined) return DEDUCED;
    const atomic = (node.mapType ?? def.mapType) === 'atomic';
    return { kind: 'map', atomic, props, elem };
  }

  /** The schema of field `key` of a map/struct node; undefined means deduced. */
  fieldSchema(t: TypeInfo, key: string): SchemaNode | undefined {
    if (t.kind !== 'map') return undefined;
    if (t.props !== undefined && Object.hasOwn(t.props, key)) return t.props[key];
    return t.elem;
  }

  /** True when `key` is a declared (named) field of a struct node. */
  isNamedField(t: TypeInfo, key: string): boolean {
    return t.kind === 'map' && t.props !== undefined && Object.hasOwn(t.props, key);
  }

  /** The path element of an item of a non-atomic list; throws for items it cannot key. */
  itemElement(t: TypeInfo & { kind: 'list' }, item: unknown): PathElement {
    if (t.rel === 'map' && t.keys.length > 0) {
      if (!isMap(item)) throw new Error('associative list with keys may not have non-map elements');
      const fields: Array<[string, unknown]> = [];
      for (const k of t.keys) {
        if (Object.hasOwn(item, k)) fields.push([k, item[k]]);
        else {
          const d = this.keyDefault(t, k);
          if (d !== undefined) fields.push([k, d]);
        }
      }
      if (fields.length === 0) {
        throw new Error(
          `associative list with keys has an element that omits all key fields ${JSON.stringify(t.keys)} (and doesn't have default values for any key fields)`,
        );
      }
      return keyElement(fields);
    }
    if (isMap(item)) throw new Error("associative list without keys has an element that's a map type");
    if (Array.isArray(item)) throw new Error('not supported: associative list with lists as elements');
    if (item === null)
      throw new Error("associative list without keys has an element that's an explicit null");
    return valueElement(item);
  }

  private keyDefault(t: TypeInfo & { kind: 'list' }, key: string): unknown {
    const it = this.info(t.item);
    const prop = it.kind === 'map' ? it.props?.[key] : undefined;
    if (prop === undefined) return undefined;
    if ('default' in prop) return (prop as { default?: unknown }).default;
    // upstream's OpenAPI v3 documents `protocol` (ContainerPort, ServicePort, …) with
    // default TCP; the v2-derived table carries no defaults.
    return key === 'protocol' ? 'TCP' : undefined;
  }
}

const DEDUCED: TypeInfo = { kind: 'deduced' };
const SCALAR: TypeInfo = { kind: 'scalar' };
const DEDUCED_MAP: TypeInfo = { kind: 'map', atomic: false, props: undefined, elem: undefined };
const DEDUCED_LIST: TypeInfo = { kind: 'list', rel: 'atomic', keys: [], item: undefined };

/** True for a JSON object (not null, not an array). */
export function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Marks a map or list whose every entry was removed (upstream turns it into null). */
export const EMPTIED: unique symbol = Symbol('emptied');

// The effective type for a value: deduced schemas take the value's own shape.
function effective(t: TypeInfo, v: unknown): TypeInfo {
  if (t.kind !== 'deduced') return t;
  // upstream tries the map form first for values that have no shape of their own (null)
  if (isMap(v) || v === null || v === EMPTIED) return DEDUCED_MAP;
  if (Array.isArray(v)) return DEDUCED_LIST;
  return SCALAR;
}

function isEmptyContainer(v: unknown): boolean {
  if (v === undefined || v === null || v === EMPTIED) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (isMap(v)) {
    for (const _ in v) return false;
    return true;
  }
  return false;
}

/** Deep equality of JSON values (upstream value.Equals; EMPTIED equals null). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === EMPTIED) return b === null;
  if (b === EMPTIED) return a === null;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (isMap(a)) {
    if (!isMap(b)) return false;
    let n = 0;
    for (const k in a) {
      n++;
      if (!Object.hasOwn(b, k) || !jsonEqual(a[k], b[k])) return false;
    }
    for (const _ in b) n--;
    return n === 0;
  }
  return false;
}

/**
 * The set of fields `value` sets (upstream TypedValue.ToFieldSet): leaves, atomic lists and
 * maps, every list item, empty or null map values and keys of undeclared/granular maps.
 */
export function toFieldSet(ctx: TypeContext, value: unknown, node: SchemaNode | undefined): FieldSet {
  return walkFields(ctx, value, ctx.info(node)).children ?? new FieldSet();
}

function isAbsent(v: unknown): boolean {
  return v === null || v === undefined || v === EMPTIED;
}

interface FieldWalk {
  member: boolean;
  children: FieldSet | undefined;
}

const LEAF: FieldWalk = { member: true, children: undefined };
const NOTHING: FieldWalk = { member: false, children: undefined };

function walkFields(ctx: TypeContext, v: unknown, declared: TypeInfo): FieldWalk {
  const t = effective(declared, v);
  if (t.kind === 'scalar' || t.kind === 'deduced') return LEAF;
  if (t.kind === 'list') {
    if (t.rel === 'atomic') return LEAF;
    if (!Array.isArray(v)) return isAbsent(v) ? NOTHING : LEAF;
    const out = new FieldSet();
    const itemType = ctx.info(t.item);
    const seen = new Set<string>();
    const dups = new Set<string>();
    const pes: Array<[string, PathElement]> = [];
    for (const item of v) {
      const pe = ctx.itemElement(t, item);
      const key = serializePathElement(pe);
      if (seen.has(key)) dups.add(key);
      seen.add(key);
      pes.push([key, pe]);
    }
    for (let i = 0; i < v.length; i++) {
      const [key, pe] = pes[i]!;
      out.insertElement(pe, key);
      if (dups.has(key)) continue; // duplicated items are owned whole, as upstream
      const sub = walkFields(ctx, v[i], itemType);
      if (sub.children !== undefined) out.attachChild(pe, sub.children, key);
    }
    return { member: false, children: out };
  }
  if (t.atomic) return LEAF;
  if (!isMap(v)) return isAbsent(v) ? NOTHING : LEAF;
  const out = new FieldSet();
  for (const k in v) {
    const val = v[k];
    const pe = fieldElement(k);
    const key = `f:${k}`;
    const sub = walkFields(ctx, val, ctx.info(ctx.fieldSchema(t, k)));
    if (
      sub.member ||
      val === null ||
      val === EMPTIED ||
      (isMap(val) && isEmptyContainer(val)) ||
      !ctx.isNamedField(t, k)
    ) {
      out.insertElement(pe, key);
    }
    if (sub.children !== undefined) out.attachChild(pe, sub.children, key);
  }
  return { member: false, children: out };
}

/** Fields added, modified and removed between two versions of an object. */
export interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

/** Compares two versions (upstream TypedValue.Compare); `undefined` means absent. */
export function compare(
  ctx: TypeContext,
  lhs: unknown,
  rhs: unknown,
  node: SchemaNode | undefined,
): Comparison {
  const c: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  compareWalk(ctx, c, [], lhs, rhs, ctx.info(node));
  return c;
}

function compareLeaf(c: Comparison, path: PathElement[], l: unknown, r: unknown): void {
  if (l === undefined) c.added.insert(path);
  else if (r === undefined) c.removed.insert(path);
  else if (!jsonEqual(l, r)) c.modified.insert(path);
}

function compareWalk(
  ctx: TypeContext,
  c: Comparison,
  path: PathElement[],
  l: unknown,
  r: unknown,
  declared: TypeInfo,
): void {
  if (l === r) return; // a shared subtree cannot differ
  const tl = l === undefined ? undefined : effective(declared, l);
  const tr = r === undefined ? undefined : effective(declared, r);
  const t = tr ?? tl!;
  if (tl !== undefined && tr !== undefined && tl.kind !== tr.kind) {
    compareLeaf(c, path, l, r); // the value changed shape: the whole node changed
    return;
  }
  const bothEmpty = isEmptyContainer(l) && isEmptyContainer(r);
  if (t.kind === 'scalar' || t.kind === 'deduced' || bothEmpty || (t.kind === 'map' && t.atomic)) {
    compareLeaf(c, path, l, r);
    return;
  }
  if (t.kind === 'list') {
    if (t.rel === 'atomic') {
      compareLeaf(c, path, l, r);
      return;
    }
    compareListItems(ctx, c, path, Array.isArray(l) ? l : [], Array.isArray(r) ? r : [], t);
  } else {
    const lm = isMap(l) ? l : undefined;
    const rm = isMap(r) ? r : undefined;
    if (lm !== undefined) {
      for (const k in lm) {
        path.push(fieldElement(k));
        compareWalk(ctx, c, path, lm[k], rm?.[k], ctx.info(ctx.fieldSchema(t, k)));
        path.pop();
      }
    }
    if (rm !== undefined) {
      for (const k in rm) {
        if (lm !== undefined && Object.hasOwn(lm, k)) continue;
        path.push(fieldElement(k));
        compareWalk(ctx, c, path, undefined, rm[k], ctx.info(ctx.fieldSchema(t, k)));
        path.pop();
      }
    }
  }
  if (l === undefined) c.added.insert(path);
  else if (r === undefined) c.removed.insert(path);
}

function compareListItems(
  ctx: TypeContext,
  c: Comparison,
  path: PathElement[],
  l: unknown[],
  r: unknown[],
  t: TypeInfo & { kind: 'list' },
): void {
  const order: Array<[string, PathElement]> = [];
  const lv = new Map<string, unknown[]>();
  const rv = new Map<string, unknown[]>();
  for (const item of l) {
    const pe = ctx.itemElement(t, item);
    const k = serializePathElement(pe);
    const got = lv.get(k);
    if (got !== undefined) got.push(item);
    else {
      lv.set(k, [item]);
      order.push([k, pe]);
    }
  }
  for (const item of r) {
    const pe = ctx.itemElement(t, item);
    const k = serializePathElement(pe);
    const got = rv.get(k);
    if (got !== undefined) got.push(item);
    else {
      rv.set(k, [item]);
      if (!lv.has(k)) order.push([k, pe]);
    }
  }
  const itemType = ctx.info(t.item);
  for (const [k, pe] of order) {
    const ll = lv.get(k) ?? [];
    const rl = rv.get(k) ?? [];
    path.push(pe);
    if (ll.length <= 1 && rl.length <= 1) {
      compareWalk(ctx, c, path, ll[0], rl[0], itemType);
    } else if (ll.length >= 2 && rl.length >= 2) {
      if (!jsonEqual(ll, rl)) c.modified.insert(path);
    } else if (ll.length >= 2) {
      if (rl.length !== 0) compareWalk(ctx, c, path, undefined, rl[0], itemType);
      c.removed.insert(path);
    } else {
      if (ll.length !== 0) compareWalk(ctx, c, path, ll[0], undefined, itemType);
      c.added.insert(path);
    }
    path.pop();
  }
}

/**
 * Merges an applied configuration onto a live value (upstream TypedValue.Merge with the
 * keep-right rule): the applied side wins at every leaf; granular maps merge by key,
 * associative lists by item key (in upstream's order), atomic values are replaced whole.
 */
export function merge(ctx: TypeContext, lhs: unknown, rhs: unknown, node: SchemaNode | undefined): unknown {
  return mergeWalk(ctx, lhs, rhs, ctx.info(node));
}

function mergeWalk(ctx: TypeContext, l: unknown, r: unknown, declared: TypeInfo): unknown {
  if (r === undefined) return l;
  if (l === undefined) return r;
  const tl = effective(declared, l);
  const t = effective(declared, r);
  if (tl.kind !== t.kind || (isEmptyContainer(l) && isEmptyContainer(r))) return r;
  if (t.kind === 'scalar' || t.kind === 'deduced') return r;
  if (t.kind === 'map') {
    if (t.atomic || !isMap(r)) return r;
    const lm = isMap(l) ? l : {};
    const out: Record<string, unknown> = {};
    for (const k in lm)
      out[k] = Object.hasOwn(r, k) ? mergeWalk(ctx, lm[k], r[k], ctx.info(ctx.fieldSchema(t, k))) : lm[k];
    for (const k in r) {
      if (Object.hasOwn(lm, k)) continue;
      out[k] = r[k];
    }
    return out;
  }
  if (t.rel === 'atomic' || !Array.isArray(r)) return r;
  return mergeList(ctx, Array.isArray(l) ? l : [], r, t);
}

function mergeList(ctx: TypeContext, l: unknown[], r: unknown[], t: TypeInfo & { kind: 'list' }): unknown {
  const itemType = ctx.info(t.item);
  const rk = r.map((item) => serializePathElement(ctx.itemElement(t, item)));
  const lk = l.map((item) => serializePathElement(ctx.itemElement(t, item)));
  const obsR = new Map<string, unknown>();
  for (let i = 0; i < r.length; i++) if (!obsR.has(rk[i]!)) obsR.set(rk[i]!, r[i]);
  const obsL = new Map<string, unknown>();
  const dupL = new Set<string>();
  for (let i = 0; i < l.length; i++) {
    if (obsL.has(lk[i]!)) dupL.add(lk[i]!);
    else obsL.set(lk[i]!, l[i]);
  }
  // duplicated live items are not merged with the applied value
  const lhsOf = (k: string): unknown => (dupL.has(k) ? undefined : obsL.get(k));
  const shared = rk.filter((k) => obsL.has(k));
  let sharedAt = 0;
  let nextShared: string | undefined = shared[sharedAt++];
  const advanceShared = (): void => {
    nextShared = shared[sharedAt++];
  };
  const mergedR = new Set<string>();
  const out: unknown[] = [];
  let li = 0;
  let ri = 0;
  while (li < l.length || ri < r.length) {
    if (li < l.length && ri < r.length) {
      const k = lk[li]!;
      if (k === rk[ri]) {
        mergedR.add(k);
        out.push(mergeWalk(ctx, lhsOf(k), obsR.get(k), itemType));
        li++;
        ri++;
        advanceShared();
        continue;
      }
      if (obsR.has(k) && nextShared !== undefined && nextShared !== k) {
        li++;
        continue;
      }
    }
    if (li < l.length) {
      const k = lk[li]!;
      if (!obsR.has(k)) {
        out.push(l[li]);
        li++;
        continue;
      }
      if (mergedR.has(k)) li++;
    }
    if (ri < r.length) {
      const k = rk[ri]!;
      mergedR.add(k);
      out.push(mergeWalk(ctx, lhsOf(k), obsR.get(k), itemType));
      ri++;
      if (nextShared === k) advanceShared();
    }
  }
  return out;
}

/**
 * `value` without the fields of `set` (upstream TypedValue.RemoveItems): a member removes
 * its whole subtree. A granular map or list left with no entries becomes EMPTIED, which
 * compares as null; `stripEmptied` drops those before the object is stored.
 */
export function removeItems(
  ctx: TypeContext,
  value: unknown,
  set: FieldSet,
  node: SchemaNode | undefined,
): unknown {
  if (set.isEmpty()) return value;
  return removeWalk(ctx, value, set, ctx.info(node));
}

function removeWalk(ctx: TypeContext, v: unknown, set: FieldSet, declared: TypeInfo): unknown {
  const t = effective(declared, v);
  if (t.kind === 'list') {
    if (t.rel === 'atomic' || !Array.isArray(v) || v.length === 0) return v;
    const itemType = ctx.info(t.item);
    const out: unknown[] = [];
    for (const item of v) {
      const key = serializePathElement(ctx.itemElement(t, item));
      if (set.hasElement(key)) continue;
      const sub = set.withPrefix(key);
      out.push(sub.isEmpty() ? item : removeWalk(ctx, item, sub, itemType));
    }
    return out.length > 0 ? out : EMPTIED;
  }
  if (t.kind === 'map') {
    if (t.atomic || !isMap(v) || isEmptyContainer(v)) return v;
    const out: Record<string, unknown> = {};
    let any = false;
    for (const k in v) {
      const key = `f:${k}`;
      if (set.hasElement(key)) continue;
      const sub = set.withPrefix(key);
      out[k] = sub.isEmpty() ? v[k] : removeWalk(ctx, v[k], sub, ctx.info(ctx.fieldSchema(t, k)));
      any = true;
    }
    return any ? out : EMPTIED;
  }
  return v;
}

/** Drops map entries and list items that removal emptied (they would be null upstream). */
export function stripEmptied(v: unknown): unknown {
  if (v === EMPTIED) return undefined;
  if (Array.isArray(v)) {
    let changed = false;
    const out: unknown[] = [];
    for (const item of v) {
      const s = stripEmptied(item);
      if (s !== item) changed = true;
      if (s !== undefined) out.push(s);
    }
    return changed ? out : v;
  }
  if (isMap(v)) {
    let changed = false;
    const out: Record<string, unknown> = {};
    for (const k in v) {
      const s = stripEmptied(v[k]);
      if (s !== v[k]) changed = true;
      if (s !== undefined) out[k] = s;
    }
    return changed ? out : v;
  }
  return v;
}

/**
 * The set plus every named struct field that has members below it (upstream
 * EnsureNamedFieldsAreMembers), so that pruning can remove a struct field as a whole.
 */
export function ensureNamedFieldsAreMembers(
  ctx: TypeContext,
  set: FieldSet,
  node: SchemaNode | undefined,
): FieldSet {
  return ensureWalk(ctx, set, ctx.info(node));
}

function ensureWalk(ctx: TypeContext, set: FieldSet, t: TypeInfo | undefined): FieldSet {
  const out = new FieldSet();
  for (const [key, pe, member, children] of set.elements()) {
    let childType: TypeInfo | undefined;
    let named = false;
    if (pe.kind === 'field' && t !== undefined) {
      const tt = t.kind === 'deduced' ? DEDUCED_MAP : t;
      if (tt.kind === 'map') {
        named = ctx.isNamedField(tt, pe.name);
        childType = ctx.info(ctx.fieldSchema(tt, pe.name));
      }
    } else if (pe.kind === 'key' && t?.kind === 'list') {
      childType = ctx.info(t.item);
    }
    if (member || (named && children !== undefined)) out.insertElement(pe, key);
    if (children !== undefined) out.attachChild(pe, ensureWalk(ctx, children, childType), key);
  }
  return out;
}
