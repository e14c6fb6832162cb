// Validation of the small core/v1 kinds and a few of other groups (upstream
// pkg/apis/core/validation and coordination/validation): ConfigMap and Secret (keys, the
// 1 MiB limit, secret types with their required keys, `immutable`), Namespace,
// ServiceAccount, Node, PersistentVolumeClaim, Endpoints, Event, Lease (basic rules),
// ResourceQuota (resource names and quantities of spec.hard) and scheduling/v1 PriorityClass.
import type { FieldError } from '../../machinery/status-error.js';
import {
  isConfigMapKey,
  isQualifiedName,
  nameIsDNSSubdomain,
  validateNamespaceName,
  validateServiceAccountName,
} from '../../machinery/validation/names.js';
import type { Lease } from '../generated/types/coordination-v1.js';
import type {
  ConfigMap,
  Namespace,
  Node,
  PersistentVolumeClaim,
  ResourceQuota,
  Secret,
  ServiceAccount,
} from '../generated/types/core-v1.js';
import type { PriorityClass } from '../generated/types/scheduling-v1.js';
import {
  cachedQuantity,
  forbidden,
  immutable,
  invalidEach,
  invalidValue,
  jsonEqual,
  listOf,
  nonNegative,
  notSupported,
  required,
  tooLong,
} from './field.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './object-meta.js';

/** Upstream's MaxSecretSize, which also bounds ConfigMaps. */
export const MAX_SECRET_SIZE = 1024 * 1024;

// Secret data arrives base64-encoded; its size limit is on the decoded bytes.
function base64DecodedLength(s: string): number {
  let pad = 0;
  if (s.endsWith('==')) pad = 2;
  else if (s.endsWith('=')) pad = 1;
  return Math.floor((s.replace(/[\r\n]/g, '').length * 3) / 4) - pad;
}

/** ValidateConfigMap. */
export function validateConfigMap(cm: ConfigMap): FieldError[] {
  const errs = validateObjectMeta(cm.metadata, true, nameIsDNSSubdomain);
  const data = cm.data ?? {};
  const binary = cm.binaryData ?? {};
  let total = 0;
  for (const key in data) {
    errs.push(...invalidEach(`data[${key}]`, key, isConfigMapKey(key)));
    if (key in binary) errs.push(invalidValue(`data[${key}]`, key, 'duplicate of key present in binaryData'));
    total += Buffer.byteLength(data[key] ?? '', 'utf8');
  }
  for (const key in binary) {
    errs.push(...invalidEach(`binaryData[${key}]`, key, isConfigMapKey(key)));
    if (key in data) errs.push(invalidValue(`binaryData[${key}]`, key, 'duplicate of key present in data'));
    total += base64DecodedLength(binary[key] ?? '');
  }
  if (total > MAX_SECRET_SIZE) errs.push(tooLong('', '<value omitted>', MAX_SECRET_SIZE));
  return errs;
}

function immutableDataRules(
  oldImmutable: boolean | undefined,
  newImmutable: boolean | undefined,
  pairs: [string, unknown, unknown][],
): FieldError[] {
  if (oldImmutable !== true) return [];
  const errs: FieldError[] = [];
  if (newImmutable !== true) errs.push(forbidden('immutable', 'field is immutable when `immutable` is set'));
  for (const [field, n, o] of pairs) {
    if (!jsonEqual(n, o)) errs.push(forbidden(field, 'field is immutable when `immutable` is set'));
  }
  return errs;
}

/** ValidateConfigMapUpdate. */
export function validateConfigMapUpdate(cm: ConfigMap, old: ConfigMap): FieldError[] {
  const errs = validateObjectMetaUpdate(cm.metadata, old.metadata);
  errs.push(
    ...immutableDataRules(old.immutable, cm.immutable, [
      ['data', cm.data, old.data],
      ['binaryData', cm.binaryData, old.binaryData],
    ]),
  );
  errs.push(...validateConfigMap(cm).filter((e) => !e.field.startsWith('metadata.')));
  return errs;
}

