// Evaluation of a CRD version's x-kubernetes-validations against a custom object, as
// upstream's cel.Validator: rules run at every node that has a value (null values are
// skipped), `self` bound to the value there and `oldSelf` to the correlated old value on
// update (map keys, and list-type=map items by their keys; transition rules are skipped
// where there is none unless optionalOldSelf), children after the node's own rules. A
// failed rule becomes `<path>: Invalid value: "<type>": <message>` (or the error type of
// its reason, under its fieldPath); errors of rules that do not use oldSelf are ratcheted
// (dropped, with a warning) where the value did not change. One cost budget spans the whole
// object; exhausting it stops every further rule with upstream's message.
import type { ValidationRule } from '../../api/generated/types/apiextensions-v1.js';
import { goQuote } from '../../machinery/go-format.js';
import { type FieldError, fieldErrorMessage } from '../../machinery/status-error.js';
import { deepEqualJSON } from '../schema/compile.js';
import { type CompiledRule, compileNodeRules } from './rule-compiler.js';
import { runProgram } from './program.js';
import type { Schema } from './types.js';
import { CostLimitError, fromJSON, Optional, type Val } from './values.js';

/** Upstream's celconfig.PerCallLimit. */
export const PER_CALL_LIMIT = 1_000_000;
/** Upstream's celconfig.RuntimeCELCostBudget (per custom object). */
export const RUNTIME_COST_BUDGET = 10_000_000;
const MAX_MESSAGE_EXPRESSION_BYTES = 5 * 1024;

interface Node {
  schema: Schema;
  isResourceRoot: boolean;
  rules: CompiledRule[];
  initError?: string;
  properties?: Map<string, Node>;
  additionalProperties?: Node;
  items?: Node;
  allOf?: Node[];
}

function hasRules(s: Schema | undefined): boolean {
  if (s === undefined) return false;
  if ((s['x-kubernetes-validations'] ?? []).length > 0) return true;
  if ((s.allOf ?? []).some(hasRules)) return true;
  if (s.items !== undefined && !Array.isArray(s.items) && hasRules(s.items)) return true;
  if (typeof s.additionalProperties === 'object' && hasRules(s.additionalProperties)) return true;
  return Object.values(s.properties ?? {}).some(hasRules);
}

function build(rulesFrom: Schema, node: Schema, isResourceRoot: boolean): Node | undefined {
  if (!hasRules(rulesFrom)) return undefined;
  const compiled = compileNodeRules(rulesFrom['x-kubernetes-validations'] ?? [], node, isResourceRoot);
  const n: Node = { schema: node, isResourceRoot, rules: compiled.rules };
  if (compiled.initError !== undefined) n.initError = compiled.initError;
  const items =
    rulesFrom.items !== undefined && !Array.isArray(rulesFrom.items) ? rulesFrom.items : undefined;
  const nodeItems = node.items !== undefined && !Array.isArray(node.items) ? node.items : undefined;
  if (items !== undefined && nodeItems !== undefined) {
    const v = build(items, nodeItems, nodeItems['x-kubernetes-embedded-resource'] === true);
    if (v !== undefined) n.items = v;
  }
  for (const [k, p] of Object.entries(rulesFrom.properties ?? {})) {
    const np = node.properties?.[k];
    if (np === undefined) continue;
    const v = build(p, np, np['x-kubernetes-embedded-resource'] === true);
    if (v === undefined) continue;
    n.properties ??= new Map();
    n.properties.set(k, v);
  }
  const ap = rulesFrom.additionalProperties;
  const nap = node.additionalProperties;
  if (typeof ap === 'object' && typeof nap === 'object') {
    const v = build(ap, nap, nap['x-kubernetes-embedded-resource'] === true);
    if (v !== undefined) n.additionalProperties = v;
  }
  for (const sub of rulesFrom.allOf ?? []) {
    const v = build(sub, node, isResourceRoot);
    if (v === undefined) continue;
    n.allOf ??= [];
    n.allOf.push(v);
  }
  return n;
}

/** The validator of a whole custom object; undefined when the schema has no rules. */
export interface CelValidator {
  /**
   * Field errors of the rules for obj (old on update). Ratcheted errors are appended to
   * warnings when given.
   */
  validate(obj: unknown, old?: unknown, warnings?: string[]): FieldError[];
}

