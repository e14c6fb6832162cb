// The admission chain: the built-in plugins in upstream's default order, adapted to the
// AdmissionHooks the generic Store calls. On create and update the Store calls `mutate`
// (every plugin's mutating phase, in order) after defaulting and `validate` (every
// validating phase, in order) after validation; on delete it calls `validateDelete`, which
// runs both phases of every plugin with the DELETE operation, as upstream's delete handler
// does.
import type { AdmissionHooks } from '../registry/store.js';
import type { KObject } from '../registry/object.js';
import type { StoreRegistry } from '../stores.js';
import { defaultStorageClassAdmission } from './default-storage-class.js';
import { defaultTolerationSeconds } from './default-toleration-seconds.js';
import { limitRanger } from './limit-ranger.js';
import { namespaceLifecycle } from './namespace-lifecycle.js';
import { nodeRestriction } from './node-restriction.js';
import { type PodSecurityOptions, podSecurity } from './pod-security.js';
import { priorityAdmission } from './priority.js';
import { type ResourceQuotaOptions, resourceQuotaAdmission } from './resource-quota.js';
import { type ServiceAccountOptions, serviceAccountAdmission } from './service-account.js';
import { storageObjectInUseProtection } from './storage-object-in-use-protection.js';
import { taintNodesByCondition } from './taint-nodes-by-condition.js';
import type { AdmissionOperation, AdmissionPlugin, AdmissionRequest } from './types.js';
import { validatingAdmissionPolicy } from './validating-admission-policy.js';
import { mutatingAdmissionWebhook, validatingAdmissionWebhook, type WebhookOptions } from './webhook.js';

/** Upstream's default plugin order. */
// ResourceQuota goes last, as upstream's: it reserves usage, which must not happen for a
// request a policy or webhook then refuses.
export const DEFAULT_PLUGIN_ORDER = [
  'NamespaceLifecycle',
  'LimitRanger',
  'ServiceAccount',
  'NodeRestriction',
  'TaintNodesByCondition',
  'PodSecurity',
  'Priority',
  'DefaultTolerationSeconds',
  'DefaultStorageClass',
  'StorageObjectInUseProtection',
  'MutatingAdmissionWebhook',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionWebhook',
  'ResourceQuota',
] as const;

/** Upstream plugin names. */
export type PluginName = (typeof DEFAULT_PLUGIN_ORDER)[number];

/** How to build the chain. */
export interface AdmissionChainOptions {
  /** Plugins to leave out (`--disable-admission-plugins`). */
  disable?: PluginName[];
  serviceAccount?: ServiceAccountOptions;
  podSecurity?: PodSecurityOptions;
  resourceQuota?: ResourceQuotaOptions;
  webhooks?: WebhookOptions;
}

/** What `hooksFor` needs to know about a request. */
export type AdmissionAttributes = Omit<AdmissionRequest, 'object' | 'oldObject'>;

/** A built chain. */
export interface AdmissionChain {
  /** The plugins, in order. */
  readonly plugins: readonly AdmissionPlugin[];
  /** The hooks the Store calls for one request. */
  hooksFor(attrs: AdmissionAttributes): AdmissionHooks;
  /** Releases what the plugins hold. */
  close(): void;
}

function build(name: PluginName, stores: StoreRegistry, opts: AdmissionChainOptions): AdmissionPlugin {
  switch (name) {
    case 'NamespaceLifecycle':
      return namespaceLifecycle(stores);
    case 'LimitRanger':
      return limitRanger(stores);
    case 'ServiceAccount':
      return serviceAccountAdmission(stores, opts.serviceAccount);
    case 'NodeRestriction':
      return nodeRestriction(stores);
    case 'TaintNodesByCondition':
      return taintNodesByCondition();
    case 'Priority':
      return priorityAdmission(stores);
    case 'DefaultTolerationSeconds':
      return defaultTolerationSeconds();
    case 'DefaultStorageClass':
      return defaultStorageClassAdmission(stores);
    case 'StorageObjectInUseProtection':
      return storageObjectInUseProtection();
    case 'PodSecurity':
      return podSecurity(stores, opts.podSecurity);
    case 'ResourceQuota':
      return resourceQuotaAdmission(stores, opts.resourceQuota);
    case 'MutatingAdmissionWebhook':
      return mutatingAdmissionWebhook(stores, opts.webhooks);
    case 'ValidatingAdmissionPolicy':
      return validatingAdmissionPolicy(stores);
    case 'ValidatingAdmissionWebhook':
      return validatingAdmissionWebhook(stores, opts.webhooks);
  }
}

/** Runs plugins over a request: every mutating phase, then every validating phase. */
async function runPhase(
  plugins: readonly AdmissionPlugin[],
  phase: 'admit' | 'validate',
  req: AdmissionRequest,
): Promise<void> {
  for (const p of plugins) {
    const fn = p[phase];
    if (fn) await fn.call(p, req);
  }
}

/** Builds the chain from explicit plugins (tests and custom servers). */
export function chainOf(plugins: AdmissionPlugin[]): AdmissionChain {
  return {
    plugins,
    hooksFor(attrs: AdmissionAttributes): AdmissionHooks {
      // The Store reaches create-on-update through the update path: the operation follows
      // whether there is an old object.
      const op = (old: KObject | undefined): AdmissionOperation =>
        attrs.operation === 'CONNECT' ? 'CONNECT' : old === undefined ? 'CREATE' : 'UPDATE';
      return {
        mutate: (obj, old) =>
          runPhase(plugins, 'admit', { ...attrs, operation: op(old), object: obj, oldObject: old }),
        validate: (obj, old) =>
          runPhase(plugins, 'validate', { ...attrs, operation: op(old), object: obj, oldObject: old }),
        async validateDelete(old: KObject): Promise<void> {
          const req: AdmissionRequest = { ...attrs, operation: 'DELETE', object: undefined, oldObject: old };
          await runPhase(plugins, 'admit', req);
          await runPhase(plugins, 'validate', req);
        },
      };
    },
    close(): void {
      for (const p of plugins) p.close?.();
    },
  };
}

/** Builds the default chain: upstream's plugins in upstream's order, minus `opts.disable`. */
export function createAdmissionChain(
  stores: StoreRegistry,
  opts: AdmissionChainOptions = {},
): AdmissionChain {
  const disabled = new Set(opts.disable ?? []);
  return chainOf(DEFAULT_PLUGIN_ORDER.filter((n) => !disabled.has(n)).map((n) => build(n, stores, opts)));
}
