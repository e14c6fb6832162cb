// Typed GVRs of the built-in resources components use, so `client.resource(PODS)` infers
// `ResourceClient<Pod>`. Only preferred, served versions are listed; add as needed.
import type { DaemonSet, Deployment, ReplicaSet, StatefulSet } from '../api/generated/types/apps-v1.js';
import type { CronJob, Job } from '../api/generated/types/batch-v1.js';
import type { Lease } from '../api/generated/types/coordination-v1.js';
import type {
  ConfigMap,
  Endpoints,
  Event,
  Namespace,
  Node,
  PersistentVolume,
  PersistentVolumeClaim,
  Pod,
  ReplicationController,
  Secret,
  Service,
  ServiceAccount,
} from '../api/generated/types/core-v1.js';
import type { EndpointSlice } from '../api/generated/types/discovery-v1.js';
import { gvr } from './interface.js';

/** core/v1 pods. */
export const PODS = gvr<Pod>('', 'v1', 'pods');
/** core/v1 nodes. */
export const NODES = gvr<Node>('', 'v1', 'nodes');
/** core/v1 namespaces. */
export const NAMESPACES = gvr<Namespace>('', 'v1', 'namespaces');
/** core/v1 services. */
export const SERVICES = gvr<Service>('', 'v1', 'services');
/** core/v1 endpoints. */
export const ENDPOINTS = gvr<Endpoints>('', 'v1', 'endpoints');
/** core/v1 configmaps. */
export const CONFIGMAPS = gvr<ConfigMap>('', 'v1', 'configmaps');
/** core/v1 secrets. */
export const SECRETS = gvr<Secret>('', 'v1', 'secrets');
/** core/v1 serviceaccounts. */
export const SERVICEACCOUNTS = gvr<ServiceAccount>('', 'v1', 'serviceaccounts');
/** core/v1 events. */
export const EVENTS = gvr<Event>('', 'v1', 'events');
/** core/v1 persistentvolumes. */
export const PERSISTENTVOLUMES = gvr<PersistentVolume>('', 'v1', 'persistentvolumes');
/** core/v1 persistentvolumeclaims. */
export const PERSISTENTVOLUMECLAIMS = gvr<PersistentVolumeClaim>('', 'v1', 'persistentvolumeclaims');
/** core/v1 replicationcontrollers. */
export const REPLICATIONCONTROLLERS = gvr<ReplicationController>('', 'v1', 'replicationcontrollers');
/** apps/v1 deployments. */
export const DEPLOYMENTS = gvr<Deployment>('apps', 'v1', 'deployments');
/** apps/v1 replicasets. */
export const REPLICASETS = gvr<ReplicaSet>('apps', 'v1', 'replicasets');
/** apps/v1 statefulsets. */
export const STATEFULSETS = gvr<StatefulSet>('apps', 'v1', 'statefulsets');
/** apps/v1 daemonsets. */
export const DAEMONSETS = gvr<DaemonSet>('apps', 'v1', 'daemonsets');
/** batch/v1 jobs. */
export const JOBS = gvr<Job>('batch', 'v1', 'jobs');
/** batch/v1 cronjobs. */
export const CRONJOBS = gvr<CronJob>('batch', 'v1', 'cronjobs');
/** coordination.k8s.io/v1 leases. */
export const LEASES = gvr<Lease>('coordination.k8s.io', 'v1', 'leases');
/** discovery.k8s.io/v1 endpointslices. */
export const ENDPOINTSLICES = gvr<EndpointSlice>('discovery.k8s.io', 'v1', 'endpointslices');
