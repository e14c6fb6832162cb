// Which admission webhooks a request must be sent to (upstream
// apiserver/pkg/admission/plugin/webhook/{predicates,generic}): the webhook's rules
// (operations, API groups and versions, resources with `*` and subresource forms, scope),
// its namespaceSelector (matched against the namespace's labels; cluster-scoped objects
// always match), its objectSelector (the new or the old object's labels) and its
// matchConditions (CEL over object, oldObject and request; an evaluation error under
// failurePolicy Fail refuses the request without calling the webhook, as upstream).
import type { RuleWithOperations } from '../../api/generated/types/admissionregistration-v1.js';
import type { LabelSelector } from '../../api/generated/types/meta-v1.js';
import { labelSelectorAsSelector } from '../../machinery/labels/index.js';
import { forbidden } from '../../machinery/status-error.js';
import { admissionVariables, evaluateMatchConditions } from './admission-cel.js';
import { objectNameOf } from './attributes.js';
import type { AdmissionRequest } from './types.js';

/** The parts of a webhook the matcher reads (shared by mutating and validating webhooks). */
export interface WebhookMatchSpec {
  rules?: RuleWithOperations[];
  namespaceSelector?: LabelSelector;
  objectSelector?: LabelSelector;
  matchConditions?: Array<{ name: string; expression: string }>;
  failurePolicy?: string;
}

// Admission configuration objects are never sent to webhooks, so a broken webhook can
// always be removed (upstream IsExemptAdmissionConfigurationResource).
const EXEMPT = new Set([
  'validatingwebhookconfigurations',
  'mutatingwebhookconfigurations',
  'validatingadmissionpolicies',
  'validatingadmissionpolicybindings',
  'mutatingadmissionpolicies',
  'mutatingadmissionpolicybindings',
]);

/** True when no webhook may see this request. */
export function isExemptFromWebhooks(req: AdmissionRequest): boolean {
  return req.resource.group === 'admissionregistration.k8s.io' && EXEMPT.has(req.resource.plural);
}

function listMatches(list: string[] | undefined, value: string): boolean {
  return (list ?? []).some((x) => x === '*' || x === value);
}

function resourceMatches(resources: string[] | undefined, plural: string, sub: string): boolean {
  const want = sub === '' ? plural : `${plural}/${sub}`;
  for (const r of resources ?? []) {
    if (r === '*/*') return true;
    if (r === want) return true;
    const [res, rsub] = r.split('/', 2) as [string, string | undefined];
    if (rsub === undefined) {
      if (res === '*' && sub === '') return true;
      continue;
    }
    if (res === '*' && rsub === sub) return true;
    if (res === plural && rsub === '*' && sub !== '') return true;
  }
  return false;
}

/** True when one rule covers the request (upstream rules.Matcher). */
export function ruleMatches(rule: RuleWithOperations, req: AdmissionRequest): boolean {
  if (!listMatches(rule.operations, req.operation)) return false;
  if (!listMatches(rule.apiGroups, req.resource.group)) return false;
  if (!listMatches(rule.apiVersions, req.resource.version)) return false;
  if (!resourceMatches(rule.resources, req.resource.plural, req.subresource)) return false;
  const scope = rule.scope ?? '*';
  if (scope === 'Cluster') return !req.resource.namespaced;
  if (scope === 'Namespaced') return req.resource.namespaced;
  return true;
}

/** True when the request's labels satisfy the objectSelector (new or old object). */
export function objectSelectorMatches(sel: LabelSelector | undefined, req: AdmissionRequest): boolean {
  if (sel === undefined) return true;
  const s = labelSelectorAsSelector(sel);
  if (s.empty()) return true;
  const matches = (o: AdmissionRequest['object']) => o !== undefined && s.matches(o.metadata?.labels ?? {});
  return matches(req.object) || matches(req.oldObject);
}

/**
 * True when the namespaceSelector admits the request. `namespaceLabels` is undefined for
 * cluster-scoped resources (which always match); a Namespace is judged by its own labels.
 */
export function namespaceSelectorMatches(
  sel: LabelSelector | undefined,
  req: AdmissionRequest,
  namespaceLabels: Record<string, string> | undefined,
): boolean {
  if (sel === undefined) return true;
  const s = labelSelectorAsSelector(sel);
  if (s.empty()) return true;
  if (req.resource.group === '' && req.resource.plural === 'namespaces') {
    return s.matches((req.object ?? req.oldObject)?.metadata?.labels ?? {});
  }
  if (!req.resource.namespaced || namespaceLabels === undefined) return true;
  return s.matches(namespaceLabels);
}

/**
 * The matchConditions verdict (true when there are none); throws upstream's 403 when a
 * condition errors and the webhook fails closed.
 */
export function matchConditionsMatch(hook: WebhookMatchSpec, req: AdmissionRequest): boolean {
  const conds = hook.matchConditions ?? [];
  if (conds.length === 0) return true;
  const verdict = evaluateMatchConditions(conds, admissionVariables(req), hook.failurePolicy);
  if ('error' in verdict) {
    throw forbidden(
      { group: req.resource.group, resource: req.resource.plural },
      objectNameOf(req),
      verdict.error,
    );
  }
  return verdict.matches;
}

/** True when the webhook's rules and selectors all admit the request. */
export function webhookMatches(
  hook: WebhookMatchSpec,
  req: AdmissionRequest,
  namespaceLabels: Record<string, string> | undefined,
): boolean {
  if (!(hook.rules ?? []).some((r) => ruleMatches(r, req))) return false;
  if (!namespaceSelectorMatches(hook.namespaceSelector, req, namespaceLabels)) return false;
  if (!objectSelectorMatches(hook.objectSelector, req)) return false;
  return matchConditionsMatch(hook, req);
}
