// Defaults of the core/v1 kinds other than pods and controllers (Service, Secret, Namespace,
// PersistentVolume(Claim), Node, Endpoints, LimitRange) and of small kinds of other groups whose
// defaults are one or two fields (discovery/v1 EndpointSlice, networking/v1 NetworkPolicy,
// rbac/v1 bindings). What registries set rather than defaulting — a Service's clusterIPs,
// ipFamilies and ipFamilyPolicy (allocation), a Namespace's `spec.finalizers: [kubernetes]`
// (its strategy) — is left to them.
import type { EndpointSlice } from '../generated/types/discovery-v1.js';
import type {
  Endpoints,
  LimitRange,
  Namespace,
  Node,
  PersistentVolume,
  PersistentVolumeClaim,
  Secret,
  Service,
} from '../generated/types/core-v1.js';
import type { NetworkPolicy } from '../generated/types/networking-v1.js';
import type { ClusterRoleBinding, RoleBinding, Subject } from '../generated/types/rbac-v1.js';

/** Upstream's DefaultClientIPServiceAffinitySeconds (3 hours). */
export const DEFAULT_CLIENT_IP_SERVICE_AFFINITY_SECONDS = 10800;

/** SetDefaults_Service. */
export function defaultService(svc: Service): void {
  const spec = svc.spec;
  if (spec == null) return;
  if (!spec.sessionAffinity) spec.sessionAffinity = 'None';
  if (spec.sessionAffinity === 'None') {
    delete spec.sessionAffinityConfig;
  } else if (spec.sessionAffinity === 'ClientIP') {
    const cfg = spec.sessionAffinityConfig ?? {};
    const clientIP = cfg.clientIP ?? {};
    if (clientIP.timeoutSeconds == null) clientIP.timeoutSeconds = DEFAULT_CLIENT_IP_SERVICE_AFFINITY_SECONDS;
    cfg.clientIP = clientIP;
    spec.sessionAffinityConfig = cfg;
  }
  if (!spec.type) spec.type = 'ClusterIP';
  const ports = spec.ports;
  if (Array.isArray(ports)) {
    for (const p of ports) {
      if (p == null) continue;
      if (!p.protocol) p.protocol = 'TCP';
      if (p.targetPort == null || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
    }
  }
  const type = spec.type;
  if ((type === 'NodePort' || type === 'LoadBalancer') && !spec.externalTrafficPolicy) {
    spec.externalTrafficPolicy = 'Cluster';
  }
  if (
    spec.internalTrafficPolicy == null &&
    (type === 'NodePort' || type === 'LoadBalancer' || type === 'ClusterIP')
  ) {
    spec.internalTrafficPolicy = 'Cluster';
  }
  if (type === 'LoadBalancer') {
    if (spec.allocateLoadBalancerNodePorts == null) spec.allocateLoadBalancerNodePorts = true;
    for (const ing of svc.status?.loadBalancer?.ingress ?? []) {
      if (ing?.ip && ing.ipMode == null) ing.ipMode = 'VIP';
    }
  }
}

/** SetDefaults_Secret. */
export function defaultSecret(s: Secret): void {
  if (!s.type) s.type = 'Opaque';
}

/** SetDefaults_Namespace and SetDefaults_NamespaceStatus. */
export function defaultNamespace(ns: Namespace): void {
  const name = ns.metadata?.name;
  // Nameless (generateName) namespaces get the label once the store has picked the name.
  if (ns.metadata != null && typeof name === 'string' && name !== '') {
    if (ns.metadata.labels == null) ns.metadata.labels = {};
    ns.metadata.labels['kubernetes.io/metadata.name'] = name;
  }
  if (ns.status == null) ns.status = {};
  if (!ns.status.phase) ns.status.phase = 'Active';
}

/** SetDefaults_PersistentVolumeClaim and its spec. */
export function defaultPersistentVolumeClaim(pvc: PersistentVolumeClaim): void {
  if (pvc.spec == null) pvc.spec = {};
  if (pvc.spec.volumeMode == null) pvc.spec.volumeMode = 'Filesystem';
  if (pvc.status == null) pvc.status = {};
  if (!pvc.status.phase) pvc.status.phase = 'Pending';
}

/** SetDefaults_PersistentVolume. */
export function defaultPersistentVolume(pv: PersistentVolume): void {
  if (pv.status == null) pv.status = {};
  if (!pv.status.phase) pv.status.phase = 'Pending';
  if (pv.spec == null) pv.spec = {};
  if (!pv.spec.persistentVolumeReclaimPolicy) pv.spec.persistentVolumeReclaimPolicy = 'Retain';
  if (pv.spec.volumeMode == null) pv.spec.volumeMode = 'Filesystem';
}

/** SetDefaults_NodeStatus: allocatable defaults to capacity. */
export function defaultNode(node: Node): void {
  const st = node.status;
  if (st != null && st.allocatable == null && st.capacity != null) st.allocatable = { ...st.capacity };
}

/** SetDefaults_Endpoints: port protocol TCP. */
export function defaultEndpoints(ep: Endpoints): void {
  for (const subset of ep.subsets ?? []) {
    for (const p of subset?.ports ?? []) if (p != null && !p.protocol) p.protocol = 'TCP';
  }
}

/** discovery/v1 SetDefaults_EndpointPort: name "" and protocol TCP. */
export function defaultEndpointSlice(slice: EndpointSlice): void {
  for (const p of slice.ports ?? []) {
    if (p == null) continue;
    if (p.name == null) p.name = '';
    if (p.protocol == null) p.protocol = 'TCP';
  }
}

/** networking/v1 SetDefaults_NetworkPolicy: port protocol TCP and the policyTypes list. */
export function defaultNetworkPolicy(np: NetworkPolicy): void {
  const spec = np.spec;
  if (spec == null) return;
  for (const rule of spec.ingress ?? [])
    for (const p of rule?.ports ?? []) if (p != null && !p.protocol) p.protocol = 'TCP';
  for (const rule of spec.egress ?? [])
    for (const p of rule?.ports ?? []) if (p != null && !p.protocol) p.protocol = 'TCP';
  if (spec.policyTypes == null || spec.policyTypes.length === 0) {
    const types = ['Ingress'];
    if (spec.egress != null && spec.egress.length > 0) types.push('Egress');
    spec.policyTypes = types;
  }
}

/** rbac/v1 SetDefaults_Subject on every subject of a (Cluster)RoleBinding. */
export function defaultRoleBinding(rb: RoleBinding | ClusterRoleBinding): void {
  for (const s of rb.subjects ?? []) if (s != null) defaultSubject(s);
}

function defaultSubject(s: Subject): void {
  if (s.apiGroup) return;
  if (s.kind === 'ServiceAccount') s.apiGroup = '';
  else if (s.kind === 'User' || s.kind === 'Group') s.apiGroup = 'rbac.authorization.k8s.io';
}

/**
 * SetDefaults_LimitRangeItem: a Container item's default limit falls back to its max, and its
 * default request to the default limit, then to the min, so `describe limits` and the
 * LimitRanger plugin see the values upstream stores.
 */
export function defaultLimitRange(lr: LimitRange): void {
  for (const item of lr.spec?.limits ?? []) {
    if (item.type !== 'Container') continue;
    const def = { ...(item.default ?? {}) };
    const req = { ...(item.defaultRequest ?? {}) };
    for (const [k, v] of Object.entries(item.max ?? {})) if (!(k in def)) def[k] = v;
    for (const [k, v] of Object.entries(def)) if (!(k in req)) req[k] = v;
    for (const [k, v] of Object.entries(item.min ?? {})) if (!(k in req)) req[k] = v;
    if (Object.keys(def).length > 0) item.default = def;
    if (Object.keys(req).length > 0) item.defaultRequest = req;
  }
}
