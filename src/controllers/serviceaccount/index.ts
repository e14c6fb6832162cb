// ServiceAccount-related controllers: the `default` ServiceAccount in every namespace, and
// the `kube-root-ca.crt` ConfigMap (the cluster CA for in-cluster clients) in every
// namespace. The CA PEM comes from the controller manager's kubeconfig; the manager
// passes it as `ControllerContext.rootCA` (see rootCAOf).
import type { ControllerContext, ControllerFactory } from '../types.js';
import { ServiceAccountsController } from './controller.js';
import { RootCACertPublisher } from './root-ca-publisher.js';

export { DEFAULT_SERVICE_ACCOUNTS, ServiceAccountsController } from './controller.js';
export { ROOT_CA_CONFIGMAP, ROOT_CA_KEY, RootCACertPublisher } from './root-ca-publisher.js';

/** The CA PEM a context carries (`rootCA`, once ControllerContext declares it), or ''. */
export function rootCAOf(ctx: ControllerContext): string {
  const v = (ctx as ControllerContext & { rootCA?: unknown }).rootCA;
  return typeof v === 'string' ? v : '';
}

/** Builds the serviceaccount controller. */
export const newServiceAccountsController: ControllerFactory = (ctx) => new ServiceAccountsController(ctx);

/** Builds the root CA publisher with an explicit CA PEM. */
export function rootCACertPublisherFactory(rootCA: string): ControllerFactory {
  return (ctx) => new RootCACertPublisher(ctx, rootCA);
}

/** Builds the root CA publisher from `ctx.rootCA`. */
export const newRootCACertPublisher: ControllerFactory = (ctx) => new RootCACertPublisher(ctx, rootCAOf(ctx));
