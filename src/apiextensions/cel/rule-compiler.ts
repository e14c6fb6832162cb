// x-kubernetes-validations rules compiled as upstream's cel.Compile does: `self` (and
// `oldSelf`, optional for optionalOldSelf rules) typed by the node's schema, the rule
// checked to be a bool and its messageExpression a string, its fieldPath resolved; and the
// CEL part of a CRD's schema validation (upstream's CELErrors of
// ValidateCustomResourceDefinitionOpenAPISchema): every rule on the structural spine
// (properties, additionalProperties, items) compiled against its node's type; a rule that
// does not compile is `…x-kubernetes-validations[i].rule: Invalid value:
// apiextensions.ValidationRule{…}: compilation failed: ERROR: <input>:…`, a
// messageExpression likewise; oldSelf is refused where old values cannot be correlated
// (below a list that is not a map list), and optionalOldSelf where the rule does not use
// oldSelf. Rules under allOf/anyOf/oneOf/not are not compiled at CRD time, as upstream's are not.
import type { JSONSchemaProps, ValidationRule } from '../../api/generated/types/apiextensions-v1.js';
import { goQuote } from '../../machinery/go-format.js';
import type { FieldError } from '../../machinery/status-error.js';
import { keyed } from '../schema/structural-validation.js';
import { CompileError } from './ast.js';
import { validFieldPath } from './field-path.js';
import { compileExpression, type Program } from './program.js';
import { type CelType, type Schema, sameType, schemaType, T } from './types.js';

/** One compiled rule. */
export interface CompiledRule {
  rule: ValidationRule;
  program?: Program;
  messageProgram?: Program;
  /** The rule references oldSelf (a transition rule). */
  usesOldSelf: boolean;
  /** The fieldPath as the error's path suffix ('' when none). */
  fieldPath: string;
  /** Why the rule did not compile (upstream's CompilationResult.Error). */
  error?: { type: 'Invalid' | 'Required'; detail: string };
  /** Why the messageExpression did not compile. */
  messageError?: string;
}

/** The rules of a node, or why none could be compiled (no declarable type). */
export interface NodeRules {
  rules: CompiledRule[];
  initError?: string;
}

function optionalPointer(v: unknown, type: string): string {
  // A set pointer prints as an address in Go; any stable address keeps the shape.
  return v === undefined || v === null ? `(*${type})(nil)` : `(*${type})(0xc000a1b2c0)`;
}

/** Go's %#v of an apiextensions.ValidationRule. */
export function ruleGoSyntax(r: ValidationRule): string {
  return (
    `apiextensions.ValidationRule{Rule:${goQuote(r.rule ?? '')}, Message:${goQuote(r.message ?? '')}, ` +
    `MessageExpression:${goQuote(r.messageExpression ?? '')}, ` +
    `Reason:${optionalPointer(r.reason, 'apiextensions.FieldValueErrorReason')}, FieldPath:${goQuote(r.fieldPath ?? '')}, ` +
    `OptionalOldSelf:${optionalPointer(r.optionalOldSelf, 'bool')}}`
  );
}

/** The variables a node's rules see. */
function declarations(self: CelType, optionalOldSelf: boolean): Map<string, CelType> {
  return new Map<string, CelType>([
    ['self', self],
    ['oldSelf', optionalOldSelf ? { k: 'optional', elem: self } : self],
  ]);
}

/** Compiles the x-kubernetes-validations of one node (rules is the list; node the structural schema). */
export function compileNodeRules(
  rules: readonly ValidationRule[],
  node: Schema,
  isResourceRoot: boolean,
): NodeRules {
  if (rules.length === 0) return { rules: [] };
  const self = schemaType(node, isResourceRoot, 'object');
  if (self === undefined) {
    return {
      rules: [],
      initError: `rule declared on schema that does not support validation rules type: '${node.type ?? ''}' x-kubernetes-preserve-unknown-fields: '${node['x-kubernetes-preserve-unknown-fields'] === true}'`,
    };
  }
  return { rules: rules.map((r) => compileRule(r, self, node)) };
}

