// Per-component credentials of `kts server`: each in-process component (controller manager,
// scheduler, kubelet, kube-proxy) authenticates with its own client certificate issued by
// the cluster CA, so RBAC and the Node authorizer see the same users as upstream's
// kubeadm/k3s clusters. Certificates live in DATA_DIR/cred/ and are reused across restarts
// until they near expiry (or the subject changes, e.g. a new node name); the kubeconfigs
// beside them are rewritten on every start because the server URL may change.
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterRoleBinding } from '../api/generated/types/rbac-v1.js';
import { type Client, gvr } from '../client/interface.js';
import { isNotFound } from '../machinery/status-error.js';
import { writeKubeconfig } from '../pki/kubeconfig.js';
import { createKeyPair, type KeyPair } from '../pki/x509.js';

/** The components that get their own identity. */
export type ComponentName = 'controller-manager' | 'scheduler' | 'kubelet' | 'proxy' | 'dns';

/** Who a component authenticates as. */
export interface ComponentIdentity {
  component: ComponentName;
  /** The user name (certificate CN). */
  user: string;
  /** The groups (certificate O). */
  groups: string[];
}

/** An identity with the files that carry it. */
export interface IssuedIdentity extends ComponentIdentity {
  certFile: string;
  keyFile: string;
  kubeconfigPath: string;
}

/** What issuing identities needs. */
export interface IdentityOptions {
  dataDir: string;
  /** The API server URL written into the kubeconfigs. */
  server: string;
  /** The cluster CA (certificate and key). */
  ca: KeyPair;
  /** The node name the kubelet's identity is for. */
  nodeName: string;
  /** Which components to issue for (default: all). */
  components?: readonly ComponentName[];
  /** Re-issue certificates with less than this validity left (default 90 days). */
  renewBeforeMs?: number;
}

const DAY = 86_400_000;
const VALIDITY = 365 * DAY;

/** The upstream identity of a component (users the bootstrap RBAC policy binds). */
export function componentIdentity(component: ComponentName, nodeName: string): ComponentIdentity {
  switch (component) {
    case 'controller-manager':
      return { component, user: 'system:kube-controller-manager', groups: [] };
    case 'scheduler':
      return { component, user: 'system:kube-scheduler', groups: [] };
    case 'kubelet':
      return { component, user: `system:node:${nodeName}`, groups: ['system:nodes'] };
    case 'proxy':
      return { component, user: 'system:kube-proxy', groups: [] };
    case 'dns':
      // Bound to system:kts-dns (read services, endpointslices, pods) by the bootstrap policy.
      return { component, user: 'system:kts-dns', groups: [] };
  }
}

/** Directory of the component credentials under a data dir. */
export function credentialsDir(dataDir: string): string {
  return join(dataDir, 'cred');
}

function writeSecret(path: string, content: string): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  renameSync(tmp, path);
}

// A stored certificate is reused only if it still names the same subject, was issued by the
// current CA and has enough validity left.
function reusable(
  certFile: string,
  keyFile: string,
  id: ComponentIdentity,
  ca: KeyPair,
  renewBeforeMs: number,
): KeyPair | undefined {
  if (!existsSync(certFile) || !existsSync(keyFile)) return undefined;
  try {
    const certPem = readFileSync(certFile, 'utf8');
    const cert = new X509Certificate(certPem);
    if (!cert.checkIssued(new X509Certificate(ca.certPem))) return undefined;
    if (new Date(cert.validTo).getTime() - Date.now() < renewBeforeMs) return undefined;
    const want = [...id.groups.map((g) => `O=${g}`), `CN=${id.user}`];
    const have = cert.subject.split('\n');
    if (want.length !== have.length || want.some((w) => !have.includes(w))) return undefined;
    return { certPem, keyPem: readFileSync(keyFile, 'utf8') };
  } catch {
    return undefined;
  }
}

/** Issues (or reuses) one component's certificate and writes its kubeconfig. */
export function issueIdentity(component: ComponentName, opts: IdentityOptions): IssuedIdentity {
  const dir = credentialsDir(opts.dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const id = componentIdentity(component, opts.nodeName);
  const certFile = join(dir, `${component}.crt`);
  const keyFile = join(dir, `${component}.key`);
  let pair = reusable(certFile, keyFile, id, opts.ca, opts.renewBeforeMs ?? 90 * DAY);
  if (pair === undefined) {
    pair = createKeyPair(
      {
        subject: { commonName: id.user, ...(id.groups.length > 0 ? { organizations: id.groups } : {}) },
        notAfter: new Date(Date.now() + VALIDITY),
        usages: ['clientAuth'],
      },
      opts.ca,
    );
    writeSecret(keyFile, pair.keyPem);
    writeSecret(certFile, pair.certPem);
  }
  const kubeconfigPath = join(dir, `${component}.kubeconfig`);
  writeKubeconfig(kubeconfigPath, {
    server: opts.server,
    caPem: opts.ca.certPem,
    clientCertPem: pair.certPem,
    clientKeyPem: pair.keyPem,
    userName: id.user,
  });
  return { ...id, certFile, keyFile, kubeconfigPath };
}

/** Issues every requested component identity; keyed by component. */
export function issueComponentIdentities(opts: IdentityOptions): Map<ComponentName, IssuedIdentity> {
  const all: ComponentName[] = ['controller-manager', 'scheduler', 'kubelet', 'proxy', 'dns'];
  const out = new Map<ComponentName, IssuedIdentity>();
  for (const c of opts.components ?? all) out.set(c, issueIdentity(c, opts));
  return out;
}

/** Name prefix of the bindings older kts versions made to give the manager every controller role. */
export const CONTROLLER_UNION_BINDING_PREFIX = 'kts:kube-controller-manager:';

const CLUSTERROLEBINDINGS = gvr<ClusterRoleBinding>('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings');

/**
 * Deletes the bindings that gave system:kube-controller-manager the union of the controller
 * roles (data dirs of older versions hold them): each controller now runs as its own
 * kube-system service account, and the manager keeps only its own role.
 */
export async function removeControllerUnionBindings(admin: Client): Promise<void> {
  const api = admin.resource(CLUSTERROLEBINDINGS);
  const list = await api.list('', { labelSelector: 'kubernetes.io/bootstrapping=kts' });
  await Promise.all(
    list.items
      .map((b) => b.metadata?.name ?? '')
      .filter((name) => name.startsWith(CONTROLLER_UNION_BINDING_PREFIX))
      .map(async (name) => {
        try {
          await api.delete('', name);
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
      }),
  );
}