/** ValidateSecret: keys, size, and the keys each well-known type requires. */
export function validateSecret(s: Secret): FieldError[] {
  const errs = validateObjectMeta(s.metadata, true, nameIsDNSSubdomain);
  const data = s.data ?? {};
  let total = 0;
  for (const key in data) {
    errs.push(...invalidEach(`data[${key}]`, key, isConfigMapKey(key)));
    total += base64DecodedLength(data[key] ?? '');
  }
  if (total > MAX_SECRET_SIZE) errs.push(tooLong('data', '', MAX_SECRET_SIZE));
  const has = (k: string) => Object.hasOwn(data, k);
  switch (s.type ?? '') {
    case 'kubernetes.io/service-account-token':
      if ((s.metadata?.annotations?.['kubernetes.io/service-account.name'] ?? '') === '') {
        errs.push(required('metadata.annotations[kubernetes.io/service-account.name]'));
      }
      break;
    case 'kubernetes.io/dockercfg':
      errs.push(...dockerConfig(data, '.dockercfg'));
      break;
    case 'kubernetes.io/dockerconfigjson':
      errs.push(...dockerConfig(data, '.dockerconfigjson'));
      break;
    case 'kubernetes.io/basic-auth':
      if (!has('username') && !has('password')) {
        errs.push(required('data[username]'), required('data[password]'));
      }
      break;
    case 'kubernetes.io/ssh-auth':
      if ((data['ssh-privatekey'] ?? '') === '') errs.push(required('data[ssh-privatekey]'));
      break;
    case 'kubernetes.io/tls':
      if (!has('tls.crt')) errs.push(required('data[tls.crt]'));
      if (!has('tls.key')) errs.push(required('data[tls.key]'));
      break;
    default:
  }
  return errs;
}

function dockerConfig(data: Record<string, string>, key: string): FieldError[] {
  const v = data[key];
  if (v === undefined) return [required(`data[${key}]`)];
  try {
    JSON.parse(Buffer.from(v, 'base64').toString('utf8'));
  } catch (e) {
    return [invalidValue(`data[${key}]`, '<secret contents redacted>', (e as Error).message)];
  }
  return [];
}

/** ValidateSecretUpdate: type is immutable, as is data once `immutable` is set. */
export function validateSecretUpdate(s: Secret, old: Secret): FieldError[] {
  const errs = validateObjectMetaUpdate(s.metadata, old.metadata);
  errs.push(...immutable(s.type ?? '', old.type ?? '', 'type'));
  errs.push(...immutableDataRules(old.immutable, s.immutable, [['data', s.data, old.data]]));
  errs.push(...validateSecret(s).filter((e) => !e.field.startsWith('metadata.')));
  return errs;
}

/** ValidateNamespace (cluster-scoped, DNS-1123 label names, qualified finalizers). */
export function validateNamespace(ns: Namespace): FieldError[] {
  const errs = validateObjectMeta(ns.metadata, false, validateNamespaceName);
  listOf(ns.spec?.finalizers).forEach((f, i) => {
    const path = `spec.finalizers[${i}]`;
    const msgs = isQualifiedName(f);
    if (msgs.length > 0) errs.push(...invalidEach(path, f, msgs));
    else if (!f.includes('/') && f !== 'kubernetes') {
      errs.push(invalidValue(path, f, 'name is neither a standard finalizer name nor is it fully qualified'));
    }
  });
  return errs;
}

/** ValidateServiceAccount. */
export function validateServiceAccount(sa: ServiceAccount): FieldError[] {
  return validateObjectMeta(sa.metadata, true, validateServiceAccountName);
}

