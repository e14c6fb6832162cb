// Kubelet TLS bootstrap and client certificate rotation (upstream kubelet/certificate/
// bootstrap and client-go's certificate manager): with the bootstrap token, create a CSR
// for signer kubernetes.io/kube-apiserver-client-kubelet (CN system:node:<node>, O
// system:nodes, usages digital signature + client auth for an ECDSA key), wait until it is
// approved and issued, and write DATA_DIR/kubelet.kubeconfig. A valid kubeconfig of the same
// node and CA is reused on restart. Renewal happens at 70–90% of the certificate's lifetime
// (upstream's jitter), with a new CSR authenticated by the current certificate, which the
// csrapproving controller approves as selfnodeclient.
import { createHash, createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { CertificateSigningRequest } from '../api/generated/types/certificates-v1.js';
import type { Clock } from '../client/clock.js';
import type { RestConfig } from '../client/kubeconfig.js';
import { RestClient } from '../client/rest-client.js';
import { createCertificateRequest } from '../controllers/certificates/pkcs10.js';
import { CSRS, Signers } from '../controllers/certificates/signer.js';
import { isUnauthorized } from '../machinery/status-error.js';
import { writeKubeconfig } from '../pki/kubeconfig.js';
import { generateKey, type KeyPair } from '../pki/x509.js';

/** Where the kubelet's client credentials live. */
export function kubeletKubeconfigPath(dataDir: string): string {
  return join(dataDir, 'kubelet.kubeconfig');
}

/** The node's current credentials. */
export interface NodeCredentials extends KeyPair {
  kubeconfigPath: string;
  notBefore: number;
  notAfter: number;
}

/** Loads DATA_DIR/kubelet.kubeconfig if it holds a valid certificate for `nodeName` from `caPem`. */
export function loadNodeCredentials(
  dataDir: string,
  nodeName: string,
  caPem: string,
  now: number,
): NodeCredentials | undefined {
  const path = kubeletKubeconfigPath(dataDir);
  if (!existsSync(path)) return undefined;
  try {
    const cfg = parse(readFileSync(path, 'utf8')) as {
      users?: Array<{ user?: Record<string, string> }>;
      clusters?: Array<{ cluster?: Record<string, string> }>;
    };
    const u = cfg.users?.[0]?.user ?? {};
    const certPem = Buffer.from(u['client-certificate-data'] ?? '', 'base64').toString('utf8');
    const keyPem = Buffer.from(u['client-key-data'] ?? '', 'base64').toString('utf8');
    const cert = new X509Certificate(certPem);
    if (!cert.checkIssued(new X509Certificate(caPem))) return undefined;
    if (!cert.subject.split('\n').includes(`CN=system:node:${nodeName}`)) return undefined;
    const notAfter = new Date(cert.validTo).getTime();
    if (notAfter <= now) return undefined;
    return { certPem, keyPem, kubeconfigPath: path, notBefore: new Date(cert.validFrom).getTime(), notAfter };
  } catch {
    return undefined;
  }
}

/** When to renew: 70–90% into the lifetime (upstream jitteryDuration). */
export function renewalDeadline(
  notBefore: number,
  notAfter: number,
  rand: () => number = Math.random,
): number {
  const total = notAfter - notBefore;
  return notBefore + total * 0.7 + total * 0.2 * rand();
}

const MAX_WAIT_MS = 3_600_000;

/**
 * Sleeps until `at` (ms since the epoch) or the signal aborts. Node timers cannot wait past
 * 2^31-1 ms (~24.8 days: a longer one fires at once), and a year-long certificate renews
 * months out, so this waits in hour-long steps.
 */
export async function sleepUntil(clock: Clock, at: number, signal: AbortSignal): Promise<void> {
  while (!signal.aborted && clock.now() < at)
    await clock.sleep(Math.min(at - clock.now(), MAX_WAIT_MS), signal).catch(() => {});
}

/** How to request a node certificate. */
export interface RequestOptions {
  server: string;
  caPem: string;
  nodeName: string;
  /** Credentials of the request: the bootstrap token, or the current certificate. */
  auth: { token: string } | KeyPair;
  dataDir: string;
  clock: Clock;
  signal?: AbortSignal;
  /** Give up after this long waiting for approval (default 15 minutes, upstream's). */
  timeoutMs?: number;
  /** Requested lifetime (spec.expirationSeconds); default the signer's. */
  expirationSeconds?: number;
}

const NODE_USAGES = ['digital signature', 'client auth'] as const;

/**
 * The kubelet's bootstrap CSR name: `node-csr-` and the base64url SHA-512/256 of the public
 * key, common name, organizations and usages, each base64url-encoded and `|`-terminated so
 * no two inputs run together.
 */
export function digestedCSRName(
  key: KeyObject,
  commonName: string,
  organizations: readonly string[],
  usages: readonly string[],
): string {
  const hash = createHash('sha512-256');
  const write = (data: Buffer): void => {
    hash.update(data.toString('base64url'));
    hash.update('|');
  };
  write(createPublicKey(key).export({ type: 'spki', format: 'der' }));
  write(Buffer.from(commonName));
  for (const o of organizations) write(Buffer.from(o));
  for (const u of usages) write(Buffer.from(u));
  return `node-csr-${hash.digest('base64url')}`;
}

/** Thrown when the API server refuses the credentials (bad or expired token). */
export class BootstrapAuthError extends Error {}

/** Requests, waits for and stores a node client certificate; returns the new credentials. */
export async function requestNodeCertificate(o: RequestOptions): Promise<NodeCredentials> {
  const rc: RestConfig = {
    server: o.server,
    caData: o.caPem,
    userAgent: 'kubelet/v1.32.4 (linux) kts',
    ...('token' in o.auth ? { token: o.auth.token } : { certData: o.auth.certPem, keyData: o.auth.keyPem }),
  };
  const client = new RestClient(rc, { maxRetries: 2 });
  try {
    const key = generateKey();
    const request = createCertificateRequest(
      { commonName: `system:node:${o.nodeName}`, organizations: ['system:nodes'] },
      key,
    );
    const csrs = client.resource(CSRS);
    let created: CertificateSigningRequest;
    try {
      created = await csrs.create('', {
        apiVersion: 'certificates.k8s.io/v1',
        kind: 'CertificateSigningRequest',
        // Upstream names the bootstrap request after its key and subject; a rotation (made
        // with the node's own certificate) takes a generated `csr-` name.
        metadata:
          'token' in o.auth
            ? { name: digestedCSRName(key, `system:node:${o.nodeName}`, ['system:nodes'], NODE_USAGES) }
            : { generateName: 'csr-' },
        spec: {
          request: Buffer.from(request).toString('base64'),
          signerName: Signers.kubeAPIServerClientKubelet,
          usages: [...NODE_USAGES],
          ...(o.expirationSeconds !== undefined ? { expirationSeconds: o.expirationSeconds } : {}),
        },
      });
    } catch (e) {
      if (isUnauthorized(e))
        throw new BootstrapAuthError('the token is not valid: the API server refused it (401 Unauthorized)');
      throw e;
    }
    const name = created.metadata?.name ?? '';
    const deadline = o.clock.now() + (o.timeoutMs ?? 15 * 60_000);
    let certPem = '';
    while (certPem === '') {
      if (o.signal?.aborted) throw new Error('aborted while waiting for the node certificate');
      if (o.clock.now() > deadline)
        throw new Error(`timed out waiting for CSR ${name} to be approved and signed`);
      const cur = await csrs.get('', name);
      const conds = cur.status?.conditions ?? [];
      const bad = conds.find((c) => (c.type === 'Denied' || c.type === 'Failed') && c.status === 'True');
      if (bad)
        throw new Error(
          `certificate request ${name} was ${bad.type.toLowerCase()}: ${bad.message ?? bad.reason ?? ''}`,
        );
      certPem = Buffer.from(cur.status?.certificate ?? '', 'base64').toString('utf8');
      if (certPem === '') await o.clock.sleep(500, o.signal).catch(() => {});
    }
    const cert = new X509Certificate(certPem);
    if (!cert.publicKey.equals(createPublicKey(key)))
      throw new Error(`CSR ${name}: the certificate is for another key`);
    const keyPem = key.export({ type: 'pkcs8', format: 'pem' }).toString();
    const path = kubeletKubeconfigPath(o.dataDir);
    writeKubeconfig(path, {
      server: o.server,
      caPem: o.caPem,
      clientCertPem: certPem,
      clientKeyPem: keyPem,
      userName: `system:node:${o.nodeName}`,
    });
    return {
      certPem,
      keyPem,
      kubeconfigPath: path,
      notBefore: new Date(cert.validFrom).getTime(),
      notAfter: new Date(cert.validTo).getTime(),
    };
  } finally {
    client.close();
  }
}
