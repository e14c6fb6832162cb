// Where the client connects and how it authenticates: a RestConfig, loaded from a
// kubeconfig file (clientcmd's current-context → cluster + user) or from the in-cluster
// service-account mount (rest.InClusterConfig). File paths inside a kubeconfig are resolved
// against the kubeconfig's folder, as clientcmd does, so a kubeconfig and its certificates
// can be moved together. A token file is re-read by the REST client (see rest-client.ts)
// because projected service-account tokens rotate.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { parse } from 'yaml';

/** Everything the REST client needs to reach and authenticate to an API server. */
export interface RestConfig {
  /** `https://host:port` (a path prefix is kept). */
  server: string;
  /** PEM of the CA(s) that sign the server certificate; the system roots when absent. */
  caData?: string;
  /** PEM client certificate and key (x509 authentication). */
  certData?: string;
  keyData?: string;
  /** A bearer token. */
  token?: string;
  /** A file holding the bearer token, re-read periodically (wins over `token` when set). */
  tokenFile?: string;
  /** Skip server certificate verification (kubeconfig `insecure-skip-tls-verify`). */
  insecureSkipTLSVerify?: boolean;
  /** SNI / verification name when it differs from the host (kubeconfig `tls-server-name`). */
  tlsServerName?: string;
  /** The context's default namespace ('' when unset). */
  namespace?: string;
  /** Client-side rate limit (default 50 qps, burst 100). */
  qps?: number;
  burst?: number;
  /** User-Agent header (default `kts/<version>`). */
  userAgent?: string;
}

/** Options of loadKubeconfig. */
export interface KubeconfigLoadOptions {
  /** Use this context instead of `current-context`. */
  context?: string;
}

/** Service-account files of the in-cluster config. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Why a kubeconfig could not be turned into a RestConfig (clientcmd's wording where it has one). */
export class KubeconfigError extends Error {
  /** A kubeconfig problem with a message. */
  constructor(message: string) {
    super(message);
    this.name = 'KubeconfigError';
  }
}

/** The kubeconfig path kubectl would use: the first entry of $KUBECONFIG, else ~/.kube/config. */
export function defaultKubeconfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const list = (env.KUBECONFIG ?? '').split(delimiter).filter((p) => p !== '');
  return list[0] ?? join(env.HOME ?? homedir(), '.kube', 'config');
}

/** Reads and resolves a kubeconfig file (default: defaultKubeconfigPath()). */
export function loadKubeconfig(path = defaultKubeconfigPath(), opts: KubeconfigLoadOptions = {}): RestConfig {
  const text = readFileSync(path, 'utf8');
  return parseKubeconfig(text, dirname(resolve(path)), opts);
}

/** Resolves kubeconfig YAML; relative file paths are taken against `baseDir`. */
export function parseKubeconfig(text: string, baseDir: string, opts: KubeconfigLoadOptions = {}): RestConfig {
  const doc = asRecord(parse(text), 'kubeconfig');
  const contextName = opts.context ?? str(doc['current-context']);
  if (contextName === undefined || contextName === '') {
    throw new KubeconfigError('invalid configuration: no configuration has been provided');
  }
  const context = named(doc.contexts, 'context', contextName);
  if (context === undefined)
    throw new KubeconfigError(`context was not found for specified context: ${contextName}`);
  const clusterName = str(context.cluster) ?? '';
  const cluster = named(doc.clusters, 'cluster', clusterName);
  if (cluster === undefined) {
    throw new KubeconfigError(`cluster "${clusterName}" not found in kubeconfig (context "${contextName}")`);
  }
  const userName = str(context.user) ?? '';
  const user = named(doc.users, 'user', userName) ?? {};

  const server = str(cluster.server);
  if (server === undefined || server === '') {
    throw new KubeconfigError(`invalid configuration: no server found for cluster "${clusterName}"`);
  }
  const file = (p: string): string => (isAbsolute(p) ? p : join(baseDir, p));
  const dataOrFile = (
    dataKey: string,
    fileKey: string,
    from: Record<string, unknown>,
  ): string | undefined => {
    const data = str(from[dataKey]);
    if (data !== undefined && data !== '') return Buffer.from(data, 'base64').toString('utf8');
    const path = str(from[fileKey]);
    if (path !== undefined && path !== '') return readFileSync(file(path), 'utf8');
    return undefined;
  };

  const cfg: RestConfig = { server: server.replace(/\/+$/, ''), namespace: str(context.namespace) ?? '' };
  const ca = dataOrFile('certificate-authority-data', 'certificate-authority', cluster);
  if (ca !== undefined) cfg.caData = ca;
  if (cluster['insecure-skip-tls-verify'] === true) cfg.insecureSkipTLSVerify = true;
  const sni = str(cluster['tls-server-name']);
  if (sni !== undefined && sni !== '') cfg.tlsServerName = sni;
  const cert = dataOrFile('client-certificate-data', 'client-certificate', user);
  const key = dataOrFile('client-key-data', 'client-key', user);
  if (cert !== undefined) cfg.certData = cert;
  if (key !== undefined) cfg.keyData = key;
  const token = str(user.token);
  if (token !== undefined && token !== '') cfg.token = token;
  const tokenFile = str(user.tokenFile ?? user['token-file']);
  if (tokenFile !== undefined && tokenFile !== '') cfg.tokenFile = file(tokenFile);
  if (user.exec !== undefined || user['auth-provider'] !== undefined) {
    throw new KubeconfigError(`user "${userName}": exec and auth-provider credentials are not supported`);
  }
  return cfg;
}

/** Options of inClusterConfig (overridable for tests). */
export interface InClusterOptions {
  env?: NodeJS.ProcessEnv;
  /** Folder holding token, ca.crt and namespace (default SERVICE_ACCOUNT_DIR). */
  serviceAccountDir?: string;
}

/** The config of a pod talking to its own cluster (rest.InClusterConfig). */
export function inClusterConfig(opts: InClusterOptions = {}): RestConfig {
  const env = opts.env ?? process.env;
  const dir = opts.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const host = env.KUBERNETES_SERVICE_HOST ?? '';
  const port = env.KUBERNETES_SERVICE_PORT ?? '';
  if (host === '' || port === '') {
    throw new KubeconfigError(
      'unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined',
    );
  }
  const tokenFile = join(dir, 'token');
  // Read once now so a missing mount fails at startup, as upstream does.
  readFileSync(tokenFile, 'utf8');
  const hostPort = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const cfg: RestConfig = { server: `https://${hostPort}`, tokenFile };
  try {
    cfg.caData = readFileSync(join(dir, 'ca.crt'), 'utf8');
  } catch {
    // upstream logs and continues with the system roots
  }
  try {
    cfg.namespace = readFileSync(join(dir, 'namespace'), 'utf8').trim();
  } catch {
    cfg.namespace = '';
  }
  return cfg;
}

function asRecord(v: unknown, what: string): Record<string, unknown> {
  if (v === null || v === undefined) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new KubeconfigError(`invalid ${what}: not a mapping`);
  return v as Record<string, unknown>;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

// Finds `{name, <field>: {...}}` in a kubeconfig list by name.
function named(list: unknown, field: string, name: string): Record<string, unknown> | undefined {
  if (!Array.isArray(list)) return undefined;
  for (const e of list) {
    const entry = asRecord(e, `${field} entry`);
    if (entry.name === name) return asRecord(entry[field], field);
  }
  return undefined;
}
