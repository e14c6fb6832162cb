// Per-controller API identities (client-go's ControllerClientBuilder, upstream's
// `--use-service-account-credentials`). The controller manager authenticates as itself only
// for its own work (leader election, shared informers, creating these service accounts);
// each controller gets a client that authenticates as ServiceAccount
// kube-system/<controller>, which the bootstrap policy binds to exactly that controller's
// `system:controller:<name>` role, so a bug in one controller cannot use another's rights.
//
// Tokens come from the TokenRequest API (`serviceaccounts/<name>/token`) with a one-hour
// expiry and are renewed once 80 % of their lifetime has passed (upstream's
// DynamicControllerClientBuilder: 3600 s, 20 % leeway). Renewal happens lazily on the
// request path, one request at a time per account; if it fails while the old token is
// still valid, the old token keeps being used and the next request tries again.
import type { ServiceAccount } from '../api/generated/types/core-v1.js';
import type { TokenRequest } from '../api/generated/types/authentication-v1.js';
import { isAlreadyExists, isNotFound } from '../machinery/status-error.js';
import { type Clock, realClock } from './clock.js';
import { type Client, gvr } from './interface.js';
import type { RestConfig } from './kubeconfig.js';
import { errorText, type Logger, noopLogger } from './log.js';
import { SERVICEACCOUNTS } from './resources.js';
import { RestClient, type RestClientOptions, type TokenSource } from './rest-client.js';

/** Gives each controller the client it runs with. */
export interface ControllerClientBuilder {
  /** The client of the controller whose service account is `name`. */
  clientFor(name: string, signal?: AbortSignal): Promise<Client>;
  /** Releases the clients made (keep-alive connections). */
  close(): void;
}

/** upstream defaultExpirationSeconds of the dynamic client builder. */
export const CONTROLLER_TOKEN_EXPIRATION_SECONDS = 3600;
/** upstream defaultLeewayPercent: renew with this share of the lifetime left. */
export const CONTROLLER_TOKEN_LEEWAY_PERCENT = 20;

const TOKEN_REQUESTS = gvr<TokenRequest>('', 'v1', 'serviceaccounts');

/** How a ServiceAccountTokenSource gets its tokens. */
export interface ServiceAccountTokenSourceOptions {
  /** The client that creates the account and requests tokens (the manager's identity). */
  client: Client;
  namespace: string;
  name: string;
  expirationSeconds?: number;
  leewayPercent?: number;
  clock?: Clock;
  log?: Logger;
}

/** Tokens of one service account, created on first use and renewed before expiry. */
export class ServiceAccountTokenSource implements TokenSource {
  private current: { token: string; refreshAt: number; expiresAt: number } | undefined;
  private inflight: Promise<string> | undefined;
  private readonly clock: Clock;
  private readonly log: Logger;

  /** A source for `namespace/name`; nothing is requested until `token`. */
  constructor(private readonly opts: ServiceAccountTokenSourceOptions) {
    this.clock = opts.clock ?? realClock;
    this.log = opts.log ?? noopLogger;
  }

  /** The cached token while fresh, else a new one (an old still-valid one if renewal fails). */
  async token(signal?: AbortSignal): Promise<string> {
    const now = this.clock.now();
    const cur = this.current;
    if (cur !== undefined && now < cur.refreshAt) return cur.token;
    this.inflight ??= this.fetch(signal).finally(() => {
      this.inflight = undefined;
    });
    try {
      return await this.inflight;
    } catch (err) {
      if (cur !== undefined && this.clock.now() < cur.expiresAt) {
        this.log.error('renewing service account token failed; using the current one', {
          serviceAccount: `${this.opts.namespace}/${this.opts.name}`,
          error: errorText(err),
        });
        return cur.token;
      }
      throw err;
    }
  }

  /** When the current token is renewed (ms since the epoch; undefined before the first). */
  refreshAt(): number | undefined {
    return this.current?.refreshAt;
  }

