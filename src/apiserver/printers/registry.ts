// Which printer prints which resource, keyed by `group/plural` (core group: `/pods`).
// Resources missing here get upstream's default table (NAME, CREATED AT): Roles,
// ClusterRoles, CRDs, LimitRanges, and everything else upstream prints that way.
import {
  ADMISSION_POLICY_BINDINGS,
  API_SERVICES,
  CERTIFICATE_SIGNING_REQUESTS,
  CLUSTER_TRUST_BUNDLES,
  DEVICE_CLASSES,
  FLOW_SCHEMAS,
  LEASE_CANDIDATES,
  LEASES,
  MUTATING_ADMISSION_POLICIES,
  MUTATING_WEBHOOKS,
  PRIORITY_CLASSES,
  PRIORITY_LEVEL_CONFIGURATIONS,
  RESOURCE_CLAIM_TEMPLATES,
  RESOURCE_CLAIMS,
  RESOURCE_SLICES,
  ROLE_BINDINGS,
  RUNTIME_CLASSES,
  STORAGE_VERSION_MIGRATIONS,
  STORAGE_VERSIONS,
  VALIDATING_ADMISSION_POLICIES,
  VALIDATING_WEBHOOKS,
} from './cluster.js';
import { CRON_JOBS, JOBS } from './batch.js';
import {
  COMPONENT_STATUSES,
  CONFIG_MAPS,
  EVENTS,
  EVENTS_V1,
  NAMESPACES,
  PERSISTENT_VOLUME_CLAIMS,
  PERSISTENT_VOLUMES,
  RESOURCE_QUOTAS,
  SECRETS,
  SERVICE_ACCOUNTS,
} from './core-misc.js';
import { NODES } from './nodes.js';
import { PODS } from './pods.js';
import { HORIZONTAL_POD_AUTOSCALERS, POD_DISRUPTION_BUDGETS } from './scaling.js';
import {
  ENDPOINT_SLICES,
  ENDPOINTS,
  INGRESS_CLASSES,
  INGRESSES,
  IP_ADDRESSES,
  NETWORK_POLICIES,
  SERVICE_CIDRS,
  SERVICES,
} from './services.js';
import {
  CSI_DRIVERS,
  CSI_NODES,
  CSI_STORAGE_CAPACITIES,
  STORAGE_CLASSES,
  VOLUME_ATTACHMENTS,
  VOLUME_ATTRIBUTES_CLASSES,
} from './storage.js';
import type { ResourcePrinter } from './table.js';
import {
  CONTROLLER_REVISIONS,
  DAEMON_SETS,
  DEPLOYMENTS,
  POD_TEMPLATES,
  REPLICA_SETS,
  REPLICATION_CONTROLLERS,
  STATEFUL_SETS,
} from './workloads.js';

