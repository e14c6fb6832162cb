// The three CSR handlers of kube-controller-manager:
// - csrsigning (upstream signer.handle): signs approved, not-failed CSRs of the built-in
//   signers with the cluster CA; a request its signer refuses gets a `Failed` condition with
//   reason `SignerValidationFailure` instead of a certificate.
// - csrapproving (upstream sarApprover): approves kubelet client certificates when the
//   requester may `create certificatesigningrequests/selfnodeclient` (renewing its own node
//   identity) or `…/nodeclient` (bootstrap), asked through a SubjectAccessReview.
// - csrcleaner (upstream cleaner): deletes CSRs past upstream's ages (issued or denied or
//   failed for an hour, pending for a day) and those whose certificate has expired.
import { X509Certificate } from 'node:crypto';
import type {
  CertificateSigningRequest,
  CertificateSigningRequestCondition,
} from '../../api/generated/types/certificates-v1.js';
import type { SubjectAccessReview } from '../../api/generated/types/authorization-v1.js';
import type { Clock } from '../../client/clock.js';
import { type Client, gvr } from '../../client/interface.js';
import type { Issuer } from '../../pki/x509.js';
import type { CSRHandler } from './certificate-controller.js';
import { type CertificateRequest, parseCertificateRequest } from './pkcs10.js';
import {
  approvalState,
  CSRS,
  certDurationMs,
  checkForSigner,
  isApproved,
  Signers,
  signRequest,
  trueCondition,
  validateKubeletClientCSR,
} from './signer.js';

const SUBJECT_ACCESS_REVIEWS = gvr<SubjectAccessReview>('authorization.k8s.io', 'v1', 'subjectaccessreviews');

const rfc3339 = (ms: number): string => `${new Date(ms).toISOString().slice(0, 19)}Z`;

function requestOf(csr: CertificateSigningRequest): CertificateRequest {
  try {
    return parseCertificateRequest(Buffer.from(csr.spec?.request ?? '', 'base64').toString('utf8'));
  } catch (e) {
    throw new Error(`unable to parse csr "${csr.metadata?.name ?? ''}": ${(e as Error).message}`);
  }
}

/** The csrsigning handler for a CA (cert + key PEM). */
export function signingHandler(ca: Issuer, clock: Clock, ttlMs?: number): CSRHandler {
  return async (csr, client) => {
    if (!isApproved(csr) || trueCondition(csr, 'Failed') !== undefined) return;
    if ((csr.status?.certificate ?? '') !== '') return;
    const signer = csr.spec?.signerName ?? '';
    if (!(Object.values(Signers) as string[]).includes(signer)) return;
    const req = requestOf(csr);
    const usages = csr.spec?.usages ?? [];
    const check = checkForSigner(signer, req, usages);
    if (!check.recognized) return;
    const now = clock.now();
    if (check.error !== undefined) {
      const failed: CertificateSigningRequestCondition = {
        type: 'Failed',
        status: 'True',
        reason: 'SignerValidationFailure',
        message: check.error,
        lastUpdateTime: rfc3339(now),
        lastTransitionTime: rfc3339(now),
      };
      csr.status = { ...csr.status, conditions: [...(csr.status?.conditions ?? []), failed] };
      await client.resource(CSRS).updateStatus('', csr);
      return;
    }
    const pem = signRequest(
      ca,
      req,
      usages,
      certDurationMs(csr.spec?.expirationSeconds, ttlMs),
      new Date(now),
    );
    csr.status = { ...csr.status, certificate: Buffer.from(pem).toString('base64') };
    await client.resource(CSRS).updateStatus('', csr);
  };
}

interface Recognizer {
  recognize(csr: CertificateSigningRequest, req: CertificateRequest): boolean;
  subresource: string;
  message: string;
}

function isNodeClientCert(csr: CertificateSigningRequest, req: CertificateRequest): boolean {
  if (csr.spec?.signerName !== Signers.kubeAPIServerClientKubelet) return false;
  return validateKubeletClientCSR(req, csr.spec.usages ?? []) === undefined;
}

const RECOGNIZERS: Recognizer[] = [
  {
    recognize: (csr, req) => csr.spec?.username === req.commonName && isNodeClientCert(csr, req),
    subresource: 'selfnodeclient',
    message: 'Auto approving self kubelet client certificate after SubjectAccessReview.',
  },
  {
    recognize: isNodeClientCert,
    subresource: 'nodeclient',
    message: 'Auto approving kubelet client certificate after SubjectAccessReview.',
  },
];

