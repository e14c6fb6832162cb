// The join token of `kts server` and what the server publishes so nodes can join with it,
// the way kubeadm sets up a control plane:
// - the token `<id>.<secret>` is a bootstrap token (Secret kube-system/bootstrap-token-<id>,
//   usable for authentication and signing, group system:bootstrappers:kts:default-node-token,
//   no expiry); it is given with --agent-token (or a --token of that shape) or generated once
//   and kept in DATA_DIR/agent-token (DATA_DIR/token is the HA cluster token, k3s-like);
// - its printed form is k3s-like, `K10<sha256 of the CA certificate DER, hex>::<id>.<secret>`,
//   so an agent can pin the cluster CA (kubeadm's --discovery-token-ca-cert-hash);
// - the ClusterRoleBindings kubeadm creates let bootstrappers create CSRs and have kubelet
//   client certificates auto-approved, and let nodes renew their own;
// - the `cluster-info` ConfigMap in kube-public (a kubeconfig with the server URL and CA,
//   signed per token as `jws-kubeconfig-<id>`, as the bootstrap signer does) is readable
//   anonymously through a Role and RoleBinding.
// kube-proxy on agents runs under the node's own identity: system:node-proxier is bound to
// the group system:nodes (see ARCHITECTURE.md).
import { createHash, createHmac, randomInt, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { ConfigMap, Secret } from '../api/generated/types/core-v1.js';
import type { ClusterRoleBinding, Role, RoleBinding } from '../api/generated/types/rbac-v1.js';
import {
  BOOTSTRAP_TOKEN_NAMESPACE,
  BOOTSTRAP_TOKEN_SECRET_TYPE,
  type BootstrapToken,
  bootstrapTokenSecretName,
  parseBootstrapToken,
} from '../apiserver/auth/bootstrap-token.js';
import { type Client, gvr, type KubeObject, type TypedGVR } from '../client/interface.js';
import { CONFIGMAPS, SECRETS } from '../client/resources.js';
import { isAlreadyExists, isConflict } from '../machinery/status-error.js';
import { pemToDer } from '../pki/x509.js';

/** The extra group of the server's join token (k3s-like counterpart of kubeadm's default-node-token). */
export const JOIN_TOKEN_GROUP = 'system:bootstrappers:kts:default-node-token';
/** The namespace and name of the discovery ConfigMap (kubeadm's). */
export const CLUSTER_INFO = { namespace: 'kube-public', name: 'cluster-info' } as const;
/** Prefix of the per-token detached JWS signatures in cluster-info. */
export const JWS_KEY_PREFIX = 'jws-kubeconfig-';

/** A parsed join token: the bootstrap token and, in the full form, the CA hash to pin. */
export interface JoinToken extends BootstrapToken {
  /** Hex sha256 of the cluster CA certificate (DER), when the full form was given. */
  caHash?: string;
}

/** Parses `<id>.<secret>` or `K10<hash>::<id>.<secret>`; throws a readable error otherwise. */
export function parseJoinToken(s: string): JoinToken {
  const full = /^K10([0-9a-f]{64})::(.*)$/.exec(s.trim());
  const raw = full ? full[2]! : s.trim();
  const t = parseBootstrapToken(raw);
  if (t === undefined)
    throw new Error(
      'the token is not valid: want <id>.<secret> ([a-z0-9]{6}.[a-z0-9]{16}) or K10<ca-hash>::<id>.<secret>',
    );
  return full ? { ...t, caHash: full[1]! } : t;
}

/** Hex sha256 of a CA certificate's DER (what the full token form pins). */
export function caCertHash(caPem: string): string {
  return createHash('sha256').update(pemToDer(caPem)).digest('hex');
}

/** The full, printable form of a token. */
export function formatJoinToken(t: BootstrapToken, caPem: string): string {
  return `K10${caCertHash(caPem)}::${t.id}.${t.secret}`;
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

function randomString(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return s;
}

/** A fresh random bootstrap token. */
export function generateBootstrapToken(): BootstrapToken {
  return { id: randomString(6), secret: randomString(16) };
}

/** Where the server keeps its join token (k3s: server/agent-token). */
export function joinTokenPath(dataDir: string): string {
  return join(dataDir, 'agent-token');
}

/**
 * The server's join token: `given` (either form; a full form must match this CA), else the
 * one saved in DATA_DIR/agent-token, else a new one. The full form is (re)written there.
 */
export function ensureJoinToken(dataDir: string, caPem: string, given?: string): JoinToken {
  const file = joinTokenPath(dataDir);
  let t: JoinToken | undefined;
  if (given !== undefined) t = parseJoinToken(given);
  else if (existsSync(file)) {
    try {
      t = parseJoinToken(readFileSync(file, 'utf8'));
    } catch {
      t = undefined;
    }
  }
  t ??= generateBootstrapToken();
  if (t.caHash !== undefined && t.caHash !== caCertHash(caPem))
    throw new Error(
      'the token names a different cluster CA than this server has (its K10 hash does not match)',
    );
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${formatJoinToken(t, caPem)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
  return { id: t.id, secret: t.secret, caHash: caCertHash(caPem) };
}

/** The discovery kubeconfig of cluster-info (kubeadm's shape: one nameless cluster, no users). */
export function clusterInfoKubeconfig(server: string, caPem: string): string {
  return stringify({
    apiVersion: 'v1',
    clusters: [
      { cluster: { 'certificate-authority-data': Buffer.from(caPem).toString('base64'), server }, name: '' },
    ],
    contexts: null,
    'current-context': '',
    kind: 'Config',
    preferences: {},
    users: null,
  });
}

/** The detached JWS (HS256, key `<id>.<secret>`) the bootstrap signer puts beside the kubeconfig. */
export function signClusterInfo(kubeconfig: string, t: BootstrapToken): string {
  const header = Buffer.from(JSON.stringify({ alg: 'HS256', kid: t.id })).toString('base64url');
  const payload = Buffer.from(kubeconfig).toString('base64url');
  const sig = createHmac('sha256', `${t.id}.${t.secret}`).update(`${header}.${payload}`).digest('base64url');
  return `${header}..${sig}`;
}

/** True when `jws` is the detached signature of `kubeconfig` with token `t`. */
export function verifyClusterInfo(kubeconfig: string, jws: string, t: BootstrapToken): boolean {
  return jws === signClusterInfo(kubeconfig, t);
}

const CLUSTERROLEBINDINGS = gvr<ClusterRoleBinding>('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings');
const ROLES = gvr<Role>('rbac.authorization.k8s.io', 'v1', 'roles');
const ROLEBINDINGS = gvr<RoleBinding>('rbac.authorization.k8s.io', 'v1', 'rolebindings');
const RBAC = 'rbac.authorization.k8s.io';

async function createOrReplace<T extends KubeObject>(
  client: Client,
  r: TypedGVR<T>,
  ns: string,
  obj: T,
): Promise<void> {
  const api = client.resource(r);
  try {
    await api.create(ns, obj);
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
    for (let i = 0; i < 3; i++) {
      const cur = await api.get(ns, obj.metadata?.name ?? '');
      try {
        await api.update(ns, {
          ...obj,
          metadata: { ...obj.metadata, resourceVersion: cur.metadata?.resourceVersion },
        });
        return;
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
    }
  }
}

function bindingTo(name: string, role: string, kind: 'Group' | 'User', subject: string): ClusterRoleBinding {
  return {
    apiVersion: `${RBAC}/v1`,
    kind: 'ClusterRoleBinding',
    metadata: { name, labels: { 'kubernetes.io/bootstrapping': 'kts' } },
    roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: role },
    subjects: [{ apiGroup: RBAC, kind, name: subject }],
  };
}

/** The bindings that let tokens bootstrap kubelets and nodes renew (kubeadm's, under `kts:` names). */
export function joinBindings(): ClusterRoleBinding[] {
  return [
    bindingTo('kts:kubelet-bootstrap', 'system:node-bootstrapper', 'Group', 'system:bootstrappers'),
    bindingTo(
      'kts:node-autoapprove-bootstrap',
      'system:certificates.k8s.io:certificatesigningrequests:nodeclient',
      'Group',
      'system:bootstrappers',
    ),
    bindingTo(
      'kts:node-autoapprove-certificate-rotation',
      'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient',
      'Group',
      'system:nodes',
    ),
    bindingTo('kts:node-proxier', 'system:node-proxier', 'Group', 'system:nodes'),
  ];
}

/** Creates or refreshes the token Secret, the bindings and cluster-info (with the admin client). */
export async function publishJoinInfo(
  client: Client,
  t: BootstrapToken,
  server: string,
  caPem: string,
): Promise<void> {
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  const secret: Secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: bootstrapTokenSecretName(t.id), namespace: BOOTSTRAP_TOKEN_NAMESPACE },
    type: BOOTSTRAP_TOKEN_SECRET_TYPE,
    data: {
      description: b64('The default bootstrap token of kts server, for `kts agent --token`.'),
      'token-id': b64(t.id),
      'token-secret': b64(t.secret),
      'usage-bootstrap-authentication': b64('true'),
      'usage-bootstrap-signing': b64('true'),
      'auth-extra-groups': b64(JOIN_TOKEN_GROUP),
    },
  };
  await createOrReplace(client, SECRETS, BOOTSTRAP_TOKEN_NAMESPACE, secret);
  for (const b of joinBindings()) await createOrReplace(client, CLUSTERROLEBINDINGS, '', b);
  const kubeconfig = clusterInfoKubeconfig(server, caPem);
  const cm: ConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: CLUSTER_INFO.name, namespace: CLUSTER_INFO.namespace },
    data: { kubeconfig, [`${JWS_KEY_PREFIX}${t.id}`]: signClusterInfo(kubeconfig, t) },
  };
  await createOrReplace(client, CONFIGMAPS, CLUSTER_INFO.namespace, cm);
  const roleName = 'kts:bootstrap-signer-clusterinfo';
  await createOrReplace(client, ROLES, CLUSTER_INFO.namespace, {
    apiVersion: `${RBAC}/v1`,
    kind: 'Role',
    metadata: { name: roleName, namespace: CLUSTER_INFO.namespace },
    rules: [
      { apiGroups: [''], resources: ['configmaps'], resourceNames: [CLUSTER_INFO.name], verbs: ['get'] },
    ],
  });
  await createOrReplace(client, ROLEBINDINGS, CLUSTER_INFO.namespace, {
    apiVersion: `${RBAC}/v1`,
    kind: 'RoleBinding',
    metadata: { name: roleName, namespace: CLUSTER_INFO.namespace },
    roleRef: { apiGroup: RBAC, kind: 'Role', name: roleName },
    subjects: [{ apiGroup: RBAC, kind: 'User', name: 'system:anonymous' }],
  });
}

/** The line that joins another machine. */
export function joinCommand(server: string, t: BootstrapToken, caPem: string): string {
  return `kts agent --server ${server} --token ${formatJoinToken(t, caPem)}`;
}

/** True when `s` has the shape of a join token (so a k3s-style --token can double as one). */
export function isJoinToken(s: string | undefined): s is string {
  if (s === undefined) return false;
  try {
    parseJoinToken(s);
    return true;
  } catch {
    return false;
  }
}

/**
 * Everything `kts server` does for joining: the token (see ensureJoinToken), its Secret,
 * the bindings and cluster-info. Returns the `kts agent …` line to print.
 */
export async function setupJoin(
  admin: Client,
  opts: { dataDir: string; server: string; caPem: string; token?: string },
): Promise<string> {
  const t = ensureJoinToken(opts.dataDir, opts.caPem, opts.token);
  await publishJoinInfo(admin, t, opts.server, opts.caPem);
  return joinCommand(opts.server, t, opts.caPem);
}

/** Not-after of a PEM certificate (ms). */
export function certNotAfter(pem: string): number {
  return new Date(new X509Certificate(pem).validTo).getTime();
}
