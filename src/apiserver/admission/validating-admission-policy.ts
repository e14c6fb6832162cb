// ValidatingAdmissionPolicy (upstream plugin/policy/validating, GA in 1.30): every
// ValidatingAdmissionPolicyBinding whose policy matches the request (the policy's
// matchConstraints, then the binding's matchResources, then the policy's matchConditions)
// evaluates the policy's CEL validations over `object`, `oldObject`, `request`, `params`,
// `namespaceObject` and `variables`. A failed validation is acted on by the binding's
// validationActions: Deny refuses the request with upstream's message (reason Invalid unless
// the validation names another), Warn adds a warning, Audit is accepted silently. An
// expression that errors follows the policy's failurePolicy (Fail by default). Expressions
// are type-checked as dyn (upstream checks them against the resource's OpenAPI schema only
// to report warnings in the policy's status) and compiled once per policy generation.
import type {
  MatchResources,
  NamedRuleWithOperations,
  ParamKind,
  ParamRef,
  ValidatingAdmissionPolicy,
  ValidatingAdmissionPolicyBinding,
} from '../../api/generated/types/admissionregistration-v1.js';
import { CelEvalError, dynFromJSON, MapVal, type Val } from '../../apiextensions/cel/values.js';
import { labelSelectorAsSelector } from '../../machinery/labels/index.js';
import { type StatusReason, StatusError } from '../../machinery/status-error.js';
import type { KObject } from '../registry/object.js';
import type { StoreRegistry } from '../stores.js';
import { getOrUndefined, listObjects, objectNameOf, sortStrings } from './attributes.js';
import {
  admissionVariables,
  type CompiledExpression,
  compileAdmissionExpression,
  evaluateMatchConditions,
  runAdmissionExpression,
} from './admission-cel.js';
import type { AdmissionPlugin, AdmissionRequest } from './types.js';
import {
  isExemptFromWebhooks,
  namespaceSelectorMatches,
  objectSelectorMatches,
  ruleMatches,
} from './webhook-matcher.js';

const GROUP = 'admissionregistration.k8s.io';

interface CompiledValidation {
  expression: CompiledExpression;
  message?: string;
  messageExpression?: CompiledExpression;
  reason?: string;
}

/** A policy generation compiled once. */
interface CompiledPolicy {
  version: string;
  validations: CompiledValidation[];
  variables: { name: string; expression: CompiledExpression }[];
}

function compilePolicy(p: ValidatingAdmissionPolicy, version: string): CompiledPolicy {
  const spec = p.spec ?? {};
  return {
    version,
    validations: (spec.validations ?? []).map((v) => ({
      expression: compileAdmissionExpression(v.expression),
      ...(v.message !== undefined ? { message: v.message } : {}),
      ...(v.messageExpression ? { messageExpression: compileAdmissionExpression(v.messageExpression) } : {}),
      ...(v.reason !== undefined ? { reason: v.reason } : {}),
    })),
    variables: (spec.variables ?? []).map((v) => ({
      name: v.name,
      expression: compileAdmissionExpression(v.expression),
    })),
  };
}

function namedRuleMatches(rule: NamedRuleWithOperations, req: AdmissionRequest): boolean {
  if (!ruleMatches(rule, req)) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(objectNameOf(req));
}

/** Upstream's matching.Matcher over one MatchResources (the policy's or a binding's). */
function resourcesMatch(
  m: MatchResources,
  req: AdmissionRequest,
  nsLabels: Record<string, string> | undefined,
  emptyRulesMatch: boolean,
): boolean {
  if (!namespaceSelectorMatches(m.namespaceSelector, req, nsLabels)) return false;
  if (!objectSelectorMatches(m.objectSelector, req)) return false;
  const rules = m.resourceRules ?? [];
  if (rules.length === 0 ? !emptyRulesMatch : !rules.some((r) => namedRuleMatches(r, req))) return false;
  return !(m.excludeResourceRules ?? []).some((r) => namedRuleMatches(r, req));
}

