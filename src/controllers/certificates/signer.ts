// The built-in signers of kube-controller-manager (upstream pkg/controller/certificates/signer
// and the CSR helpers of pkg/apis/certificates): which signer names the cluster CA signs
// for, what each accepts (subject, subjectAltNames, usages — with upstream's messages, which
// end up in the `Failed` condition), how long certificates live, and the condition helpers
// the approver, signer and cleaner share.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import type {
  CertificateSigningRequest,
  CertificateSigningRequestCondition,
} from '../../api/generated/types/certificates-v1.js';
import { gvr } from '../../client/interface.js';
import { type Issuer, issueCertificate } from '../../pki/x509.js';
import type { CertificateRequest } from './pkcs10.js';

/** The CertificateSigningRequest resource. */
export const CSRS = gvr<CertificateSigningRequest>('certificates.k8s.io', 'v1', 'certificatesigningrequests');

/** Upstream's well-known signer names. */
export const Signers = {
  kubeAPIServerClient: 'kubernetes.io/kube-apiserver-client',
  kubeAPIServerClientKubelet: 'kubernetes.io/kube-apiserver-client-kubelet',
  kubeletServing: 'kubernetes.io/kubelet-serving',
  legacyUnknown: 'kubernetes.io/legacy-unknown',
} as const;

/** Default certificate lifetime (upstream --cluster-signing-duration, 1 year). */
export const DEFAULT_CERT_TTL_MS = 365 * 86_400_000;
/** Shortest lifetime a signer issues (upstream: 2× its hard-coded clock skew). */
export const MIN_CERT_TTL_MS = 600_000;
/** How far notBefore is backdated to tolerate clock skew (upstream 5 minutes). */
const BACKDATE_MS = 300_000;

/** The condition of `type` whose status is True, if any. */
export function trueCondition(
  csr: CertificateSigningRequest,
  type: string,
): CertificateSigningRequestCondition | undefined {
  return csr.status?.conditions?.find((c) => c.type === type && c.status === 'True');
}

/** Approved and not Denied (upstream IsCertificateRequestApproved). */
export function isApproved(csr: CertificateSigningRequest): boolean {
  return trueCondition(csr, 'Approved') !== undefined && trueCondition(csr, 'Denied') === undefined;
}

/** Whether the request was approved or denied at all (upstream GetCertApprovalCondition). */
export function approvalState(csr: CertificateSigningRequest): { approved: boolean; denied: boolean } {
  let approved = false;
  let denied = false;
  for (const c of csr.status?.conditions ?? []) {
    if (c.type === 'Approved') approved = true;
    if (c.type === 'Denied') denied = true;
  }
  return { approved, denied };
}

function sortedList(s: readonly string[]): string {
  return `[${[...s].sort().join(' ')}]`;
}

function sameSet(a: ReadonlySet<string>, b: readonly string[]): boolean {
  return a.size === b.length && b.every((x) => a.has(x));
}

const KUBELET_CLIENT_USAGES = ['digital signature', 'key encipherment', 'client auth'];
const KUBELET_CLIENT_USAGES_NO_RSA = ['digital signature', 'client auth'];
const KUBELET_SERVING_USAGES = ['digital signature', 'key encipherment', 'server auth'];
const KUBELET_SERVING_USAGES_NO_RSA = ['digital signature', 'server auth'];

function onlySystemNodes(req: CertificateRequest): boolean {
  return req.organizations.length === 1 && req.organizations[0] === 'system:nodes';
}

/** Upstream ValidateKubeletClientCSR: the error message, or undefined when valid. */
export function validateKubeletClientCSR(
  req: CertificateRequest,
  usages: readonly string[],
): string | undefined {
  if (!onlySystemNodes(req)) return 'subject organization is not system:nodes';
  if (req.dnsNames.length > 0) return 'DNS subjectAltNames are not allowed';
  if (req.emailAddresses.length > 0) return 'Email subjectAltNames are not allowed';
  if (req.ipAddresses.length > 0) return 'IP subjectAltNames are not allowed';
  if (req.uris.length > 0) return 'URI subjectAltNames are not allowed';
  if (!req.commonName.startsWith('system:node:'))
    return 'subject common name does not begin with system:node:';
  const set = new Set(usages);
  if (!sameSet(set, KUBELET_CLIENT_USAGES) && !sameSet(set, KUBELET_CLIENT_USAGES_NO_RSA))
    return `usages did not match ${sortedList(KUBELET_CLIENT_USAGES)}`;
  return undefined;
}

