// Strategies of ValidatingAdmissionPolicy and its bindings: upstream's validation of their
// specs (pkg/apis/admissionregistration/validation) on create and update, so a policy whose
// CEL does not compile, or whose expressions do not evaluate to the type their use needs
// (validations and match conditions to bool, messageExpressions to string), is refused with
// 422 instead of failing every request it matches. Expressions are compiled with the same
// environment admission evaluates them in (`admission-cel.ts`).
import type {
  MatchCondition,
  ValidatingAdmissionPolicy,
  ValidatingAdmissionPolicyBinding,
  Validation,
  Variable,
} from '../../api/generated/types/admissionregistration-v1.js';
import { duplicate, invalidValue, notSupported, required } from '../../api/validation/field.js';
import { formatType } from '../../apiextensions/cel/types.js';
import type { FieldError } from '../../machinery/status-error.js';
import { isQualifiedName } from '../../machinery/validation/names.js';
import { compileAdmissionExpression } from '../admission/admission-cel.js';
import type { KObject } from './object.js';
import { DefaultStrategy, type StrategyContext } from './strategy.js';

const REASONS = ['Forbidden', 'Invalid', 'RequestEntityTooLarge', 'Unauthorized'];
const FAILURE_POLICIES = ['Fail', 'Ignore'];
const ACTIONS = ['Audit', 'Deny', 'Warn'];
const CEL_IDENTIFIER = /^[_a-zA-Z][_a-zA-Z0-9]*$/;

/** Errors of one expression at `field`: it must compile and (unless `want` is dyn) have that type. */
function expressionErrors(field: string, source: string, want: 'bool' | 'string' | 'dyn'): FieldError[] {
  const c = compileAdmissionExpression(source);
  if (c.program === undefined) return [invalidValue(field, source, c.error ?? 'compilation failed')];
  if (want === 'dyn') return [];
  const got = c.program.type;
  if (got.k === 'prim' && formatType(got) === want) return [];
  return [invalidValue(field, source, `must evaluate to ${want}`)];
}

function validationErrors(v: Validation, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if ((v.expression ?? '').trim() === '')
    errs.push(required(`${path}.expression`, 'expression is not specified'));
  else errs.push(...expressionErrors(`${path}.expression`, v.expression, 'bool'));
  const me = v.messageExpression;
  if (me !== undefined && me !== '') {
    if (me.trim() === '')
      errs.push(invalidValue(`${path}.messageExpression`, me, 'must be non-empty if specified'));
    else errs.push(...expressionErrors(`${path}.messageExpression`, me, 'string'));
  }
  const msg = v.message;
  if (msg !== undefined && msg !== '') {
    if (msg.trim() === '') {
      errs.push(invalidValue(`${path}.message`, msg, 'message must be non-empty if specified'));
    } else if (/[\r\n]/.test(msg.trim())) {
      errs.push(invalidValue(`${path}.message`, msg, 'message must not contain line breaks'));
    }
  }
  if (v.reason !== undefined && !REASONS.includes(v.reason))
    errs.push(notSupported(`${path}.reason`, v.reason, REASONS));
  return errs;
}

function matchConditionErrors(conds: MatchCondition[] | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  (conds ?? []).forEach((c, i) => {
    const p = `${path}[${i}]`;
    const expr = (c.expression ?? '').trim();
    if (expr === '') errs.push(required(`${p}.expression`));
    else errs.push(...expressionErrors(`${p}.expression`, expr, 'bool'));
    if (!c.name) errs.push(required(`${p}.name`));
    else {
      for (const m of isQualifiedName(c.name)) errs.push(invalidValue(`${p}.name`, c.name, m));
      if (names.has(c.name)) errs.push(duplicate(`${p}.name`, c.name));
      names.add(c.name);
    }
  });
  return errs;
}

function variableErrors(v: Variable, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if ((v.name ?? '').trim() === '') errs.push(required(`${path}.name`, 'name is not specified'));
  else if (!CEL_IDENTIFIER.test(v.name))
    errs.push(invalidValue(`${path}.name`, v.name, 'name is not a valid CEL identifier'));
  if ((v.expression ?? '').trim() === '')
    errs.push(required(`${path}.expression`, 'expression is not specified'));
  else errs.push(...expressionErrors(`${path}.expression`, v.expression, 'dyn'));
  return errs;
}