async function sarAllows(
  client: Client,
  csr: CertificateSigningRequest,
  subresource: string,
): Promise<boolean> {
  const spec = csr.spec;
  const sar = await client.resource(SUBJECT_ACCESS_REVIEWS).create('', {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    spec: {
      ...(spec?.username !== undefined ? { user: spec.username } : {}),
      ...(spec?.uid !== undefined ? { uid: spec.uid } : {}),
      ...(spec?.groups !== undefined ? { groups: spec.groups } : {}),
      ...(spec?.extra !== undefined ? { extra: spec.extra } : {}),
      resourceAttributes: {
        group: 'certificates.k8s.io',
        resource: 'certificatesigningrequests',
        verb: 'create',
        subresource,
        version: '*',
      },
    },
  });
  return sar.status?.allowed === true;
}

/** The csrapproving handler. */
export function approvingHandler(clock: Clock): CSRHandler {
  return async (csr, client) => {
    if ((csr.status?.certificate ?? '') !== '') return;
    const { approved, denied } = approvalState(csr);
    if (approved || denied) return;
    const req = requestOf(csr);
    const tried: string[] = [];
    for (const r of RECOGNIZERS) {
      if (!r.recognize(csr, req)) continue;
      tried.push(r.subresource);
      if (!(await sarAllows(client, csr, r.subresource))) continue;
      const now = rfc3339(clock.now());
      const cond: CertificateSigningRequestCondition = {
        type: 'Approved',
        status: 'True',
        reason: 'AutoApproved',
        message: r.message,
        lastUpdateTime: now,
        lastTransitionTime: now,
      };
      csr.status = { ...csr.status, conditions: [...(csr.status?.conditions ?? []), cond] };
      await client.resource(CSRS).update('', csr, { subresource: 'approval' });
      return;
    }
    if (tried.length > 0)
      throw new Error(
        `recognized csr "${csr.metadata?.name ?? ''}" as [${tried.join(' ')}] but subject access review was not approved`,
      );
  };
}

/** Upstream cleaner ages. */
export const CleanerAges = {
  approvedMs: 3_600_000,
  deniedMs: 3_600_000,
  pendingMs: 24 * 3_600_000,
} as const;

function olderThan(t: string | undefined, ageMs: number, now: number): boolean {
  if (t === undefined) return false;
  const ms = Date.parse(t);
  return !Number.isNaN(ms) && now - ms > ageMs;
}

function issuedExpired(csr: CertificateSigningRequest, now: number): boolean {
  const pem = Buffer.from(csr.status?.certificate ?? '', 'base64').toString('utf8');
  if (pem === '') return false;
  try {
    const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
    return blocks.some((b) => new Date(new X509Certificate(b).validTo).getTime() < now);
  } catch {
    return false;
  }
}

/** True when the cleaner would delete this CSR at `now` (ms). */
export function shouldClean(csr: CertificateSigningRequest, now: number): boolean {
  const conds = csr.status?.conditions ?? [];
  const issued = (csr.status?.certificate ?? '') !== '';
  if (
    issued &&
    conds.some((c) => c.type === 'Approved' && olderThan(c.lastUpdateTime, CleanerAges.approvedMs, now))
  )
    return true;
  if (conds.some((c) => c.type === 'Denied' && olderThan(c.lastUpdateTime, CleanerAges.deniedMs, now)))
    return true;
  if (conds.some((c) => c.type === 'Failed' && olderThan(c.lastUpdateTime, CleanerAges.deniedMs, now)))
    return true;
  const { approved, denied } = approvalState(csr);
  const failed = conds.some((c) => c.type === 'Failed');
  if (
    !approved &&
    !denied &&
    !failed &&
    olderThan(csr.metadata?.creationTimestamp, CleanerAges.pendingMs, now)
  )
    return true;
  return issuedExpired(csr, now);
}

/** The csrcleaner's check of one CSR. */
export function cleanerHandler(clock: Clock): CSRHandler {
  return async (csr, client) => {
    if (!shouldClean(csr, clock.now())) return;
    await client.resource(CSRS).delete('', csr.metadata?.name ?? '');
  };
}