/** One failed validation or configuration problem to act on. */
interface Decision {
  message: string;
  reason: string;
}

const REASON_CODES: Record<string, number> = {
  Unauthorized: 401,
  Forbidden: 403,
  Invalid: 422,
  RequestEntityTooLarge: 413,
};

/** The 4xx upstream answers with when a binding denies (a Forbidden-shaped Status, reason as decided). */
function denial(req: AdmissionRequest, message: string, reason: string): StatusError {
  const r = req.resource;
  const subject = r.group === '' ? r.plural : `${r.plural}.${r.group}`;
  const name = objectNameOf(req);
  return new StatusError({
    code: REASON_CODES[reason] ?? 422,
    reason: reason as StatusReason,
    message:
      name === '' ? `${subject} is forbidden: ${message}` : `${subject} "${name}" is forbidden: ${message}`,
    details: { name, group: r.group, kind: r.plural, causes: [{ message }] },
  });
}

/** The ValidatingAdmissionPolicy plugin. */
export function validatingAdmissionPolicy(stores: StoreRegistry): AdmissionPlugin {
  const compiled = new Map<string, CompiledPolicy>();

  function compiledFor(p: ValidatingAdmissionPolicy): CompiledPolicy {
    const key = p.metadata?.name ?? '';
    const version = `${p.metadata?.uid ?? ''}/${p.metadata?.resourceVersion ?? ''}`;
    let c = compiled.get(key);
    if (c?.version !== version) {
      c = compilePolicy(p, version);
      compiled.set(key, c);
    }
    return c;
  }

  async function paramsFor(
    kind: ParamKind,
    ref: ParamRef,
    req: AdmissionRequest,
  ): Promise<{ params: KObject[] } | { error: string }> {
    const [group, version] = (kind.apiVersion ?? '').includes('/')
      ? (kind.apiVersion ?? '').split('/', 2)
      : ['', kind.apiVersion ?? ''];
    const resource = stores.served
      .resources()
      .find((r) => r.group === group && r.version === version && r.kind === kind.kind);
    if (resource === undefined) {
      return {
        error: `failed to configure policy: failed to find resource referenced by paramKind: '${kind.apiVersion ?? ''}, Kind=${kind.kind ?? ''}'`,
      };
    }
    // A namespaced param without a namespace of its own is looked up in the request's.
    const ns = resource.namespaced ? (ref.namespace ?? req.namespace) : '';
    if (ref.name) {
      const obj = await getOrUndefined(stores, resource.group, resource.plural, ns, ref.name);
      return { params: obj ? [obj] : [] };
    }
    const sel = labelSelectorAsSelector(ref.selector ?? {});
    const all = await listObjects(stores, resource.group, resource.plural, ns);
    return { params: all.filter((o) => sel.matches(o.metadata?.labels ?? {})) };
  }

  async function evaluate(
    policy: ValidatingAdmissionPolicy,
    binding: ValidatingAdmissionPolicyBinding,
    req: AdmissionRequest,
    base: Map<string, Val>,
  ): Promise<Decision[]> {
    const cp = compiledFor(policy);
    const failClosed = (policy.spec?.failurePolicy ?? 'Fail') === 'Fail';
    const spec = binding.spec ?? {};
    let paramSets: (KObject | null)[] = [null];
    const kind = policy.spec?.paramKind;
    if (kind !== undefined && spec.paramRef !== undefined) {
      const got = await paramsFor(kind, spec.paramRef, req);
      if ('error' in got) return failClosed ? [{ message: got.error, reason: 'Invalid' }] : [];
      if (got.params.length === 0) {
        if (spec.paramRef.parameterNotFoundAction === 'Deny') {
          const message =
            'failed to configure binding: no params found for policy binding with `Deny` parameterNotFoundAction';
          return failClosed ? [{ message, reason: 'Invalid' }] : [];
        }
      } else paramSets = got.params;
    }
    const decisions: Decision[] = [];
    for (const params of paramSets) {
      const vars = new Map(base);
      vars.set('params', params === null ? null : dynFromJSON(params));
      // Variables are evaluated when first used, as upstream's lazy composition does.
      vars.set(
        'variables',
        new MapVal(
          cp.variables.map((v) => [v.name, v.expression] as [Val, unknown]),
          (_k, raw) => {
            const out = runAdmissionExpression(raw as CompiledExpression, vars);
            if ('error' in out) throw new CelEvalError(out.error);
            return out.value;
          },
        ),
      );
      const verdict = evaluateMatchConditions(
        policy.spec?.matchConditions ?? [],
        vars,
        policy.spec?.failurePolicy,
      );
      if ('error' in verdict) {
        decisions.push({ message: verdict.error, reason: 'Invalid' });
        continue;
      }
      if (!verdict.matches) continue;
      for (const v of cp.validations) {
        const out = runAdmissionExpression(v.expression, vars);
        if ('error' in out) {
          if (failClosed) decisions.push({ message: out.error, reason: 'Invalid' });
          continue;
        }
        if (out.value === true) continue;
        let message = '';
        if (v.messageExpression !== undefined) {
          const m = runAdmissionExpression(v.messageExpression, vars);
          if (!('error' in m) && typeof m.value === 'string' && !m.value.includes('\n'))
            message = m.value.trim();
        }
        if (message === '') {
          message = v.message ? v.message.trim() : `failed expression: ${v.expression.source.trim()}`;
        }
        decisions.push({ message, reason: v.reason ?? 'Invalid' });
      }
    }
    return decisions;
  }

  return {
    name: 'ValidatingAdmissionPolicy',
    async validate(req: AdmissionRequest): Promise<void> {
      if (isExemptFromWebhooks(req)) return;
      const bindings = (await listObjects(
        stores,
        GROUP,
        'validatingadmissionpolicybindings',
        '',
      )) as unknown as ValidatingAdmissionPolicyBinding[];
      if (bindings.length === 0) return;
      const policies = new Map(
        (
          (await listObjects(
            stores,
            GROUP,
            'validatingadmissionpolicies',
            '',
          )) as unknown as ValidatingAdmissionPolicy[]
        ).map((p) => [p.metadata?.name ?? '', p]),
      );
      let nsObject: KObject | undefined;
      if (req.resource.namespaced && req.namespace !== '') {
        nsObject = await getOrUndefined(stores, '', 'namespaces', '', req.namespace);
      }
      const nsLabels =
        req.resource.namespaced && req.namespace !== '' ? (nsObject?.metadata?.labels ?? {}) : undefined;
      let base: Map<string, Val> | undefined;
      const byName = new Map(bindings.map((b) => [b.metadata?.name ?? '', b]));
      for (const bindingName of sortStrings(byName.keys())) {
        const binding = byName.get(bindingName)!;
        const policy = policies.get(binding.spec?.policyName ?? '');
        if (policy === undefined) continue;
        const constraints = policy.spec?.matchConstraints;
        if (constraints === undefined || !resourcesMatch(constraints, req, nsLabels, false)) continue;
        const mr = binding.spec?.matchResources;
        if (mr !== undefined && !resourcesMatch(mr, req, nsLabels, true)) continue;
        base ??= admissionVariables(req, nsObject);
        const decisions = await evaluate(policy, binding, req, base);
        if (decisions.length === 0) continue;
        const actions = binding.spec?.validationActions ?? [];
        const policyName = policy.metadata?.name ?? '';
        if (actions.includes('Warn')) {
          for (const d of decisions) {
            req.warn?.(
              `Validation failed for ValidatingAdmissionPolicy '${policyName}' with binding '${bindingName}': ${d.message}`,
            );
          }
        }
        if (actions.includes('Deny')) {
          const d = decisions[0]!;
          throw denial(
            req,
            `ValidatingAdmissionPolicy '${policyName}' with binding '${bindingName}' denied request: ${d.message}`,
            d.reason,
          );
        }
      }
    },
  };
}
