// Request authentication: x509 client certificates (verified by TLS against the cluster CA:
// CN is the user, O the groups), bearer tokens (static token file, bootstrap tokens, then
// service-account JWTs, as upstream's union tries them), and anonymous. Every authenticated
// user also gets `system:authenticated`, as upstream adds it.
import type { TLSSocket } from 'node:tls';
import { unauthorized } from '../../machinery/status-error.js';
import type { UserInfo } from '../endpoints/scope.js';
import type { ServiceAccountClaims, TokenIssuer } from './service-account-token.js';

/** The anonymous user. */
export const ANONYMOUS: UserInfo = { username: 'system:anonymous', groups: ['system:unauthenticated'] };

/** What authentication can look at. */
export interface AuthnInput {
  socket: TLSSocket | undefined;
  authorization: string | undefined;
}

/** A bearer-token authenticator that declines (undefined) tokens it does not know. */
export interface TokenAuthenticator {
  authenticateToken(token: string, now: Date): UserInfo | undefined;
}

function withAuthenticated(u: UserInfo): UserInfo {
  return u.groups.includes('system:authenticated')
    ? u
    : { ...u, groups: [...u.groups, 'system:authenticated'] };
}

/** Resolves the user of a request; throws 401 for bad credentials. */
export class Authenticator {
  // A client certificate is fixed for the life of a TLS connection, so its user is computed
  // once per connection rather than per request (getPeerCertificate is costly).
  private readonly certUsers = new WeakMap<object, UserInfo>();

  /** `bearer` are tried in order before service-account tokens. */
  constructor(
    private readonly tokens: TokenIssuer,
    private readonly bearer: readonly TokenAuthenticator[] = [],
  ) {}

  authenticate(input: AuthnInput, now: Date): UserInfo {
    const auth = input.authorization;
    if (auth !== undefined && auth !== '') {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
      if (!m) throw unauthorized();
      const r = this.reviewToken(m[1]!, now);
      if (!('user' in r)) throw unauthorized();
      return r.user;
    }
    const sock = input.socket;
    if (sock) {
      const cached = this.certUsers.get(sock);
      if (cached) return cached;
    }
    if (sock?.authorized) {
      const cert = sock.getPeerCertificate();
      const subj = cert?.subject as unknown as Record<string, string | string[] | undefined> | undefined;
      const cn = subj?.CN;
      if (typeof cn === 'string' && cn !== '') {
        const o = subj?.O;
        const groups = o === undefined ? [] : Array.isArray(o) ? o : [o];
        const user = { username: cn, groups: [...groups, 'system:authenticated'] };
        this.certUsers.set(sock, user);
        return user;
      }
    }
    return ANONYMOUS;
  }

  /**
   * Authenticates a bearer token as upstream's token union does (TokenReview answers with
   * it): the user, or an `error` (empty when no authenticator knew the token, as upstream's
   * authenticators decline tokens that are not theirs without one). `audiences` empty means
   * the API server's own.
   */
  reviewToken(
    token: string,
    now: Date,
    audiences: string[] = [],
  ): { user: UserInfo; audiences: string[] } | { error: string } {
    for (const b of this.bearer) {
      const u = b.authenticateToken(token, now);
      if (u !== undefined) return { user: withAuthenticated(u), audiences: [this.tokens.issuer] };
    }
    const v = this.tokens.verify(token, now, audiences);
    if ('error' in v) return { error: v.foreign ? '' : v.error };
    const want = audiences.length > 0 ? audiences : [this.tokens.issuer];
    return { user: serviceAccountUser(v.claims), audiences: v.claims.aud.filter((a) => want.includes(a)) };
  }
}

function serviceAccountUser(claims: ServiceAccountClaims): UserInfo {
  const k = claims['kubernetes.io'];
  const extra: Record<string, string[]> = {
    'authentication.kubernetes.io/credential-id': [`JTI=${claims.jti}`],
  };
  if (k.pod) {
    extra['authentication.kubernetes.io/pod-name'] = [k.pod.name];
    extra['authentication.kubernetes.io/pod-uid'] = [k.pod.uid];
  }
  if (k.node) {
    extra['authentication.kubernetes.io/node-name'] = [k.node.name];
    extra['authentication.kubernetes.io/node-uid'] = [k.node.uid];
  }
  return {
    username: claims.sub,
    uid: k.serviceaccount.uid,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${k.namespace}`, 'system:authenticated'],
    extra,
  };
}
