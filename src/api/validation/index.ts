// Validation of API objects. Two layers, run in this order on every write:
//  1. validateSchema (schema-validate.ts): structural checks against the generated schema
//     table as upstream's typed decoder makes them — wrong JSON types fail with 400, unknown
//     and duplicate fields follow the fieldValidation mode (Strict / Warn / Ignore);
//  2. validateObject / validateObjectUpdate (this file): upstream's semantic rules of
//     pkg/apis/*/validation per kind, returning FieldError lists with upstream's paths and
//     messages, for the caller to wrap with `invalid(kind, group, name, errors)`.
// Defaulting (src/api/defaults) runs between the two. Kinds without semantic rules here get
// only the generic metadata rules (name per kind is a DNS-1123 subdomain unless known
// otherwise; namespace required or forbidden by scope).
import type { FieldError } from '../../machinery/status-error.js';
import { nameIsDNSSubdomain, validatePathSegmentName } from '../../machinery/validation/names.js';
import type { GroupVersionKind } from '../schema-types.js';
import { validateCronJob, validateCronJobUpdate, validateJob, validateJobUpdate } from './batch.js';
import {
  validateConfigMap,
  validateConfigMapUpdate,
  validateLease,
  validatePriorityClass,
  validatePriorityClassUpdate,
  validateResourceQuota,
  validateNamespace,
  validateNamespacedBasic,
  validateNode,
  validatePersistentVolumeClaim,
  validateSecret,
  validateSecretUpdate,
  validateServiceAccount,
} from './core-misc.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './object-meta.js';
import { validatePod, validatePodUpdate } from './pod.js';
import { validateService, validateServiceUpdate } from './service.js';
import {
  validateDaemonSet,
  validateDaemonSetUpdate,
  validateDeployment,
  validateDeploymentUpdate,
  validateReplicaSet,
  validateReplicaSetUpdate,
  validateStatefulSet,
  validateStatefulSetUpdate,
} from './workloads.js';

export type { FieldValidationMode, SchemaValidateOptions, SchemaValidateResult } from './schema-validate.js';
export { validateSchema } from './schema-validate.js';
export { validateObjectMeta, validateObjectMetaUpdate } from './object-meta.js';
export { validatePodSpec, validatePodTemplateSpec } from './pod.js';

/** Options of validateObject. */
export interface ValidateObjectOptions {
  /** Scope of the kind; defaults to the built-in table, else namespaced. */
  namespaced?: boolean;
}

// The validators take the generated object types; the tables erase them to one signature.
type CreateValidator = (obj: never) => FieldError[];
type UpdateValidator = (obj: never, old: never) => FieldError[];

const creates = new Map<string, CreateValidator>([
  ['/Pod', validatePod],
  ['/Service', validateService],
  ['/ConfigMap', validateConfigMap],
  ['/Secret', validateSecret],
  ['/Namespace', validateNamespace],
  ['/ServiceAccount', validateServiceAccount],
  ['/Node', validateNode],
  ['/PersistentVolumeClaim', validatePersistentVolumeClaim],
  ['/ResourceQuota', validateResourceQuota],
  ['/Endpoints', validateNamespacedBasic],
  ['/Event', validateNamespacedBasic],
  ['apps/Deployment', validateDeployment],
  ['apps/ReplicaSet', validateReplicaSet],
  ['apps/StatefulSet', validateStatefulSet],
  ['apps/DaemonSet', validateDaemonSet],
  ['batch/Job', validateJob],
  ['batch/CronJob', validateCronJob],
  ['coordination.k8s.io/Lease', validateLease],
  ['scheduling.k8s.io/PriorityClass', validatePriorityClass],
]);

const updates = new Map<string, UpdateValidator>([
  ['/Pod', validatePodUpdate],
  ['/Service', validateServiceUpdate],
  ['/ConfigMap', validateConfigMapUpdate],
  ['/Secret', validateSecretUpdate],
  ['apps/Deployment', validateDeploymentUpdate],
  ['apps/ReplicaSet', validateReplicaSetUpdate],
  ['apps/StatefulSet', validateStatefulSetUpdate],
  ['apps/DaemonSet', validateDaemonSetUpdate],
  ['batch/Job', validateJobUpdate],
  ['batch/CronJob', validateCronJobUpdate],
  ['scheduling.k8s.io/PriorityClass', validatePriorityClassUpdate],
]);

// Cluster-scoped kinds among the core and common groups; everything else is namespaced
// unless the caller says otherwise.
const clusterScoped = new Set([
  '/Namespace',
  '/Node',
  '/PersistentVolume',
  '/ComponentStatus',
  'rbac.authorization.k8s.io/ClusterRole',
  'rbac.authorization.k8s.io/ClusterRoleBinding',
  'storage.k8s.io/StorageClass',
  'storage.k8s.io/CSIDriver',
  'storage.k8s.io/CSINode',
  'storage.k8s.io/VolumeAttachment',
  'scheduling.k8s.io/PriorityClass',
  'networking.k8s.io/IngressClass',
  'node.k8s.io/RuntimeClass',
  'apiextensions.k8s.io/CustomResourceDefinition',
  'apiregistration.k8s.io/APIService',
  'certificates.k8s.io/CertificateSigningRequest',
  'admissionregistration.k8s.io/ValidatingWebhookConfiguration',
  'admissionregistration.k8s.io/MutatingWebhookConfiguration',
  'flowcontrol.apiserver.k8s.io/FlowSchema',
  'flowcontrol.apiserver.k8s.io/PriorityLevelConfiguration',
]);

const PATH_SEGMENT_NAMES = new Set(['certificates.k8s.io/CertificateSigningRequest']);

function key(gvk: GroupVersionKind): string {
  return `${gvk.group}/${gvk.kind}`;
}

type WithMeta = { metadata?: Parameters<typeof validateObjectMeta>[0] };

/** Semantic validation of a new object (after defaulting); empty when valid. */
export function validateObject(
  obj: unknown,
  gvk: GroupVersionKind,
  opts: ValidateObjectOptions = {},
): FieldError[] {
  const k = key(gvk);
  const fn = creates.get(k);
  if (fn !== undefined) return (fn as (o: unknown) => FieldError[])(obj ?? {});
  const namespaced = opts.namespaced ?? !clusterScoped.has(k);
  // RBAC names only need to be valid path segments upstream (`system:aggregate-to-admin`), and
  // so do CSR names (the kubelet's `node-csr-<base64url digest>` has capitals and `_`).
  const nameFn =
    PATH_SEGMENT_NAMES.has(k) || k.startsWith('rbac.authorization.k8s.io/')
      ? validatePathSegmentName
      : nameIsDNSSubdomain;
  return validateObjectMeta((obj as WithMeta | null)?.metadata, namespaced, nameFn);
}

/** Semantic validation of an update (newObj after defaulting, oldObj as stored). */
export function validateObjectUpdate(newObj: unknown, oldObj: unknown, gvk: GroupVersionKind): FieldError[] {
  const k = key(gvk);
  const fn = updates.get(k);
  if (fn !== undefined) return (fn as (n: unknown, o: unknown) => FieldError[])(newObj ?? {}, oldObj ?? {});
  const errs = validateObjectMetaUpdate(
    (newObj as WithMeta | null)?.metadata,
    (oldObj as WithMeta | null)?.metadata,
  );
  const create = creates.get(k);
  if (create !== undefined) {
    errs.push(
      ...(create as (o: unknown) => FieldError[])(newObj ?? {}).filter(
        (e) => !e.field.startsWith('metadata.'),
      ),
    );
  }
  return errs;
}
