// Service-account JWTs (RS256), as upstream issues them: bound tokens from TokenRequest
// (`kubectl create token`, projected volumes) carry `kubernetes.io` private claims naming the
// namespace, service account and optional bound object; verification checks signature,
// issuer, audience and expiry. The key id is derived from the public key, as upstream does,
// so JWKS consumers can match it.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  randomUUID,
  sign,
  verify,
} from 'node:crypto';

/** The issuer kts puts in tokens (upstream's default for kube-apiserver in kubeadm/k3s). */
export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';

/** Claims of a service-account token. */
export interface ServiceAccountClaims {
  iss: string;
  sub: string;
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  jti: string;
  'kubernetes.io': {
    namespace: string;
    serviceaccount: { name: string; uid: string };
    pod?: { name: string; uid: string };
    secret?: { name: string; uid: string };
    node?: { name: string; uid: string };
  };
}

/** What to bind a token to. */
export interface TokenSpec {
  namespace: string;
  serviceAccountName: string;
  serviceAccountUID: string;
  audiences: string[];
  expirationSeconds: number;
  boundObject?: { kind: 'Pod' | 'Secret' | 'Node'; name: string; uid: string };
  now: Date;
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

// Go's %q of a []string, as upstream's audience error prints them.
const goQuoted = (l: string[]): string => `[${l.map((x) => JSON.stringify(x)).join(' ')}]`;

/** Signs and verifies service-account tokens with one RSA key pair. */
export class TokenIssuer {
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  /** JWS `kid`: base64url(sha256(DER public key)). */
  readonly keyId: string;

  constructor(
    privateKeyPem: string,
    readonly issuer = DEFAULT_ISSUER,
  ) {
    this.privateKey = createPrivateKey(privateKeyPem);
    this.publicKey = createPublicKey(this.privateKey);
    this.keyId = b64url(
      createHash('sha256')
        .update(this.publicKey.export({ type: 'spki', format: 'der' }))
        .digest(),
    );
  }

  /** Issues a bound token; returns it with its expiry. */
  issue(spec: TokenSpec): { token: string; expirationTimestamp: Date } {
    const iat = Math.floor(spec.now.getTime() / 1000);
    const exp = iat + spec.expirationSeconds;
    const claims: ServiceAccountClaims = {
      aud: spec.audiences.length > 0 ? spec.audiences : [this.issuer],
      exp,
      iat,
      iss: this.issuer,
      jti: randomUUID(),
      'kubernetes.io': {
        namespace: spec.namespace,
        ...(spec.boundObject?.kind === 'Node'
          ? { node: { name: spec.boundObject.name, uid: spec.boundObject.uid } }
          : {}),
        ...(spec.boundObject?.kind === 'Pod'
          ? { pod: { name: spec.boundObject.name, uid: spec.boundObject.uid } }
          : {}),
        ...(spec.boundObject?.kind === 'Secret'
          ? { secret: { name: spec.boundObject.name, uid: spec.boundObject.uid } }
          : {}),
        serviceaccount: { name: spec.serviceAccountName, uid: spec.serviceAccountUID },
      },
      nbf: iat,
      sub: `system:serviceaccount:${spec.namespace}:${spec.serviceAccountName}`,
    };
    const header = { alg: 'RS256', kid: this.keyId };
    const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = sign('RSA-SHA256', Buffer.from(signingInput), this.privateKey);
    return { token: `${signingInput}.${b64url(sig)}`, expirationTimestamp: new Date(exp * 1000) };
  }

  /**
   * Verifies a token; returns its claims, or a reason it is invalid. `audiences` empty
   * means the API server's own audience (the issuer). `foreign` marks tokens that are not
   * this issuer's at all, which upstream's authenticator declines without an error.
   */
  verify(
    token: string,
    now: Date,
    audiences: string[] = [],
  ): { claims: ServiceAccountClaims } | { error: string; foreign?: boolean } {
    const parts = token.split('.');
    if (parts.length !== 3) return { error: 'not a JWT', foreign: true };
    let header: { alg?: unknown; kid?: unknown };
    let claims: ServiceAccountClaims;
    try {
      header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as typeof header;
      claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as ServiceAccountClaims;
    } catch {
      return { error: 'malformed token', foreign: true };
    }
    if (claims.iss !== this.issuer) return { error: 'token issuer mismatch', foreign: true };
    if (header.alg !== 'RS256') return { error: 'unsupported signing algorithm', foreign: true };
    const ok = verify(
      'RSA-SHA256',
      Buffer.from(`${parts[0]}.${parts[1]}`),
      this.publicKey,
      Buffer.from(parts[2]!, 'base64url'),
    );
    // go-jose's text, which upstream passes through.
    if (!ok) return { error: 'go-jose/go-jose: error in cryptographic primitive' };
    const t = Math.floor(now.getTime() / 1000);
    if (typeof claims.exp !== 'number' || t >= claims.exp)
      return { error: 'service account token has expired' };
    if (typeof claims.nbf === 'number' && t + 60 < claims.nbf)
      return { error: 'service account token is not valid yet' };
    const want = audiences.length > 0 ? audiences : [this.issuer];
    const aud = Array.isArray(claims.aud) ? claims.aud : [String(claims.aud)];
    if (!aud.some((a) => want.includes(a)))
      return {
        error: `token audiences ${goQuoted(aud)} is invalid for the target audiences ${goQuoted(want)}`,
      };
    if (typeof claims['kubernetes.io']?.namespace !== 'string')
      return { error: 'not a service account token' };
    return { claims };
  }

  /** The public key as a JWK (for /openid/v1/jwks). */
  jwk(): Record<string, unknown> {
    const jwk = this.publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
    return { use: 'sig', kty: jwk.kty, kid: this.keyId, alg: 'RS256', n: jwk.n, e: jwk.e };
  }
}