  private async fetch(signal?: AbortSignal): Promise<string> {
    const { namespace, name } = this.opts;
    await ensureServiceAccount(this.opts.client, namespace, name, signal);
    const requested = this.opts.expirationSeconds ?? CONTROLLER_TOKEN_EXPIRATION_SECONDS;
    const issuedAt = this.clock.now();
    const tr = await this.opts.client.resource(TOKEN_REQUESTS).create(
      namespace,
      {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        metadata: { name, namespace },
        spec: { audiences: [], expirationSeconds: requested },
      },
      { subresource: 'token', ...(signal !== undefined ? { signal } : {}) },
    );
    const token = tr.status?.token;
    if (token === undefined || token === '') throw new Error(`no token issued for ${namespace}/${name}`);
    // The server may shorten the lifetime; trust what it says the expiry is.
    const stated = Date.parse(tr.status?.expirationTimestamp ?? '');
    const lifetimeMs = Number.isNaN(stated)
      ? requested * 1000
      : Math.max(0, Math.min(requested * 1000, stated - Date.now()));
    const leeway = (this.opts.leewayPercent ?? CONTROLLER_TOKEN_LEEWAY_PERCENT) / 100;
    this.current = {
      token,
      refreshAt: issuedAt + lifetimeMs * (1 - leeway),
      expiresAt: issuedAt + lifetimeMs,
    };
    return token;
  }
}

/** Gets the service account, creating it when missing (upstream's getOrCreateServiceAccount). */
export async function ensureServiceAccount(
  client: Client,
  namespace: string,
  name: string,
  signal?: AbortSignal,
): Promise<ServiceAccount> {
  const sas = client.resource(SERVICEACCOUNTS);
  const opts = signal !== undefined ? { signal } : {};
  try {
    return await sas.get(namespace, name, opts);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  try {
    return await sas.create(
      namespace,
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } },
      opts,
    );
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
    return sas.get(namespace, name, opts);
  }
}

/** How a ServiceAccountClientBuilder makes clients. */
export interface ServiceAccountClientBuilderOptions {
  /** The manager's client: creates the accounts and requests their tokens. */
  client: Client;
  /** Where the API server is: server URL, CA, TLS name, qps/burst, user agent. */
  config: RestConfig;
  /** The accounts' namespace (default kube-system). */
  namespace?: string;
  restOptions?: RestClientOptions;
  expirationSeconds?: number;
  clock?: Clock;
  log?: Logger;
}

/** One RestClient per controller, authenticated by its service account's token. */
export class ServiceAccountClientBuilder implements ControllerClientBuilder {
  private readonly made = new Map<string, RestClient>();

  /** A builder; accounts and tokens are made on `clientFor`. */
  constructor(private readonly opts: ServiceAccountClientBuilderOptions) {}

  /**
   * The controller's client, once its first token is in hand (so its first request is not
   * refused). Each client has its own rate limiter, as each upstream controller does.
   */
  async clientFor(name: string, signal?: AbortSignal): Promise<Client> {
    const existing = this.made.get(name);
    if (existing !== undefined) return existing;
    const source = new ServiceAccountTokenSource({
      client: this.opts.client,
      namespace: this.opts.namespace ?? 'kube-system',
      name,
      ...(this.opts.expirationSeconds !== undefined
        ? { expirationSeconds: this.opts.expirationSeconds }
        : {}),
      ...(this.opts.clock !== undefined ? { clock: this.opts.clock } : {}),
      ...(this.opts.log !== undefined ? { log: this.opts.log } : {}),
    });
    await source.token(signal);
    const again = this.made.get(name);
    if (again !== undefined) return again;
    const c = this.opts.config;
    // Only where the server is and how to trust it: the manager's own credentials stay out.
    const config: RestConfig = {
      server: c.server,
      ...(c.caData !== undefined ? { caData: c.caData } : {}),
      ...(c.insecureSkipTLSVerify !== undefined ? { insecureSkipTLSVerify: c.insecureSkipTLSVerify } : {}),
      ...(c.tlsServerName !== undefined ? { tlsServerName: c.tlsServerName } : {}),
      ...(c.qps !== undefined ? { qps: c.qps } : {}),
      ...(c.burst !== undefined ? { burst: c.burst } : {}),
      userAgent: `${c.userAgent ?? 'kube-controller-manager/v1.32.0 (kts)'}/${name}`,
    };
    const client = new RestClient(config, { ...this.opts.restOptions, tokenSource: source });
    this.made.set(name, client);
    return client;
  }

  /** Closes every client made. */
  close(): void {
    for (const c of this.made.values()) c.close();
    this.made.clear();
  }
}
