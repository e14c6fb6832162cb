// ServiceAccount (upstream plugin/pkg/admission/serviceaccount): every pod runs as a service
// account (`default` when none is named), which must exist; unless automounting is turned
// off on the pod or the account, the pod gets the projected API-access volume
// `kube-api-access-<5 random>` (a bound token, the cluster CA bundle and the namespace)
// mounted read-only at /var/run/secrets/kubernetes.io/serviceaccount in every container and
// init container. Mirror pods are never changed, and may not reference accounts or secrets.
import type { Pod, ServiceAccount, Volume, VolumeMount } from '../../api/generated/types/core-v1.js';
import { notFound } from '../../machinery/status-error.js';
import type { StoreRegistry } from '../stores.js';
import { asPod, denied, getOrUndefined, isMirrorPod, isPodMain, podSpec } from './attributes.js';
import type { AdmissionPlugin, AdmissionRequest } from './types.js';

/** The account a pod without one runs as. */
export const DEFAULT_SERVICE_ACCOUNT = 'default';
/** Where the API token volume is mounted. */
export const API_TOKEN_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
/** Prefix of the generated API-access volume. */
export const API_ACCESS_VOLUME_PREFIX = 'kube-api-access-';
/** Token lifetime of the projected volume (upstream's warn-only bound token expiration). */
export const TOKEN_EXPIRATION_SECONDS = 3607;

const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** Options of the ServiceAccount plugin. */
export interface ServiceAccountOptions {
  /** Look up `default` this many times before refusing (the controller creates it). Default 10. */
  defaultAttempts?: number;
  /** Pause between lookups, ms. Default 150. */
  retryIntervalMs?: number;
  /** Random suffix source (tests make it deterministic). */
  randomSuffix?: () => string;
}

function randomSuffix(): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += NAME_ALPHABET[Math.floor(Math.random() * NAME_ALPHABET.length)];
  return s;
}

/** The projected volume source of the API-access volume (upstream TokenVolumeSource). */
export function tokenVolumeSource(): NonNullable<Volume['projected']> {
  return {
    defaultMode: 420,
    sources: [
      { serviceAccountToken: { expirationSeconds: TOKEN_EXPIRATION_SECONDS, path: 'token' } },
      { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      {
        downwardAPI: {
          items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }],
        },
      },
    ],
  };
}

function shouldAutomount(sa: ServiceAccount, pod: Pod): boolean {
  const p = pod.spec?.automountServiceAccountToken;
  if (p !== undefined) return p;
  return sa.automountServiceAccountToken !== false;
}

/** Adds the API-access volume and its mounts (upstream mountServiceAccountToken). */
export function mountServiceAccountToken(pod: Pod, suffix: () => string = randomSuffix): void {
  const spec = podSpec(pod);
  const existing = (spec.volumes ?? []).find((v) => v.name.startsWith(API_ACCESS_VOLUME_PREFIX));
  const volumeName = existing?.name ?? `${API_ACCESS_VOLUME_PREFIX}${suffix()}`;
  const mount: VolumeMount = { name: volumeName, readOnly: true, mountPath: API_TOKEN_MOUNT_PATH };
  let needsVolume = false;
  for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
    if ((c.volumeMounts ?? []).some((m) => m.mountPath === API_TOKEN_MOUNT_PATH)) continue;
    c.volumeMounts = [...(c.volumeMounts ?? []), { ...mount }];
    needsVolume = true;
  }
  if (!existing && needsVolume) {
    spec.volumes = [...(spec.volumes ?? []), { name: volumeName, projected: tokenVolumeSource() }];
  }
}

function referencesSecrets(pod: Pod): boolean {
  const spec = pod.spec;
  if (!spec) return false;
  if ((spec.imagePullSecrets ?? []).length > 0) return true;
  for (const v of spec.volumes ?? []) {
    if (v.secret) return true;
    if ((v.projected?.sources ?? []).some((s) => s.secret !== undefined)) return true;
  }
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    if ((c.env ?? []).some((e) => e.valueFrom?.secretKeyRef !== undefined)) return true;
    if ((c.envFrom ?? []).some((e) => e.secretRef !== undefined)) return true;
  }
  return false;
}

function validateMirrorPod(req: AdmissionRequest, pod: Pod): void {
  if (pod.spec?.serviceAccountName) throw denied(req, 'a mirror pod may not reference service accounts');
  if (referencesSecrets(pod)) throw denied(req, 'a mirror pod may not reference secrets');
  for (const v of pod.spec?.volumes ?? []) {
    if ((v.projected?.sources ?? []).some((s) => s.serviceAccountToken !== undefined)) {
      throw denied(req, `a mirror pod may not use ServiceAccountToken volume projections`);
    }
  }
}

/** The ServiceAccount plugin. */
export function serviceAccountAdmission(
  stores: StoreRegistry,
  opts: ServiceAccountOptions = {},
): AdmissionPlugin {
  const attempts = opts.defaultAttempts ?? 10;
  const interval = opts.retryIntervalMs ?? 150;
  const suffix = opts.randomSuffix ?? randomSuffix;

  async function lookup(req: AdmissionRequest, name: string): Promise<ServiceAccount> {
    // The controller creates `default` moments after its namespace, so give it a little time.
    const n = name === DEFAULT_SERVICE_ACCOUNT ? attempts : 1;
    for (let i = 0; i < n; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, interval));
      const sa = await getOrUndefined(stores, '', 'serviceaccounts', req.namespace, name);
      if (sa) return sa as unknown as ServiceAccount;
    }
    const nf = notFound({ group: '', resource: 'serviceaccount' }, name);
    throw denied(req, `error looking up service account ${req.namespace}/${name}: ${nf.message}`);
  }

  return {
    name: 'ServiceAccount',
    async admit(req: AdmissionRequest): Promise<void> {
      if (!isPodMain(req) || req.operation !== 'CREATE') return;
      const pod = asPod(req.object);
      if (!pod) return;
      // The kubelet deletes a mirror pod whose spec differs from its static pod, so never touch one.
      if (isMirrorPod(pod)) {
        validateMirrorPod(req, pod);
        return;
      }
      const spec = podSpec(pod);
      if (!spec.serviceAccountName) spec.serviceAccountName = spec.serviceAccount || DEFAULT_SERVICE_ACCOUNT;
      const sa = await lookup(req, spec.serviceAccountName);
      if (shouldAutomount(sa, pod)) mountServiceAccountToken(pod, suffix);
    },
    validate(req: AdmissionRequest): void {
      if (!isPodMain(req) || req.operation !== 'CREATE') return;
      const pod = asPod(req.object);
      if (!pod) return;
      if (isMirrorPod(pod)) {
        validateMirrorPod(req, pod);
        return;
      }
      if (!pod.spec?.serviceAccountName) {
        throw denied(
          req,
          `no service account specified for pod ${req.namespace}/${pod.metadata?.name ?? ''}`,
        );
      }
    },
  };
}
