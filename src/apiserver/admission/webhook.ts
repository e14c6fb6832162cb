// MutatingAdmissionWebhook and ValidatingAdmissionWebhook (upstream
// apiserver/pkg/admission/plugin/webhook/{mutating,validating}): every matching webhook of
// every Mutating/ValidatingWebhookConfiguration is called with an AdmissionReview v1.
// Mutating webhooks run one after another (configurations by name, webhooks in order) and
// may answer with a JSONPatch; those with `reinvocationPolicy: IfNeeded` run once more when
// a later webhook changed the object. Validating webhooks run concurrently. A denial reads
// `admission webhook "<name>" denied the request: <message>`; a failed call is a 500
// `failed calling webhook` under failurePolicy Fail (the default) and is skipped under
// Ignore; webhook warnings become `Warning` headers.
import type {
  MutatingWebhook,
  MutatingWebhookConfiguration,
  ValidatingWebhook,
  ValidatingWebhookConfiguration,
} from '../../api/generated/types/admissionregistration-v1.js';
import { applyJSONPatch } from '../../machinery/patch/json-patch.js';
import { badRequest, internalError, StatusError, type StatusReason } from '../../machinery/status-error.js';
import { deepCopy, jsonEqual, type KObject } from '../registry/object.js';
import type { StoreRegistry } from '../stores.js';
import { getOrUndefined, listObjects } from './attributes.js';
import type { AdmissionPlugin, AdmissionRequest } from './types.js';
import {
  type AdmissionResponse,
  admissionReview,
  CallError,
  httpsTransport,
  parseReviewResponse,
  resolveClientConfig,
  type WebhookTransport,
} from './webhook-client.js';
import { isExemptFromWebhooks, webhookMatches } from './webhook-matcher.js';

/** Options shared by both webhook plugins. */
export interface WebhookOptions {
  /** Replaces the HTTPS transport (tests). */
  transport?: WebhookTransport;
}

type AnyWebhook = MutatingWebhook | ValidatingWebhook;

/** upstream webhookerrors.ToStatusErr: the denial a webhook answered. */
export function webhookDenial(name: string, status: AdmissionResponse['status']): StatusError {
  const deniedBy = `admission webhook "${name}" denied the request`;
  const s = status ?? {};
  const code = s.code !== undefined && s.code >= 400 ? s.code : 400;
  let message: string;
  if (s.message) message = `${deniedBy}: ${s.message}`;
  else if (s.reason) message = `${deniedBy}: ${s.reason}`;
  else message = `${deniedBy} without explanation`;
  return new StatusError({
    code,
    message,
    ...(s.reason ? { reason: s.reason as StatusReason } : {}),
    ...(s.details && typeof s.details === 'object' ? { details: s.details as object } : {}),
  });
}

