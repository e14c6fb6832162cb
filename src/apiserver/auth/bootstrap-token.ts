// Bootstrap tokens (upstream plugin/pkg/auth/authenticator/token/bootstrap and the constants
// of k8s.io/cluster-bootstrap): a bearer token `<id>.<secret>` names the Secret
// `kube-system/bootstrap-token-<id>` of type `bootstrap.kubernetes.io/token`. The token
// authenticates as `system:bootstrap:<id>` when the Secret allows authentication, has not
// expired and holds the same secret. Lookups read the API server's own Secret watch cache
// through a small function, so authentication never touches storage.
import { timingSafeEqual } from 'node:crypto';
import type { UserInfo } from '../endpoints/scope.js';

/** The namespace bootstrap token Secrets live in. */
export const BOOTSTRAP_TOKEN_NAMESPACE = 'kube-system';
/** Prefix of a bootstrap token Secret's name (followed by the token id). */
export const BOOTSTRAP_TOKEN_SECRET_PREFIX = 'bootstrap-token-';
/** The Secret type of bootstrap tokens. */
export const BOOTSTRAP_TOKEN_SECRET_TYPE = 'bootstrap.kubernetes.io/token';
/** Prefix of the user name a bootstrap token authenticates as. */
export const BOOTSTRAP_USER_PREFIX = 'system:bootstrap:';
/** The group every bootstrap token user is in. */
export const BOOTSTRAP_DEFAULT_GROUP = 'system:bootstrappers';

/** Keys of a bootstrap token Secret's data. */
export const BootstrapTokenKeys = {
  id: 'token-id',
  secret: 'token-secret',
  expiration: 'expiration',
  description: 'description',
  extraGroups: 'auth-extra-groups',
  usageAuthentication: 'usage-bootstrap-authentication',
  usageSigning: 'usage-bootstrap-signing',
} as const;

const TOKEN_RE = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
const EXTRA_GROUP_RE = /^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$/;

/** A bootstrap token split into its public id and its secret. */
export interface BootstrapToken {
  id: string;
  secret: string;
}

/** Splits `<id>.<secret>`; undefined when the string is not a bootstrap token. */
export function parseBootstrapToken(token: string): BootstrapToken | undefined {
  const m = TOKEN_RE.exec(token);
  return m ? { id: m[1]!, secret: m[2]! } : undefined;
}

/** The Secret name of a token id. */
export function bootstrapTokenSecretName(id: string): string {
  return `${BOOTSTRAP_TOKEN_SECRET_PREFIX}${id}`;
}

/** The shape of a Secret the authenticator reads (base64 `data`, as stored). */
export interface BootstrapSecret {
  type?: string;
  metadata?: { name?: string; deletionTimestamp?: string };
  data?: Record<string, string>;
}

/** Returns the Secret `kube-system/<name>` or undefined; must be cheap (a cache read). */
export type SecretLookup = (name: string) => BootstrapSecret | undefined;

/** A decoded data value of a bootstrap Secret ('' when absent). */
export function secretValue(s: BootstrapSecret, key: string): string {
  const v = s.data?.[key];
  return v === undefined ? '' : Buffer.from(v, 'base64').toString('utf8');
}

/** True when the Secret's `expiration` lies at or before `now` (an unparsable one counts as expired). */
export function isBootstrapSecretExpired(s: BootstrapSecret, now: Date): boolean {
  const exp = secretValue(s, BootstrapTokenKeys.expiration);
  if (exp === '') return false;
  const t = Date.parse(exp);
  return Number.isNaN(t) || t <= now.getTime();
}

/**
 * The groups of a bootstrap token user: `system:bootstrappers` and the valid entries of
 * `auth-extra-groups`, sorted and without duplicates (upstream GetGroups); undefined when an
 * extra group is malformed, which upstream treats as a bad token.
 */
export function bootstrapGroups(s: BootstrapSecret): string[] | undefined {
  const groups = new Set([BOOTSTRAP_DEFAULT_GROUP]);
  const extra = secretValue(s, BootstrapTokenKeys.extraGroups);
  if (extra !== '') {
    for (const g of extra.split(',')) {
      const t = g.trim();
      if (!EXTRA_GROUP_RE.test(t)) return undefined;
      groups.add(t);
    }
  }
  return [...groups].sort();
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Authenticates bootstrap tokens against their Secrets. */
export class BootstrapTokenAuthenticator {
  constructor(private readonly lookup: SecretLookup) {}

  /**
   * The user of `token`, or undefined when it is not a valid bootstrap token (the request
   * then fails with 401, as every other token authenticator has declined it too).
   */
  authenticateToken(token: string, now: Date): UserInfo | undefined {
    const t = parseBootstrapToken(token);
    if (t === undefined) return undefined;
    const s = this.lookup(bootstrapTokenSecretName(t.id));
    if (s === undefined || s.metadata?.deletionTimestamp !== undefined) return undefined;
    if (s.type !== BOOTSTRAP_TOKEN_SECRET_TYPE) return undefined;
    if (!sameSecret(secretValue(s, BootstrapTokenKeys.secret), t.secret)) return undefined;
    if (secretValue(s, BootstrapTokenKeys.id) !== t.id) return undefined;
    if (isBootstrapSecretExpired(s, now)) return undefined;
    if (secretValue(s, BootstrapTokenKeys.usageAuthentication) !== 'true') return undefined;
    const groups = bootstrapGroups(s);
    if (groups === undefined) return undefined;
    return { username: `${BOOTSTRAP_USER_PREFIX}${t.id}`, groups };
  }
}
