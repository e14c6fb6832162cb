// The registry credentials of a pod's imagePullSecrets (upstream pkg/credentialprovider's
// docker keyring): `kubernetes.io/dockerconfigjson` (`{"auths": {KEY: ENTRY}}`) and legacy
// `kubernetes.io/dockercfg` (`{KEY: ENTRY}`) secrets. A KEY names a registry, optionally
// with a scheme, a path prefix and `*` wildcards per host label (`https://index.docker.io/v1/`,
// `registry.example.com:5000/team`, `*.example.com`); an ENTRY carries username/password
// or `auth` (base64 `user:pass`). Looking up an image returns every matching entry, the
// most specific key first: the kubelet tries them in that order until a pull succeeds.

import type { Secret } from '../api/generated/types/core-v1.js';
import type { AuthConfig } from './runtime/runtime.js';

/** Docker Hub's registry as credential keys name it. */
const DOCKER_HUB = 'index.docker.io';

interface KeyringEntry {
  /** `host[:port][/path]` with `*` labels allowed in the host. */
  key: string;
  auth: AuthConfig;
}

/** Credentials for images, built from pull secrets. */
export class DockerKeyring {
  private readonly entries: KeyringEntry[] = [];

  /** Adds the entries of one docker config (`{KEY: ENTRY}`). */
  add(config: Record<string, unknown>): void {
    for (const [loc, raw] of Object.entries(config)) {
      if (raw === null || typeof raw !== 'object') continue;
      const e = raw as Record<string, unknown>;
      const text = (k: string): string => (typeof e[k] === 'string' ? (e[k] as string) : '');
      let username = text('username');
      let password = text('password');
      const auth = text('auth');
      if (username === '' && password === '' && auth !== '') {
        const plain = Buffer.from(auth, 'base64').toString('utf8');
        const i = plain.indexOf(':');
        if (i > 0) {
          username = plain.slice(0, i);
          password = plain.slice(i + 1);
        }
      }
      const key = normalizeKey(loc);
      if (key === undefined) continue;
      // No serverAddress: containerd would skip credentials whose address is not the URL of
      // the host it talks to (Docker Hub's key never is), and upstream's keyring sets none.
      const creds: AuthConfig = {};
      if (username !== '') creds.username = username;
      if (password !== '') creds.password = password;
      if (text('identitytoken') !== '') creds.identityToken = text('identitytoken');
      if (text('registrytoken') !== '') creds.registryToken = text('registrytoken');
      this.entries.push({ key, auth: creds });
    }
    // Most specific first, as upstream sorts its index (longest key first).
    this.entries.sort((a, b) => b.key.length - a.key.length);
  }

  /** The credentials to try for `image` (empty: pull anonymously). */
  lookup(image: string): AuthConfig[] {
    const repo = repositoryOf(image);
    return this.entries.filter((e) => keyMatches(e.key, repo)).map((e) => e.auth);
  }
}

/** `https://host:port/v1/path/` → `host:port/path`; undefined when it does not parse. */
function normalizeKey(loc: string): string | undefined {
  const withScheme = /^https?:\/\//.test(loc) ? loc : `https://${loc}`;
  let u: URL;
  try {
    // `*` is not a valid host character for URL: parse with a placeholder label.
    u = new URL(withScheme.replace(/\*/g, 'kts-wildcard'));
  } catch {
    return undefined;
  }
  let path = u.pathname;
  if (path.startsWith('/v1/') || path.startsWith('/v2/')) path = path.slice(3);
  path = path.replace(/\/+$/, '');
  return `${u.host.replace(/kts-wildcard/g, '*')}${path}`;
}

/** The repository of an image reference: no tag or digest, registry host first. */
export function repositoryOf(image: string): string {
  let repo = image;
  const at = repo.indexOf('@');
  if (at >= 0) repo = repo.slice(0, at);
  const slash = repo.lastIndexOf('/');
  const colon = repo.lastIndexOf(':');
  if (colon > slash) repo = repo.slice(0, colon);
  // No registry host (no dot, port or `localhost` in the first component): Docker Hub.
  const first = repo.split('/')[0] ?? '';
  if (!repo.includes('/') || (!first.includes('.') && !first.includes(':') && first !== 'localhost')) {
    repo = `${DOCKER_HUB}/${repo.includes('/') ? repo : `library/${repo}`}`;
  }
  return repo;
}

/** Upstream URLsMatch: host labels glob-match (same count), ports equal, path is a prefix. */
function keyMatches(key: string, repo: string): boolean {
  const split = (s: string): { host: string; port: string; path: string } => {
    const slash = s.indexOf('/');
    const hostPort = slash < 0 ? s : s.slice(0, slash);
    const path = slash < 0 ? '' : s.slice(slash);
    const colon = hostPort.lastIndexOf(':');
    return colon < 0
      ? { host: hostPort, port: '', path }
      : { host: hostPort.slice(0, colon), port: hostPort.slice(colon + 1), path };
  };
  const k = split(key);
  const r = split(repo);
  const hubNames = ['docker.io', DOCKER_HUB, 'registry-1.docker.io'];
  const hostOf = (h: string): string => (hubNames.includes(h) ? DOCKER_HUB : h);
  const kl = hostOf(k.host).split('.');
  const rl = hostOf(r.host).split('.');
  if (kl.length !== rl.length || k.port !== r.port) return false;
  for (let i = 0; i < kl.length; i++) {
    const pattern = kl[i] ?? '';
    const label = rl[i] ?? '';
    const re = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
    if (!re.test(label)) return false;
  }
  return k.path === '' || r.path === k.path || r.path.startsWith(`${k.path}/`);
}

/** The docker config a pull secret holds, or undefined for other secret types. */
export function dockerConfigOf(secret: Secret): Record<string, unknown> | undefined {
  const data = secret.data ?? {};
  const decode = (v: string | undefined): unknown => {
    if (v === undefined) return undefined;
    try {
      return JSON.parse(Buffer.from(v, 'base64').toString('utf8'));
    } catch {
      return undefined;
    }
  };
  const obj = (v: unknown): Record<string, unknown> | undefined =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  if (secret.type === 'kubernetes.io/dockerconfigjson')
    return obj(obj(decode(data['.dockerconfigjson']))?.auths);
  if (secret.type === 'kubernetes.io/dockercfg') return obj(decode(data['.dockercfg']));
  return undefined;
}

/** A keyring of the given pull secrets (other secret types are ignored, as upstream does). */
export function keyringFromSecrets(secrets: Secret[]): DockerKeyring {
  const k = new DockerKeyring();
  for (const s of secrets) {
    const config = dockerConfigOf(s);
    if (config !== undefined) k.add(config);
  }
  return k;
}