function sortedByName<T extends { metadata?: { name?: string } }>(items: T[]): T[] {
  return [...items].sort((a, b) => {
    const x = a.metadata?.name ?? '';
    const y = b.metadata?.name ?? '';
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

/** Calls one webhook; returns its response, undefined when skipped (Ignore), or throws. */
async function callHook(
  stores: StoreRegistry,
  transport: WebhookTransport,
  hook: AnyWebhook,
  req: AdmissionRequest,
): Promise<AdmissionResponse | undefined> {
  if (req.dryRun && hook.sideEffects !== 'None' && hook.sideEffects !== 'NoneOnDryRun') {
    throw badRequest(`admission webhook "${hook.name}" does not support dry run`);
  }
  const ignore = hook.failurePolicy === 'Ignore';
  const timeoutMs = (hook.timeoutSeconds ?? 10) * 1000;
  try {
    const ep = await resolveClientConfig(stores, hook.clientConfig);
    const review = admissionReview(req);
    const uid = (review.request as { uid: string }).uid;
    const body = await transport(ep, JSON.stringify(review), timeoutMs);
    return parseReviewResponse(body, uid);
  } catch (e) {
    if (e instanceof StatusError) throw e;
    if (ignore) return undefined;
    const why = e instanceof CallError ? e.message : e instanceof Error ? e.message : String(e);
    const msg = why.startsWith('failed to call webhook') ? why : `failed to call webhook: ${why}`;
    throw internalError(`failed calling webhook "${hook.name}": ${msg}`);
  }
}

function addWarnings(req: AdmissionRequest, r: AdmissionResponse): void {
  for (const w of r.warnings ?? []) if (typeof w === 'string' && w !== '') req.warn?.(w);
}

async function namespaceLabels(
  stores: StoreRegistry,
  req: AdmissionRequest,
): Promise<Record<string, string> | undefined> {
  if (!req.resource.namespaced || req.namespace === '') return undefined;
  const ns = await getOrUndefined(stores, '', 'namespaces', '', req.namespace);
  return ns?.metadata?.labels ?? {};
}

/** The MutatingAdmissionWebhook plugin. */
export function mutatingAdmissionWebhook(stores: StoreRegistry, opts: WebhookOptions = {}): AdmissionPlugin {
  const transport = opts.transport ?? httpsTransport;

  async function invoke(hook: MutatingWebhook, req: AdmissionRequest): Promise<boolean> {
    const r = await callHook(stores, transport, hook, req);
    if (!r) return false;
    addWarnings(req, r);
    if (!r.allowed) throw webhookDenial(hook.name, r.status);
    if (!r.patch || !req.object) return false;
    if (r.patchType !== undefined && r.patchType !== 'JSONPatch') {
      throw internalError(`failed calling webhook "${hook.name}": unsupported patch type "${r.patchType}"`);
    }
    let patched: unknown;
    try {
      const ops = JSON.parse(Buffer.from(r.patch, 'base64').toString('utf8')) as unknown;
      patched = applyJSONPatch(deepCopy(req.object), ops);
    } catch (e) {
      const cause = e instanceof Error && e.cause instanceof Error ? e.cause : e;
      throw internalError(cause instanceof Error ? cause.message : String(cause));
    }
    if (jsonEqual(patched, req.object)) return false;
    // The Store holds a reference to req.object: change it in place.
    const target = req.object as Record<string, unknown>;
    for (const k of Object.keys(target)) delete target[k];
    Object.assign(target, patched as KObject);
    return true;
  }

  return {
    name: 'MutatingAdmissionWebhook',
    async admit(req: AdmissionRequest): Promise<void> {
      if (isExemptFromWebhooks(req)) return;
      const configs = sortedByName(
        (await listObjects(
          stores,
          'admissionregistration.k8s.io',
          'mutatingwebhookconfigurations',
          '',
        )) as unknown as MutatingWebhookConfiguration[],
      );
      const hooks = configs.flatMap((c) => c.webhooks ?? []);
      if (hooks.length === 0) return;
      const nsLabels = await namespaceLabels(stores, req);
      // For reinvocation: the object as each IfNeeded webhook left it.
      const after = new Map<MutatingWebhook, unknown>();
      for (const hook of hooks) {
        if (!webhookMatches(hook, req, nsLabels)) continue;
        await invoke(hook, req);
        if (hook.reinvocationPolicy === 'IfNeeded') after.set(hook, deepCopy(req.object));
      }
      const again = hooks.filter((h) => after.has(h) && !jsonEqual(after.get(h), req.object));
      for (const hook of again) {
        if (webhookMatches(hook, req, nsLabels)) await invoke(hook, req);
      }
    },
  };
}

/** The ValidatingAdmissionWebhook plugin. */
export function validatingAdmissionWebhook(
  stores: StoreRegistry,
  opts: WebhookOptions = {},
): AdmissionPlugin {
  const transport = opts.transport ?? httpsTransport;
  return {
    name: 'ValidatingAdmissionWebhook',
    async validate(req: AdmissionRequest): Promise<void> {
      if (isExemptFromWebhooks(req)) return;
      const configs = sortedByName(
        (await listObjects(
          stores,
          'admissionregistration.k8s.io',
          'validatingwebhookconfigurations',
          '',
        )) as unknown as ValidatingWebhookConfiguration[],
      );
      const hooks = configs.flatMap((c) => c.webhooks ?? []);
      if (hooks.length === 0) return;
      const nsLabels = await namespaceLabels(stores, req);
      const matching = hooks.filter((h) => webhookMatches(h, req, nsLabels));
      const results = await Promise.allSettled(matching.map((h) => callHook(stores, transport, h, req)));
      // Report the first failure in configuration order, as upstream's dispatcher does.
      for (let i = 0; i < results.length; i++) {
        const res = results[i]!;
        if (res.status === 'rejected') throw res.reason;
        const r = res.value;
        if (!r) continue;
        addWarnings(req, r);
        if (!r.allowed) throw webhookDenial(matching[i]!.name, r.status);
      }
    },
  };
}
