// Bootstrap-token controllers of kube-controller-manager: `tokencleaner` removes expired
// bootstrap token Secrets (kube-system, type bootstrap.kubernetes.io/token).
import type { ControllerFactory } from '../types.js';
import { TokenCleaner } from './token-cleaner.js';

export { TokenCleaner } from './token-cleaner.js';

/** Builds the tokencleaner controller. */
export const newTokenCleaner: ControllerFactory = (ctx) => new TokenCleaner(ctx);