/** Upstream ValidateKubeletServingCSR. */
export function validateKubeletServingCSR(
  req: CertificateRequest,
  usages: readonly string[],
): string | undefined {
  if (!onlySystemNodes(req)) return 'subject organization is not system:nodes';
  if (req.dnsNames.length === 0 && req.ipAddresses.length === 0)
    return 'DNS or IP subjectAltName is required';
  if (req.emailAddresses.length > 0) return 'Email subjectAltNames are not allowed';
  if (req.uris.length > 0) return 'URI subjectAltNames are not allowed';
  const set = new Set(usages);
  if (!sameSet(set, KUBELET_SERVING_USAGES) && !sameSet(set, KUBELET_SERVING_USAGES_NO_RSA))
    return `usages did not match ${sortedList(KUBELET_SERVING_USAGES)}`;
  if (!req.commonName.startsWith('system:node:'))
    return 'subject common name does not begin with system:node:';
  return undefined;
}

/** Upstream validAPIServerClientUsages. */
export function validateAPIServerClientUsages(usages: readonly string[]): string | undefined {
  let clientAuth = false;
  for (const u of usages) {
    if (u === 'digital signature' || u === 'key encipherment') continue;
    if (u === 'client auth') clientAuth = true;
    else return `invalid usage for client certificate: ${u}`;
  }
  return clientAuth ? undefined : 'missing required usage for client certificate: client auth';
}

/**
 * Whether this controller signs for `signerName`, and if so the validation error for the
 * request (undefined: sign it).
 */
export function checkForSigner(
  signerName: string,
  req: CertificateRequest,
  usages: readonly string[],
): { recognized: false } | { recognized: true; error?: string } {
  let error: string | undefined;
  switch (signerName) {
    case Signers.kubeletServing:
      error = validateKubeletServingCSR(req, usages);
      break;
    case Signers.kubeAPIServerClientKubelet:
      error = validateKubeletClientCSR(req, usages);
      break;
    case Signers.kubeAPIServerClient:
      error = validateAPIServerClientUsages(usages);
      break;
    case Signers.legacyUnknown:
      break;
    default:
      return { recognized: false };
  }
  return error === undefined ? { recognized: true } : { recognized: true, error };
}

/** The lifetime to issue: `expirationSeconds` capped to the default TTL, at least 10 minutes. */
export function certDurationMs(expirationSeconds: number | undefined, ttlMs = DEFAULT_CERT_TTL_MS): number {
  if (expirationSeconds === undefined) return ttlMs;
  const requested = expirationSeconds * 1000;
  if (requested > ttlMs) return ttlMs;
  if (requested < MIN_CERT_TTL_MS) return MIN_CERT_TTL_MS;
  return requested;
}

/** Signs `req` with the CA: PEM of the new certificate (never outliving the CA). */
export function signRequest(
  ca: Issuer,
  req: CertificateRequest,
  usages: readonly string[],
  durationMs: number,
  now: Date,
): string {
  const caNotAfter = new Date(new X509Certificate(ca.certPem).validTo);
  let notAfter = new Date(now.getTime() + durationMs);
  if (notAfter > caNotAfter) notAfter = caNotAfter;
  const ext: Array<'serverAuth' | 'clientAuth'> = [];
  if (usages.includes('server auth')) ext.push('serverAuth');
  if (usages.includes('client auth')) ext.push('clientAuth');
  // Validates the CA key early, so a bad key fails here rather than deep in issueCertificate.
  createPrivateKey(ca.keyPem);
  return issueCertificate(
    {
      subject: {
        commonName: req.commonName,
        ...(req.organizations.length > 0 ? { organizations: req.organizations } : {}),
      },
      notBefore: new Date(now.getTime() - BACKDATE_MS),
      notAfter,
      usages: ext,
      sans: [...req.dnsNames, ...req.ipAddresses],
    },
    req.publicKey,
    ca,
  );
}