const PRINTERS: ReadonlyMap<string, ResourcePrinter> = new Map<string, ResourcePrinter>([
  // core
  ['/pods', PODS],
  ['/podtemplates', POD_TEMPLATES],
  ['/replicationcontrollers', REPLICATION_CONTROLLERS],
  ['/services', SERVICES],
  ['/endpoints', ENDPOINTS],
  ['/nodes', NODES],
  ['/namespaces', NAMESPACES],
  ['/configmaps', CONFIG_MAPS],
  ['/secrets', SECRETS],
  ['/serviceaccounts', SERVICE_ACCOUNTS],
  ['/events', EVENTS],
  ['/resourcequotas', RESOURCE_QUOTAS],
  ['/persistentvolumes', PERSISTENT_VOLUMES],
  ['/persistentvolumeclaims', PERSISTENT_VOLUME_CLAIMS],
  ['/componentstatuses', COMPONENT_STATUSES],
  // apps
  ['apps/deployments', DEPLOYMENTS],
  ['apps/replicasets', REPLICA_SETS],
  ['apps/statefulsets', STATEFUL_SETS],
  ['apps/daemonsets', DAEMON_SETS],
  ['apps/controllerrevisions', CONTROLLER_REVISIONS],
  // batch
  ['batch/jobs', JOBS],
  ['batch/cronjobs', CRON_JOBS],
  // networking and discovery
  ['discovery.k8s.io/endpointslices', ENDPOINT_SLICES],
  ['networking.k8s.io/ingresses', INGRESSES],
  ['networking.k8s.io/ingressclasses', INGRESS_CLASSES],
  ['networking.k8s.io/networkpolicies', NETWORK_POLICIES],
  ['networking.k8s.io/servicecidrs', SERVICE_CIDRS],
  ['networking.k8s.io/ipaddresses', IP_ADDRESSES],
  // events
  ['events.k8s.io/events', EVENTS_V1],
  // autoscaling and policy
  ['autoscaling/horizontalpodautoscalers', HORIZONTAL_POD_AUTOSCALERS],
  ['policy/poddisruptionbudgets', POD_DISRUPTION_BUDGETS],
  // rbac (roles and clusterroles print the default table)
  ['rbac.authorization.k8s.io/rolebindings', ROLE_BINDINGS],
  ['rbac.authorization.k8s.io/clusterrolebindings', ROLE_BINDINGS],
  // coordination
  ['coordination.k8s.io/leases', LEASES],
  ['coordination.k8s.io/leasecandidates', LEASE_CANDIDATES],
  // storage
  ['storage.k8s.io/storageclasses', STORAGE_CLASSES],
  ['storage.k8s.io/csidrivers', CSI_DRIVERS],
  ['storage.k8s.io/csinodes', CSI_NODES],
  ['storage.k8s.io/csistoragecapacities', CSI_STORAGE_CAPACITIES],
  ['storage.k8s.io/volumeattachments', VOLUME_ATTACHMENTS],
  ['storage.k8s.io/volumeattributesclasses', VOLUME_ATTRIBUTES_CLASSES],
  // scheduling and node
  ['scheduling.k8s.io/priorityclasses', PRIORITY_CLASSES],
  ['node.k8s.io/runtimeclasses', RUNTIME_CLASSES],
  // API machinery
  ['apiregistration.k8s.io/apiservices', API_SERVICES],
  ['internal.apiserver.k8s.io/storageversions', STORAGE_VERSIONS],
  ['storagemigration.k8s.io/storageversionmigrations', STORAGE_VERSION_MIGRATIONS],
  ['certificates.k8s.io/certificatesigningrequests', CERTIFICATE_SIGNING_REQUESTS],
  ['certificates.k8s.io/clustertrustbundles', CLUSTER_TRUST_BUNDLES],
  ['admissionregistration.k8s.io/mutatingwebhookconfigurations', MUTATING_WEBHOOKS],
  ['admissionregistration.k8s.io/validatingwebhookconfigurations', VALIDATING_WEBHOOKS],
  ['admissionregistration.k8s.io/validatingadmissionpolicies', VALIDATING_ADMISSION_POLICIES],
  ['admissionregistration.k8s.io/validatingadmissionpolicybindings', ADMISSION_POLICY_BINDINGS],
  ['admissionregistration.k8s.io/mutatingadmissionpolicies', MUTATING_ADMISSION_POLICIES],
  ['admissionregistration.k8s.io/mutatingadmissionpolicybindings', ADMISSION_POLICY_BINDINGS],
  ['flowcontrol.apiserver.k8s.io/flowschemas', FLOW_SCHEMAS],
  ['flowcontrol.apiserver.k8s.io/prioritylevelconfigurations', PRIORITY_LEVEL_CONFIGURATIONS],
  // dynamic resource allocation
  ['resource.k8s.io/deviceclasses', DEVICE_CLASSES],
  ['resource.k8s.io/resourceclaims', RESOURCE_CLAIMS],
  ['resource.k8s.io/resourceclaimtemplates', RESOURCE_CLAIM_TEMPLATES],
  ['resource.k8s.io/resourceslices', RESOURCE_SLICES],
]);

/** The printer registered for a resource (`group` '' for core), or undefined for the default table. */
export function printerFor(group: string, plural: string): ResourcePrinter | undefined {
  return PRINTERS.get(`${group}/${plural}`);
}

/** Every `group/plural` with a printer of its own. */
export function printedResources(): string[] {
  return [...PRINTERS.keys()];
}
