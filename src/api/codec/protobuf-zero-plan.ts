// Zero-dropping plans: dropProtobufZeros' schema rule (protobuf-zeros.ts) precomputed per
// protobuf message and schema node, so the decoder can leave out Go zero values as it reads
// them instead of walking the decoded object a second time. A plan says, per field number,
// whether a zero value of that field is dropped, and holds (built lazily, on first use) the
// plans of the field's message values. The plan tree mirrors the walk exactly: the same
// schema nodes, the same top-level `status` rule, the same depth limit, and no dropping
// below free-form (preserve-unknown-fields) nodes, special messages or map values themselves.
import { propertySchema, resolveNode } from '../schema.js';
import type { SchemaNode } from '../schema-types.js';
import { type FieldDesc, K_MAP, type MessageDesc, S_NONE } from './protobuf-descriptors.js';
import { MAX_ZERO_WALK_DEPTH, zeroIsKept } from './protobuf-zeros.js';

/** How one message, read at one schema node, drops zeros. */
export interface ZeroPlan {
  /** By field number: true when a zero (`""`, 0, false, null) of the field is left out. */
  readonly drop: boolean[];
  /** By field number: the plan of the field's values (null: no dropping below); lazily set. */
  readonly children: (ZeroPlan | null | undefined)[];
  readonly node: SchemaNode;
  readonly inStatus: boolean;
  readonly isRoot: boolean;
}

// One plan per (resolved schema node, message, status flag, root flag); plans of recursive
// types are thereby shared rather than unrolled.
const plans = new WeakMap<SchemaNode, Map<MessageDesc, (ZeroPlan | undefined)[]>>();

/** The plan of a top-level object of `msg` whose schema is `def`; null when nothing drops. */
export function rootZeroPlan(def: SchemaNode, msg: MessageDesc): ZeroPlan | null {
  return planFor(def, msg, false, true);
}

function planFor(node: SchemaNode, msg: MessageDesc, inStatus: boolean, isRoot: boolean): ZeroPlan | null {
  const n = resolveNode(node);
  // Only structs drop zeros; the walk stops at free-form nodes and never drops map values.
  if (n === undefined || n.preserveUnknownFields || n.properties === undefined) return null;
  if (msg.special !== S_NONE) return null;
  let byMsg = plans.get(n);
  if (byMsg === undefined) {
    byMsg = new Map();
    plans.set(n, byMsg);
  }
  let slots = byMsg.get(msg);
  if (slots === undefined) {
    slots = [];
    byMsg.set(msg, slots);
  }
  const slot = (inStatus ? 2 : 0) + (isRoot ? 1 : 0);
  const hit = slots[slot];
  if (hit !== undefined) return hit;
  const required = new Set(n.required ?? []);
  const drop: boolean[] = [];
  for (const f of msg.fields) drop[f.num] = !zeroIsKept(f.json, required, inStatus);
  const plan: ZeroPlan = { drop, children: [], node: n, inStatus, isRoot };
  slots[slot] = plan;
  return plan;
}

/**
 * The plan of field `f`'s values when the object holding it sits `level` objects below the
 * top (map fields count their map object as one level, as the walk does).
 */
export function childZeroPlan(plan: ZeroPlan, f: FieldDesc, level: number): ZeroPlan | null {
  if (f.inline) {
    // An embedded struct's fields are keys of the same JSON object.
    if (f.msg === undefined) return null;
    let c = plan.children[f.num];
    if (c === undefined) {
      c = planFor(plan.node, f.msg, plan.inStatus, plan.isRoot);
      plan.children[f.num] = c;
    }
    return c;
  }
  const childLevel = f.kind === K_MAP ? level + 2 : level + 1;
  if (childLevel > MAX_ZERO_WALK_DEPTH) return null;
  let c = plan.children[f.num];
  if (c === undefined) {
    c = buildChild(plan, f);
    plan.children[f.num] = c;
  }
  return c;
}

function buildChild(plan: ZeroPlan, f: FieldDesc): ZeroPlan | null {
  const schema = propertySchema(plan.node, f.json);
  if (schema === undefined) return null;
  const inStatus = plan.inStatus || (plan.isRoot && f.json === 'status');
  if (f.kind === K_MAP) {
    const m = resolveNode(schema);
    if (m === undefined || m.preserveUnknownFields || m.properties !== undefined) return null;
    const value = m.additionalProperties;
    if (value === undefined || f.mapValueMsg === undefined) return null;
    return planFor(value, f.mapValueMsg, inStatus, false);
  }
  if (f.msg === undefined) return null;
  if (f.repeated) {
    const items = resolveNode(schema)?.items;
    return items === undefined ? null : planFor(items, f.msg, inStatus, false);
  }
  return planFor(schema, f.msg, inStatus, false);
}
