// Defaults of admissionregistration.k8s.io/v1 (upstream pkg/apis/admissionregistration/v1
// defaults.go): webhooks fail closed after 10 s, match equivalent versions and carry empty
// (match-all) selectors; rules cover every scope; a webhook Service listens on 443;
// mutating webhooks are not reinvoked; a ValidatingAdmissionPolicy fails closed and its
// (and a binding's) match resources get the same policy and selectors as webhooks.
import type {
  MatchResources,
  MutatingWebhook,
  MutatingWebhookConfiguration,
  RuleWithOperations,
  ValidatingAdmissionPolicy,
  ValidatingAdmissionPolicyBinding,
  ValidatingWebhook,
  ValidatingWebhookConfiguration,
} from '../generated/types/admissionregistration-v1.js';

function defaultRules(rules: RuleWithOperations[] | undefined): void {
  for (const r of rules ?? []) r.scope ??= '*';
}

function defaultWebhook(w: ValidatingWebhook | MutatingWebhook): void {
  w.failurePolicy ??= 'Fail';
  w.matchPolicy ??= 'Equivalent';
  w.namespaceSelector ??= {};
  w.objectSelector ??= {};
  w.timeoutSeconds ??= 10;
  defaultRules(w.rules);
  const svc = w.clientConfig?.service;
  if (svc) svc.port ??= 443;
}

function defaultMatchResources(m: MatchResources | undefined): void {
  if (m === undefined) return;
  m.matchPolicy ??= 'Equivalent';
  m.namespaceSelector ??= {};
  m.objectSelector ??= {};
  defaultRules(m.resourceRules);
  defaultRules(m.excludeResourceRules);
}

/** SetDefaults_ValidatingWebhook over a configuration's webhooks. */
export function defaultValidatingWebhookConfiguration(c: ValidatingWebhookConfiguration): void {
  for (const w of c.webhooks ?? []) defaultWebhook(w);
}

/** SetDefaults_MutatingWebhook (adds reinvocationPolicy Never) over a configuration's webhooks. */
export function defaultMutatingWebhookConfiguration(c: MutatingWebhookConfiguration): void {
  for (const w of c.webhooks ?? []) {
    defaultWebhook(w);
    w.reinvocationPolicy ??= 'Never';
  }
}

/** SetDefaults_ValidatingAdmissionPolicySpec and its MatchResources. */
export function defaultValidatingAdmissionPolicy(p: ValidatingAdmissionPolicy): void {
  const spec = p.spec;
  if (spec == null) return;
  spec.failurePolicy ??= 'Fail';
  defaultMatchResources(spec.matchConstraints);
}

/** A binding's MatchResources, when it has one. */
export function defaultValidatingAdmissionPolicyBinding(b: ValidatingAdmissionPolicyBinding): void {
  defaultMatchResources(b.spec?.matchResources);
}
