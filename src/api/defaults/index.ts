// Defaulting of API objects: applyDefaults(obj, gvk) fills unset fields in place with
// upstream's defaults (the SetDefaults_* functions of k8s.io/kubernetes pkg/apis/*/v*) for
// the kinds kts serves with defaults. It runs on decoded bodies after structural validation
// and before semantic validation, on every write, so it only reads and sets fields — no
// cloning, no schema walks. Kinds without defaults are left untouched.
import type { GroupVersionKind } from '../schema-types.js';
import {
  defaultMutatingWebhookConfiguration,
  defaultValidatingAdmissionPolicy,
  defaultValidatingAdmissionPolicyBinding,
  defaultValidatingWebhookConfiguration,
} from './admissionregistration.js';
import { defaultHorizontalPodAutoscaler } from './autoscaling.js';
import {
  defaultEndpointSlice,
  defaultEndpoints,
  defaultLimitRange,
  defaultNamespace,
  defaultNetworkPolicy,
  defaultNode,
  defaultPersistentVolume,
  defaultPersistentVolumeClaim,
  defaultRoleBinding,
  defaultSecret,
  defaultService,
} from './core.js';
import { defaultPod } from './pod.js';
import {
  defaultCronJob,
  defaultDaemonSet,
  defaultDeployment,
  defaultJob,
  defaultPodTemplate,
  defaultReplicaSet,
  defaultReplicationController,
  defaultStatefulSet,
} from './workloads.js';

export { defaultContainer, defaultPod, defaultPodSpec, defaultPullPolicy } from './pod.js';
export { defaultTemplate } from './workloads.js';

// The defaulters take the generated object types; the table erases them to one signature.
type Defaulter = (obj: never) => void;

const byKind = new Map<string, Defaulter>([
  ['/v1/Pod', defaultPod],
  ['/v1/PodTemplate', defaultPodTemplate],
  ['/v1/ReplicationController', defaultReplicationController],
  ['/v1/Service', defaultService],
  ['/v1/Secret', defaultSecret],
  ['/v1/Namespace', defaultNamespace],
  ['/v1/PersistentVolumeClaim', defaultPersistentVolumeClaim],
  ['/v1/PersistentVolume', defaultPersistentVolume],
  ['/v1/Node', defaultNode],
  ['/v1/Endpoints', defaultEndpoints],
  ['/v1/LimitRange', defaultLimitRange],
  ['apps/v1/Deployment', defaultDeployment],
  ['apps/v1/ReplicaSet', defaultReplicaSet],
  ['apps/v1/StatefulSet', defaultStatefulSet],
  ['apps/v1/DaemonSet', defaultDaemonSet],
  ['batch/v1/Job', defaultJob],
  ['batch/v1/CronJob', defaultCronJob],
  ['autoscaling/v2/HorizontalPodAutoscaler', defaultHorizontalPodAutoscaler],
  ['discovery.k8s.io/v1/EndpointSlice', defaultEndpointSlice],
  ['networking.k8s.io/v1/NetworkPolicy', defaultNetworkPolicy],
  ['rbac.authorization.k8s.io/v1/RoleBinding', defaultRoleBinding],
  ['rbac.authorization.k8s.io/v1/ClusterRoleBinding', defaultRoleBinding],
  ['admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration', defaultValidatingWebhookConfiguration],
  ['admissionregistration.k8s.io/v1/MutatingWebhookConfiguration', defaultMutatingWebhookConfiguration],
  ['admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy', defaultValidatingAdmissionPolicy],
  [
    'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding',
    defaultValidatingAdmissionPolicyBinding,
  ],
]);

/** True when kts has defaults for this kind. */
export function hasDefaults(gvk: GroupVersionKind): boolean {
  return byKind.has(`${gvk.group}/${gvk.version}/${gvk.kind}`);
}

/** Applies upstream's defaults for gvk to obj, in place. Non-objects are ignored. */
export function applyDefaults(obj: unknown, gvk: GroupVersionKind): void {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return;
  const fn = byKind.get(`${gvk.group}/${gvk.version}/${gvk.kind}`);
  if (fn !== undefined) (fn as (o: unknown) => void)(obj);
}