/** Compiles every rule of a CRD version's schema (root is the resource root). */
export function compileCelValidator(schema: Schema): CelValidator | undefined {
  const root = build(schema, schema, true);
  if (root === undefined) return undefined;
  return {
    validate(obj, old, warnings) {
      const run = new Run(warnings);
      run.node(root, '', obj, old, old !== undefined && deepEqualJSON(obj, old));
      return run.errs;
    },
  };
}

function ruleErrorString(r: ValidationRule): string {
  return (r.message ?? '') !== '' ? (r.message ?? '').trim() : (r.rule ?? '').trim();
}

function ruleMessageOrDefault(r: ValidationRule): string {
  return (r.message ?? '') === '' ? `failed rule: ${ruleErrorString(r)}` : (r.message ?? '').trim();
}

const at = (path: string): string => (path === '' ? '<nil>' : path);
const child = (path: string, name: string): string => (path === '' ? name : `${path}.${name}`);

class Run {
  readonly errs: FieldError[] = [];
  remaining = RUNTIME_COST_BUDGET;

  constructor(private readonly warnings: string[] | undefined) {}

  private invalid(path: string, s: Schema, detail: string): FieldError {
    return { type: 'FieldValueInvalid', field: at(path), renderedValue: goQuote(s.type ?? ''), detail };
  }

  /** Returns false once the budget is exhausted (no further rules run). */
  node(n: Node, path: string, obj: unknown, old: unknown, ratchet: boolean): boolean {
    if (obj === null || obj === undefined) return true;
    if (old === null) old = undefined;
    if (!this.expressions(n, path, obj, old, ratchet)) return false;
    for (const sub of n.allOf ?? []) if (!this.expressions(sub, path, obj, old, ratchet)) return false;
    if (Array.isArray(obj)) {
      if (n.items === undefined) return true;
      const oldItems = Array.isArray(old) ? old : [];
      const keys =
        n.schema['x-kubernetes-list-type'] === 'map' ? (n.schema['x-kubernetes-list-map-keys'] ?? []) : [];
      for (let i = 0; i < obj.length; i++) {
        const item = obj[i];
        const oldItem = keys.length > 0 ? findByKeys(oldItems, item, keys) : undefined;
        // Items of other lists do not correlate: they ratchet with their nearest correlated ancestor.
        const r = keys.length > 0 ? oldItem !== undefined && deepEqualJSON(item, oldItem) : ratchet;
        if (!this.node(n.items, `${at(path)}[${i}]`, item, oldItem, r)) return false;
      }
      return true;
    }
    if (typeof obj === 'object') {
      const o = obj as Record<string, unknown>;
      const oo =
        old !== undefined && typeof old === 'object' && !Array.isArray(old)
          ? (old as Record<string, unknown>)
          : undefined;
      const sub = (k: string): boolean => {
        const v = oo?.[k];
        return v !== undefined && deepEqualJSON(o[k], v);
      };
      if (n.additionalProperties !== undefined) {
        for (const k of Object.keys(o)) {
          if (!this.node(n.additionalProperties, `${at(path)}[${k}]`, o[k], oo?.[k], sub(k))) return false;
        }
      }
      if (n.properties !== undefined) {
        for (const k of Object.keys(o)) {
          const p = n.properties.get(k);
          if (p !== undefined && !this.node(p, child(path, k), o[k], oo?.[k], sub(k))) return false;
        }
      }
    }
    return true;
  }