function compileRule(rule: ValidationRule, self: CelType, node: Schema): CompiledRule {
  const out: CompiledRule = { rule, usesOldSelf: false, fieldPath: '' };
  if ((rule.fieldPath ?? '') !== '') {
    const fp = validFieldPath(rule.fieldPath ?? '', node);
    if (fp.ok) out.fieldPath = fp.path;
  }
  if ((rule.rule ?? '').trim() === '') return out;
  const vars = declarations(self, rule.optionalOldSelf === true);
  try {
    out.program = compileExpression(rule.rule, vars);
  } catch (e) {
    if (!(e instanceof CompileError)) throw e;
    out.error = { type: 'Invalid', detail: `compilation failed: ${e.message}` };
    return out;
  }
  const t = out.program.type;
  if (!sameType(t, T.bool)) {
    delete out.program;
    out.error = { type: 'Invalid', detail: 'cel expression must evaluate to a bool' };
    return out;
  }
  out.usesOldSelf = out.program.references.has('oldSelf');
  const me = rule.messageExpression ?? '';
  if (me !== '') {
    try {
      const mp = compileExpression(me, vars);
      if (!sameType(mp.type, T.string)) out.messageError = 'messageExpression must evaluate to a string';
      else out.messageProgram = mp;
    } catch (e) {
      if (!(e instanceof CompileError)) throw e;
      out.messageError = `messageExpression compilation failed: ${e.message}`;
    }
  }
  return out;
}

/**
 * CEL compile errors of a whole openAPIV3Schema at fieldPath. `skip(path)` tells whether a
 * node has schema errors at or below it (upstream compiles no rules there).
 */
export function celRuleErrors(
  schema: JSONSchemaProps,
  fieldPath: string,
  skip: (path: string) => boolean = () => false,
): FieldError[] {
  const errs: FieldError[] = [];
  walk(schema, fieldPath, true, undefined, skip, errs);
  return errs;
}

function walk(
  s: JSONSchemaProps,
  path: string,
  isResourceRoot: boolean,
  uncorrelatable: string | undefined,
  skip: (path: string) => boolean,
  errs: FieldError[],
): void {
  const rules = s['x-kubernetes-validations'] ?? [];
  if (rules.length > 0 && !skip(path)) {
    const at = `${path}.x-kubernetes-validations`;
    const compiled = compileNodeRules(rules, s, isResourceRoot);
    if (compiled.initError !== undefined) {
      errs.push({ type: 'InternalError', field: at, detail: compiled.initError });
    }
    compiled.rules.forEach((c, i) => {
      const rulePath = `${at}[${i}].rule`;
      if (c.error !== undefined) {
        errs.push(
          c.error.type === 'Required'
            ? { type: 'FieldValueRequired', field: rulePath, detail: c.error.detail }
            : {
                type: 'FieldValueInvalid',
                field: rulePath,
                renderedValue: ruleGoSyntax(c.rule),
                detail: c.error.detail,
              },
        );
      }
      if (c.messageError !== undefined) {
        errs.push({
          type: 'FieldValueInvalid',
          field: `${at}[${i}].messageExpression`,
          renderedValue: ruleGoSyntax(c.rule),
          detail: c.messageError,
        });
      }
      if (c.program === undefined) return;
      if (c.usesOldSelf) {
        if (uncorrelatable !== undefined) {
          errs.push({
            type: 'FieldValueInvalid',
            field: rulePath,
            badValue: c.rule.rule,
            detail: `oldSelf cannot be used on the uncorrelatable portion of the schema within ${uncorrelatable}`,
          });
        }
      } else if (c.rule.optionalOldSelf !== undefined && c.rule.optionalOldSelf !== null) {
        errs.push({
          type: 'FieldValueInvalid',
          field: `${at}[${i}].optionalOldSelf`,
          badValue: c.rule.optionalOldSelf,
          detail: 'may not be set if oldSelf is not used in rule',
        });
      }
    });
  }
  if (typeof s.additionalProperties === 'object') {
    const ap = s.additionalProperties;
    walk(
      ap,
      `${path}.additionalProperties`,
      ap['x-kubernetes-embedded-resource'] === true,
      uncorrelatable,
      skip,
      errs,
    );
  }
  for (const [k, p] of Object.entries(s.properties ?? {})) {
    walk(
      p,
      keyed(path, 'properties', k),
      p['x-kubernetes-embedded-resource'] === true,
      uncorrelatable,
      skip,
      errs,
    );
  }
  if (s.items !== undefined && !Array.isArray(s.items)) {
    const items = s.items;
    const under = uncorrelatable ?? (s['x-kubernetes-list-type'] !== 'map' ? path : undefined);
    walk(items, `${path}.items`, items['x-kubernetes-embedded-resource'] === true, under, skip, errs);
  }
}