/** ValidateNode (basic: name, taints). */
export function validateNode(node: Node): FieldError[] {
  const errs = validateObjectMeta(node.metadata, false, nameIsDNSSubdomain);
  listOf(node.spec?.taints).forEach((t, i) => {
    const path = `spec.taints[${i}]`;
    const key = t.key ?? '';
    if (key === '') errs.push(required(`${path}.key`));
    else errs.push(...invalidEach(`${path}.key`, key, isQualifiedName(key)));
    const effect = t.effect ?? '';
    if (effect === '') errs.push(required(`${path}.effect`));
    else if (effect !== 'NoSchedule' && effect !== 'PreferNoSchedule' && effect !== 'NoExecute') {
      errs.push(notSupported(`${path}.effect`, effect, ['NoSchedule', 'PreferNoSchedule', 'NoExecute']));
    }
  });
  return errs;
}

/** ValidatePersistentVolumeClaim (basic: access modes and a storage request). */
export function validatePersistentVolumeClaim(pvc: PersistentVolumeClaim): FieldError[] {
  const errs = validateObjectMeta(pvc.metadata, true, nameIsDNSSubdomain);
  const spec = pvc.spec ?? {};
  const modes = listOf(spec.accessModes);
  if (modes.length === 0 && spec.dataSourceRef == null) {
    errs.push(required('spec.accessModes', 'at least 1 access mode is required'));
  }
  const valid = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];
  for (const m of modes) if (!valid.includes(m)) errs.push(notSupported('spec.accessModes', m, valid));
  if (spec.resources?.requests?.storage == null) errs.push(required('spec.resources[storage]'));
  return errs;
}

/** Basic metadata validation for namespaced kinds without further rules (Endpoints, Event, …). */
export function validateNamespacedBasic(obj: {
  metadata?: Parameters<typeof validateObjectMeta>[0];
}): FieldError[] {
  return validateObjectMeta(obj.metadata, true, nameIsDNSSubdomain);
}

/** ValidateLease (coordination/v1). */
export function validateLease(lease: Lease): FieldError[] {
  const errs = validateObjectMeta(lease.metadata, true, nameIsDNSSubdomain);
  const spec = lease.spec ?? {};
  if (spec.leaseDurationSeconds != null && spec.leaseDurationSeconds <= 0) {
    errs.push(invalidValue('spec.leaseDurationSeconds', spec.leaseDurationSeconds, 'must be greater than 0'));
  }
  errs.push(...nonNegative(spec.leaseTransitions, 'spec.leaseTransitions'));
  return errs;
}

/** Upstream's HighestUserDefinablePriority. */
const HIGHEST_USER_DEFINABLE_PRIORITY = 1000000000;
/** The classes only the system may define under the `system-` prefix, with their values. */
const SYSTEM_PRIORITY_CLASSES: Record<string, number> = {
  'system-node-critical': 2000001000,
  'system-cluster-critical': 2000000000,
};

// IsKnownSystemPriorityClass: the reason a `system-` class is refused, or undefined.
function systemPriorityClassError(name: string, value: number, globalDefault: boolean): string | undefined {
  const want = SYSTEM_PRIORITY_CLASSES[name];
  if (want === undefined) return `${name} is not a known system priority class`;
  if (value !== want) return `value of ${name} PriorityClass must be ${want}`;
  if (globalDefault) return `globalDefault of ${name} PriorityClass must be false`;
  return undefined;
}

/** ValidatePriorityClass (scheduling/v1). */
export function validatePriorityClass(pc: PriorityClass): FieldError[] {
  const errs = validateObjectMeta(pc.metadata, false, nameIsDNSSubdomain);
  const name = pc.metadata?.name ?? '';
  const value = pc.value ?? 0;
  if (name.startsWith('system-')) {
    const why = systemPriorityClassError(name, value, pc.globalDefault === true);
    if (why !== undefined) {
      errs.push(
        forbidden(
          'metadata.name',
          `priority class names with 'system-' prefix are reserved for system use only. error: ${why}`,
        ),
      );
    }
  } else if (value > HIGHEST_USER_DEFINABLE_PRIORITY) {
    errs.push(
      forbidden(
        'value',
        `maximum allowed value of a user defined priority is ${HIGHEST_USER_DEFINABLE_PRIORITY}`,
      ),
    );
  }
  const policy = pc.preemptionPolicy;
  if (policy != null && policy !== 'Never' && policy !== 'PreemptLowerPriority') {
    errs.push(notSupported('preemptionPolicy', policy, ['Never', 'PreemptLowerPriority']));
  }
  return errs;
}

