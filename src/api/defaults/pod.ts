// Defaults of the core/v1 pod spec (upstream pkg/apis/core/v1/defaults.go: SetDefaults_Pod,
// SetDefaults_PodSpec, SetDefaults_Container, probes, handlers, volumes). Pod templates of
// workloads get the spec defaults but not the Pod-only ones (enableServiceLinks, requests
// copied from limits), exactly as upstream. Values set by admission plugins rather than by
// defaulting — serviceAccountName, priority, preemptionPolicy, the not-ready/unreachable
// tolerations — are deliberately absent here.
import type {
  Container,
  EphemeralContainer,
  HTTPGetAction,
  LifecycleHandler,
  Pod,
  PodSpec,
  PodTemplateSpec,
  Probe,
  Volume,
} from '../generated/types/core-v1.js';

/** Upstream's DefaultTerminationGracePeriodSeconds. */
export const DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS = 30;
/** Upstream's DefaultSchedulerName. */
export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';
/** Mode 0644, the default of secret, configMap, downwardAPI and projected volumes. */
export const DEFAULT_VOLUME_MODE = 420;

/** Applies SetDefaults_Pod and the spec defaults below it. */
export function defaultPod(pod: Pod): void {
  const spec = pod.spec;
  if (spec == null) return;
  defaultPodSpec(spec);
  // Only Pods (not templates) get requests from limits: a template's copy would freeze the
  // limits of the day into every pod created from it.
  for (const c of spec.containers ?? []) defaultRequestsFromLimits(c);
  for (const c of spec.initContainers ?? []) defaultRequestsFromLimits(c);
  if (spec.enableServiceLinks == null) spec.enableServiceLinks = true;
  if (spec.hostNetwork === true) {
    defaultHostNetworkPorts(spec.containers);
    defaultHostNetworkPorts(spec.initContainers);
  }
}

/** Applies the pod spec defaults to a PodTemplateSpec (workload templates). */
export function defaultPodTemplateSpec(t: PodTemplateSpec | undefined | null): void {
  if (t == null) return;
  if (t.spec != null) defaultPodSpec(t.spec);
}

/** SetDefaults_PodSpec plus every nested defaulter (containers, probes, volumes). */
export function defaultPodSpec(spec: PodSpec): void {
  if (!spec.dnsPolicy) spec.dnsPolicy = 'ClusterFirst';
  if (!spec.restartPolicy) spec.restartPolicy = 'Always';
  // DefaultHostNetworkHostPortsInPodTemplates is off upstream: templates keep hostPort
  // unset, and only Pods get it (defaultPod).
  if (spec.securityContext == null) spec.securityContext = {};
  if (spec.terminationGracePeriodSeconds == null) {
    spec.terminationGracePeriodSeconds = DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS;
  }
  if (!spec.schedulerName) spec.schedulerName = DEFAULT_SCHEDULER_NAME;
  const containers = spec.containers;
  if (Array.isArray(containers)) for (const c of containers) if (c != null) defaultContainer(c);
  const inits = spec.initContainers;
  if (Array.isArray(inits)) for (const c of inits) if (c != null) defaultContainer(c);
  const eph = spec.ephemeralContainers;
  if (Array.isArray(eph)) for (const c of eph) if (c != null) defaultContainer(c);
  const volumes = spec.volumes;
  if (Array.isArray(volumes)) for (const v of volumes) if (v != null) defaultVolume(v);
}

/** SetDefaults_Container and the defaults of its ports, env, probes and lifecycle hooks. */
export function defaultContainer(c: Container | EphemeralContainer): void {
  if (!c.imagePullPolicy) c.imagePullPolicy = defaultPullPolicy(c.image ?? '');
  if (!c.terminationMessagePath) c.terminationMessagePath = '/dev/termination-log';
  if (!c.terminationMessagePolicy) c.terminationMessagePolicy = 'File';
  // Go serializes the non-pointer Resources struct even when empty.
  if (c.resources == null) c.resources = {};
  const ports = c.ports;
  if (Array.isArray(ports)) for (const p of ports) if (p != null && !p.protocol) p.protocol = 'TCP';
  const env = c.env;
  if (Array.isArray(env)) {
    for (const e of env) {
      const ref = e?.valueFrom?.fieldRef;
      if (ref != null && !ref.apiVersion) ref.apiVersion = 'v1';
    }
  }
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
  const lc = c.lifecycle;
  if (lc != null) {
    defaultHandler(lc.postStart);
    defaultHandler(lc.preStop);
  }
}

/**
 * Always for `:latest` or an untagged, undigested reference; IfNotPresent otherwise
 * (upstream parses the reference and treats a parse failure as "not latest").
 */
export function defaultPullPolicy(image: string): 'Always' | 'IfNotPresent' {
  const tag = imageTag(image);
  return tag === 'latest' ? 'Always' : 'IfNotPresent';
}