  private expressions(n: Node, path: string, obj: unknown, old: unknown, ratchet: boolean): boolean {
    const s = n.schema;
    if (n.initError !== undefined) {
      this.errs.push(this.invalid(path, s, `rule compiler initialization error: ${n.initError}`));
      return true;
    }
    if (n.rules.length === 0) return true;
    if (this.remaining <= 0) {
      this.errs.push(
        this.invalid(
          path,
          s,
          'validation failed due to running out of cost budget, no further validation rules will be run',
        ),
      );
      return false;
    }
    let self: Val | undefined;
    let oldSelf: Val | undefined;
    for (const c of n.rules) {
      const rule = c.rule;
      if (c.error !== undefined) {
        this.errs.push(this.invalid(path, s, `rule compile error: ${c.error.detail}`));
        continue;
      }
      if (c.program === undefined) continue;
      const optionalOld = rule.optionalOldSelf === true;
      if (c.usesOldSelf && old === undefined && !optionalOld) continue;
      self ??= fromJSON(obj, s, n.isResourceRoot);
      if (old !== undefined) oldSelf ??= fromJSON(old, s, n.isResourceRoot);
      const vars = new Map<string, Val>([['self', self]]);
      if (optionalOld) vars.set('oldSelf', oldSelf === undefined ? Optional.none : new Optional(oldSelf));
      else if (oldSelf !== undefined) vars.set('oldSelf', oldSelf);
      const r = runProgram(c.program, vars, PER_CALL_LIMIT);
      if (r.cost > this.remaining) {
        this.errs.push(
          this.invalid(
            path,
            s,
            'validation failed due to running out of cost budget, no further validation rules will be run',
          ),
        );
        this.remaining = -1;
        return false;
      }
      this.remaining -= r.cost;
      if (r.error !== undefined) {
        const msg = r.error.message;
        if (r.error instanceof CostLimitError) {
          this.errs.push(
            this.invalid(
              path,
              s,
              `'${msg}': no further validation rules will be run due to call cost exceeds limit for rule: ${ruleErrorString(rule)}`,
            ),
          );
          this.remaining = -1;
          return false;
        }
        if (msg.startsWith('no such overload')) {
          this.errs.push(
            this.invalid(
              path,
              s,
              `'${msg}': call arguments did not match a supported operator, function or macro signature for rule: ${ruleErrorString(rule)}`,
            ),
          );
        } else {
          this.errs.push(this.invalid(path, s, `${msg} evaluating rule: ${ruleErrorString(rule)}`));
        }
        continue;
      }
      if (r.value === true) continue;
      const errPath = c.fieldPath !== '' ? child(path, c.fieldPath) : path;
      const add = (e: FieldError): void => {
        if (!c.usesOldSelf && ratchet) this.warnings?.push(fieldErrorMessage(e));
        else this.errs.push(e);
      };
      let detail: string | undefined;
      if (c.messageProgram !== undefined) {
        const m = this.message(c.messageProgram.source, c, vars);
        if ('fatal' in m) {
          add(this.invalid(errPath, s, m.fatal));
          return false;
        }
        detail = m.detail;
      }
      add(errorForReason(errPath, s, detail ?? ruleMessageOrDefault(rule), rule.reason));
    }
    return true;
  }

  private message(
    src: string,
    c: CompiledRule,
    vars: Map<string, Val>,
  ): { detail?: string } | { fatal: string } {
    const r = runProgram(c.messageProgram!, vars, PER_CALL_LIMIT);
    if (r.cost > this.remaining) {
      this.remaining = -1;
      return {
        fatal:
          'messageExpression evaluation failed due to running out of cost budget, no further validation rules will be run',
      };
    }
    if (r.error instanceof CostLimitError) {
      this.remaining = -1;
      return {
        fatal: `no further validation rules will be run due to call cost exceeds limit for messageExpression: ${goQuote(src)}`,
      };
    }
    this.remaining -= r.cost;
    if (r.error !== undefined || typeof r.value !== 'string') return {};
    const msg = r.value.trim();
    if (msg === '' || msg.includes('\n') || Buffer.byteLength(msg) > MAX_MESSAGE_EXPRESSION_BYTES) return {};
    return { detail: msg };
  }
}

function errorForReason(path: string, s: Schema, detail: string, reason: string | undefined): FieldError {
  const field = at(path);
  const value = goQuote(s.type ?? '');
  switch (reason) {
    case 'FieldValueForbidden':
      return { type: 'FieldValueForbidden', field, detail };
    case 'FieldValueRequired':
      return { type: 'FieldValueRequired', field, detail };
    case 'FieldValueDuplicate':
      return { type: 'FieldValueDuplicate', field, renderedValue: value };
    default:
      return { type: 'FieldValueInvalid', field, renderedValue: value, detail };
  }
}

function findByKeys(items: readonly unknown[], item: unknown, keys: readonly string[]): unknown {
  if (item === null || typeof item !== 'object') return undefined;
  const it = item as Record<string, unknown>;
  return items.find(
    (o) =>
      o !== null &&
      typeof o === 'object' &&
      keys.every((k) => deepEqualJSON((o as Record<string, unknown>)[k], it[k])),
  );
}