/** ValidatePriorityClassUpdate: value and preemptionPolicy are immutable. */
export function validatePriorityClassUpdate(pc: PriorityClass, old: PriorityClass): FieldError[] {
  const errs = validateObjectMetaUpdate(pc.metadata, old.metadata);
  if ((pc.value ?? 0) !== (old.value ?? 0)) errs.push(forbidden('value', 'may not be changed in an update.'));
  errs.push(...immutable(pc.preemptionPolicy, old.preemptionPolicy, 'preemptionPolicy'));
  return errs;
}

// Upstream's standardResources (IsStandardResourceName), the subset quota may count
// (standardQuotaResources) and the resources whose quantities must be whole numbers.
const STANDARD_RESOURCES = new Set([
  'cpu',
  'memory',
  'ephemeral-storage',
  'requests.cpu',
  'requests.memory',
  'requests.ephemeral-storage',
  'limits.cpu',
  'limits.memory',
  'limits.ephemeral-storage',
  'pods',
  'resourcequotas',
  'services',
  'replicationcontrollers',
  'secrets',
  'configmaps',
  'persistentvolumeclaims',
  'storage',
  'requests.storage',
  'services.nodeports',
  'services.loadbalancers',
]);
const NOT_QUOTA_RESOURCES = new Set(['storage']);
const INTEGER_RESOURCES = new Set([
  'pods',
  'resourcequotas',
  'services',
  'replicationcontrollers',
  'secrets',
  'configmaps',
  'persistentvolumeclaims',
  'services.nodeports',
  'services.loadbalancers',
]);

function isQuotaHugePages(name: string): boolean {
  return name.startsWith('hugepages-') || name.startsWith('requests.hugepages-');
}

// An extended resource: fully qualified outside the kubernetes.io domain, not requests./limits. prefixed.
function isExtendedResource(name: string): boolean {
  if (!name.includes('/') || name.startsWith('kubernetes.io/') || name.includes('.kubernetes.io/'))
    return false;
  return !name.startsWith('requests.') && !name.startsWith('limits.');
}

/** ValidateResourceQuota: spec.hard names a standard (or fully qualified) resource with a valid amount. */
export function validateResourceQuota(rq: ResourceQuota): FieldError[] {
  const errs = validateObjectMeta(rq.metadata, true, nameIsDNSSubdomain);
  for (const [name, value] of Object.entries(rq.spec?.hard ?? {})) {
    const path = `spec.hard[${name}]`;
    const nameErrs = isQualifiedName(name).map((m) => invalidValue(path, name, m));
    if (nameErrs.length === 0 && !name.includes('/')) {
      if (!STANDARD_RESOURCES.has(name) && !isQuotaHugePages(name)) {
        nameErrs.push(invalidValue(path, name, 'must be a standard resource type or fully qualified'));
      }
      if ((!STANDARD_RESOURCES.has(name) || NOT_QUOTA_RESOURCES.has(name)) && !isQuotaHugePages(name)) {
        nameErrs.push(invalidValue(path, name, 'must be a standard resource for quota'));
      }
    }
    errs.push(...nameErrs);
    const q = cachedQuantity(String(value));
    if (typeof q === 'string') continue;
    if (q.sign() < 0) errs.push(invalidValue(path, q.toString(), 'must be greater than or equal to 0'));
    if ((INTEGER_RESOURCES.has(name) || isExtendedResource(name)) && q.milliValue() % 1000 !== 0) {
      errs.push(invalidValue(path, q.toString(), 'must be an integer'));
    }
  }
  return errs;
}