/** validateValidatingAdmissionPolicySpec (the parts kts enforces). */
export function validatePolicy(p: ValidatingAdmissionPolicy): FieldError[] {
  const spec = p.spec ?? {};
  const errs: FieldError[] = [];
  if (spec.failurePolicy === undefined) errs.push(required('spec.failurePolicy'));
  else if (!FAILURE_POLICIES.includes(spec.failurePolicy)) {
    errs.push(notSupported('spec.failurePolicy', spec.failurePolicy, FAILURE_POLICIES));
  }
  if (spec.paramKind !== undefined) {
    if (!spec.paramKind.apiVersion) errs.push(required('spec.paramKind.apiVersion'));
    if (!spec.paramKind.kind) errs.push(required('spec.paramKind.kind'));
  }
  if (spec.matchConstraints === undefined) errs.push(required('spec.matchConstraints'));
  else if ((spec.matchConstraints.resourceRules ?? []).length === 0) {
    errs.push(required('spec.matchConstraints.resourceRules'));
  }
  errs.push(...matchConditionErrors(spec.matchConditions, 'spec.matchConditions'));
  (spec.variables ?? []).forEach((v, i) => {
    errs.push(...variableErrors(v, `spec.variables[${i}]`));
  });
  const validations = spec.validations ?? [];
  if (validations.length === 0 && (spec.auditAnnotations ?? []).length === 0) {
    const why = 'validations or auditAnnotations must contain at least one item';
    errs.push(required('spec.validations', why), required('spec.auditAnnotations', why));
  }
  validations.forEach((v, i) => {
    errs.push(...validationErrors(v, `spec.validations[${i}]`));
  });
  return errs;
}

/** validateValidatingAdmissionPolicyBindingSpec (the parts kts enforces). */
export function validateBinding(b: ValidatingAdmissionPolicyBinding): FieldError[] {
  const spec = b.spec ?? {};
  const errs: FieldError[] = [];
  if (!spec.policyName) errs.push(required('spec.policyName'));
  const ref = spec.paramRef;
  if (ref !== undefined) {
    if (ref.name && ref.selector !== undefined) {
      errs.push(invalidValue('spec.paramRef.name', ref.name, '`name` and `selector` are mutually exclusive'));
    }
    if (!ref.name && ref.selector === undefined) {
      errs.push(required('spec.paramRef', 'one of `name` or `selector` must be set'));
    }
    const action = ref.parameterNotFoundAction;
    if (action === undefined) errs.push(required('spec.paramRef.parameterNotFoundAction'));
    else if (action !== 'Allow' && action !== 'Deny') {
      errs.push(notSupported('spec.paramRef.parameterNotFoundAction', action, ['Allow', 'Deny']));
    }
  }
  const actions = spec.validationActions ?? [];
  const seen = new Set<string>();
  actions.forEach((a, i) => {
    if (!ACTIONS.includes(a)) errs.push(notSupported(`spec.validationActions[${i}]`, a, ACTIONS));
    if (seen.has(a)) errs.push(duplicate(`spec.validationActions[${i}]`, a));
    seen.add(a);
  });
  if (seen.has('Deny') && seen.has('Warn')) {
    errs.push(
      invalidValue(
        'spec.validationActions',
        actions,
        'must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)',
      ),
    );
  }
  if (seen.size === 0)
    errs.push(required('spec.validationActions', 'at least one validation action is required'));
  return errs;
}

/** ValidatingAdmissionPolicy: spec validated on every write. */
export class ValidatingAdmissionPolicyStrategy extends DefaultStrategy {
  validate(obj: KObject, _ctx: StrategyContext): FieldError[] {
    return validatePolicy(obj as unknown as ValidatingAdmissionPolicy);
  }

  validateUpdate(obj: KObject, _old: KObject, _ctx: StrategyContext): FieldError[] {
    return validatePolicy(obj as unknown as ValidatingAdmissionPolicy);
  }
}

/** ValidatingAdmissionPolicyBinding: spec validated on every write. */
export class ValidatingAdmissionPolicyBindingStrategy extends DefaultStrategy {
  validate(obj: KObject, _ctx: StrategyContext): FieldError[] {
    return validateBinding(obj as unknown as ValidatingAdmissionPolicyBinding);
  }

  validateUpdate(obj: KObject, _old: KObject, _ctx: StrategyContext): FieldError[] {
    return validateBinding(obj as unknown as ValidatingAdmissionPolicyBinding);
  }
}