// The tag as upstream's parsers.ParseImageName reports it: "latest" for a bare name, "" for a
// digest-only reference or an unparsable one.
function imageTag(image: string): string {
  if (image === '' || /\s/.test(image)) return '';
  let ref = image;
  const at = ref.indexOf('@');
  const hasDigest = at >= 0;
  if (hasDigest) ref = ref.slice(0, at);
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  let name = ref;
  let tag = '';
  if (colon > slash) {
    name = ref.slice(0, colon);
    tag = ref.slice(colon + 1);
  }
  // The registry host may carry upper case; repository path components may not.
  const firstSlash = name.indexOf('/');
  const first = firstSlash < 0 ? '' : name.slice(0, firstSlash);
  const isHost = first.includes('.') || first.includes(':') || first === 'localhost';
  const path = isHost ? name.slice(firstSlash + 1) : name;
  if (path === '' || /[A-Z]/.test(path)) return '';
  if (tag === '' && !hasDigest) return 'latest';
  return tag;
}

function defaultProbe(p: Probe | undefined | null): void {
  if (p == null) return;
  if (p.timeoutSeconds == null || p.timeoutSeconds === 0) p.timeoutSeconds = 1;
  if (p.periodSeconds == null || p.periodSeconds === 0) p.periodSeconds = 10;
  if (p.successThreshold == null || p.successThreshold === 0) p.successThreshold = 1;
  if (p.failureThreshold == null || p.failureThreshold === 0) p.failureThreshold = 3;
  defaultHTTPGet(p.httpGet);
  if (p.grpc != null && p.grpc.service == null) p.grpc.service = '';
}

function defaultHandler(h: LifecycleHandler | undefined | null): void {
  if (h != null) defaultHTTPGet(h.httpGet);
}

function defaultHTTPGet(h: HTTPGetAction | undefined | null): void {
  if (h == null) return;
  if (!h.path) h.path = '/';
  if (!h.scheme) h.scheme = 'HTTP';
}

/** SetDefaults_Volume and the per-source defaults (modes, hostPath type, projections). */
export function defaultVolume(v: Volume): void {
  let hasSource = false;
  for (const k in v) {
    if (k !== 'name' && (v as unknown as Record<string, unknown>)[k] != null) {
      hasSource = true;
      break;
    }
  }
  if (!hasSource) {
    v.emptyDir = {};
    return;
  }
  if (v.secret != null && v.secret.defaultMode == null) v.secret.defaultMode = DEFAULT_VOLUME_MODE;
  if (v.configMap != null && v.configMap.defaultMode == null) v.configMap.defaultMode = DEFAULT_VOLUME_MODE;
  if (v.downwardAPI != null) {
    if (v.downwardAPI.defaultMode == null) v.downwardAPI.defaultMode = DEFAULT_VOLUME_MODE;
    for (const item of v.downwardAPI.items ?? []) {
      if (item?.fieldRef != null && !item.fieldRef.apiVersion) item.fieldRef.apiVersion = 'v1';
    }
  }
  if (v.projected != null) {
    if (v.projected.defaultMode == null) v.projected.defaultMode = DEFAULT_VOLUME_MODE;
    for (const src of v.projected.sources ?? []) {
      const sat = src?.serviceAccountToken;
      if (sat != null && sat.expirationSeconds == null) sat.expirationSeconds = 3600;
      for (const item of src?.downwardAPI?.items ?? []) {
        if (item?.fieldRef != null && !item.fieldRef.apiVersion) item.fieldRef.apiVersion = 'v1';
      }
    }
  }
  if (v.hostPath != null && v.hostPath.type == null) v.hostPath.type = '';
  if (v.iscsi != null && !v.iscsi.iscsiInterface) v.iscsi.iscsiInterface = 'default';
  if (v.rbd != null) {
    if (!v.rbd.pool) v.rbd.pool = 'rbd';
    if (!v.rbd.user) v.rbd.user = 'admin';
    if (!v.rbd.keyring) v.rbd.keyring = '/etc/ceph/keyring';
  }
  if (v.azureDisk != null) {
    if (v.azureDisk.cachingMode == null) v.azureDisk.cachingMode = 'ReadWrite';
    if (v.azureDisk.fsType == null) v.azureDisk.fsType = 'ext4';
    if (v.azureDisk.readOnly == null) v.azureDisk.readOnly = false;
    if (v.azureDisk.kind == null) v.azureDisk.kind = 'Shared';
  }
  if (v.scaleIO != null) {
    if (!v.scaleIO.storageMode) v.scaleIO.storageMode = 'ThinProvisioned';
    if (!v.scaleIO.fsType) v.scaleIO.fsType = 'xfs';
  }
}

function defaultRequestsFromLimits(c: Container | null | undefined): void {
  const res = c?.resources;
  const limits = res?.limits;
  if (res == null || limits == null) return;
  let requests = res.requests;
  for (const key in limits) {
    if (requests == null) {
      requests = {};
      res.requests = requests;
    }
    if (!(key in requests)) requests[key] = limits[key] as string;
  }
}

function defaultHostNetworkPorts(containers: Container[] | undefined | null): void {
  if (!Array.isArray(containers)) return;
  for (const c of containers) {
    for (const p of c?.ports ?? []) {
      if (p != null && (p.hostPort == null || p.hostPort === 0)) p.hostPort = p.containerPort;
    }
  }
}
