// The certificate controllers of kube-controller-manager, by upstream name: `csrsigning`
// (signs approved CSRs of the kubernetes.io signers with the cluster CA), `csrapproving`
// (auto-approves kubelet client certificates after a SubjectAccessReview) and `csrcleaner`
// (deletes old CSRs). All three are one CertificateController with a different handler.
// The signer needs the CA key: the manager hands it over as `clusterSigning` (upstream's
// --cluster-signing-cert-file/--cluster-signing-key-file); without it csrsigning idles.
import type { KeyPair } from '../../pki/x509.js';
import type { Controller, ControllerContext, ControllerFactory } from '../types.js';
import { CertificateController } from './certificate-controller.js';
import { approvingHandler, cleanerHandler, signingHandler } from './handlers.js';

export { CertificateController, type CSRHandler } from './certificate-controller.js';
export { approvingHandler, CleanerAges, cleanerHandler, shouldClean, signingHandler } from './handlers.js';
export {
  type CertificateRequest,
  type CertificateRequestTemplate,
  createCertificateRequest,
  parseCertificateRequest,
} from './pkcs10.js';
export {
  CSRS,
  certDurationMs,
  checkForSigner,
  DEFAULT_CERT_TTL_MS,
  MIN_CERT_TTL_MS,
  Signers,
} from './signer.js';

/** The cleaner's polling period (upstream 1 hour). */
export const CLEANER_POLL_MS = 3_600_000;

/** The signing CA a context carries (`clusterSigning`), if the manager was given one. */
export function signingCAOf(ctx: ControllerContext): KeyPair | undefined {
  return ctx.clusterSigning;
}

/** Builds csrsigning with an explicit CA. */
export function csrSigningControllerFactory(ca: KeyPair): ControllerFactory {
  return (ctx) => new CertificateController('csrsigning', ctx, signingHandler(ca, ctx.clock));
}

/** Builds csrsigning from `ctx.clusterSigning`; without a CA it does nothing but wait. */
export const newCSRSigningController: ControllerFactory = (ctx) => {
  const ca = signingCAOf(ctx);
  if (ca !== undefined) return csrSigningControllerFactory(ca)(ctx);
  ctx.log.info('csrsigning has no signing CA (cluster signing cert/key not given): not signing');
  const idle: Controller = {
    name: 'csrsigning',
    run: (signal) =>
      new Promise<void>((r) => {
        if (signal.aborted) r();
        else signal.addEventListener('abort', () => r(), { once: true });
      }),
  };
  return idle;
};

/** Builds csrapproving. */
export const newCSRApprovingController: ControllerFactory = (ctx) =>
  new CertificateController('csrapproving', ctx, approvingHandler(ctx.clock));

/** Builds csrcleaner. */
export const newCSRCleanerController: ControllerFactory = (ctx) =>
  new CertificateController('csrcleaner', ctx, cleanerHandler(ctx.clock), CLEANER_POLL_MS);
