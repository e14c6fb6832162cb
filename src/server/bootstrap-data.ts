// Bootstrap data: the cluster secrets every server on one external datastore must share
// (cluster CA, which also signs client certificates, and the service-account signing key),
// kept in the datastore encrypted with the cluster token, as k3s does. The first server on
// an empty datastore stores what it generated; every later server with the same token
// loads it into its own DATA_DIR/tls before the API server starts, so certificates and
// service-account tokens issued by any server are accepted by all of them. Each server
// still issues its own serving certificate and component identities from the shared CA.
//
// Format: key `/bootstrap/<first 12 hex of sha256(passphrase)>`; value is JSON
// `{v, salt, iv, data}` with AES-256-GCM over the JSON file map, the key derived by
// PBKDF2-SHA256 from the token's passphrase: the part after `K10<ca hash>::` of a full token
// (kts's `<id>.<secret>` join token, see join-token.ts; of k3s's `server:<password>` form, the
// password), or the whole token.
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  pbkdf2Sync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureClusterPKI } from '../pki/cluster-pki.js';
import { caCertHash } from './join-token.js';
import { isStorageError, type Storage } from '../storage/storage.js';

/** The files under DATA_DIR/tls that make up the shared cluster identity. */
export const SHARED_PKI_FILES = ['ca.crt', 'ca.key', 'service-account.key', 'service-account.pub'] as const;

/** Leaf files issued from the CA: removed when the CA changes so they are issued again. */
const LEAF_FILES = ['serving.crt', 'serving.key', 'admin.crt', 'admin.key'] as const;

/** Prefix of every bootstrap key in the datastore. */
export const BOOTSTRAP_PREFIX = '/bootstrap/';

const PBKDF2_ITERATIONS = 100_000;
const FORMAT_VERSION = 1;

/** The token does not open the datastore's bootstrap data (or its CA hash does not match). */
export class BootstrapTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BootstrapTokenError';
  }
}

/** A cluster token's parts. */
export interface ParsedToken {
  /** The secret that keys the bootstrap data. */
  passphrase: string;
  /** Hex SHA-256 of the cluster CA certificate's DER, when the token pins it (caCertHash). */
  caHash?: string;
}

/**
 * Splits a server token: `K10<hash>::<id>.<secret>` (kts), `K10<hash>::<user>:<password>`
 * (k3s) or a bare secret, which is all passphrase.
 */
export function parseServerToken(token: string): ParsedToken {
  const t = token.trim();
  const m = /^K10([0-9a-f]{64})::(.+)$/.exec(t);
  if (m?.[1] === undefined || m[2] === undefined) return { passphrase: t };
  const userPassword = /^[^:.]+:(.+)$/.exec(m[2]);
  return { passphrase: userPassword?.[1] ?? m[2], caHash: m[1] };
}

/** The datastore key of the bootstrap data for a passphrase. */
export function bootstrapKey(passphrase: string): string {
  return `${BOOTSTRAP_PREFIX}${createHash('sha256').update(passphrase).digest('hex').slice(0, 12)}`;
}

function deriveKey(passphrase: string, salt: Buffer): Buffer {
  return pbkdf2Sync(passphrase, salt, PBKDF2_ITERATIONS, 32, 'sha256');
}

/** Encrypts bootstrap data with a passphrase (AES-256-GCM, fresh salt and IV). */
export function encryptBootstrap(passphrase: string, plaintext: Uint8Array): Uint8Array {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', deriveKey(passphrase, salt), iv);
  const data = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  const envelope = {
    v: FORMAT_VERSION,
    salt: salt.toString('base64'),
    iv: iv.toString('base64'),
    data: data.toString('base64'),
  };
  return Buffer.from(JSON.stringify(envelope));
}

/** Decrypts bootstrap data; a wrong passphrase or a damaged value is a BootstrapTokenError. */
export function decryptBootstrap(passphrase: string, stored: Uint8Array): Buffer {
  let env: unknown;
  try {
    env = JSON.parse(Buffer.from(stored).toString('utf8'));
  } catch {
    throw new BootstrapTokenError('bootstrap data in the datastore is not readable');
  }
  const e = env as Record<string, unknown>;
  if (
    typeof env !== 'object' ||
    env === null ||
    e.v !== FORMAT_VERSION ||
    typeof e.salt !== 'string' ||
    typeof e.iv !== 'string' ||
    typeof e.data !== 'string'
  )
    throw new BootstrapTokenError('bootstrap data in the datastore has an unknown format');
  const data = Buffer.from(e.data, 'base64');
  if (data.length < 16) throw new BootstrapTokenError('bootstrap data in the datastore is truncated');
  const decipher = createDecipheriv(
    'aes-256-gcm',
    deriveKey(passphrase, Buffer.from(e.salt, 'base64')),
    Buffer.from(e.iv, 'base64'),
  );
  decipher.setAuthTag(data.subarray(data.length - 16));
  try {
    return Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]);
  } catch {
    throw new BootstrapTokenError('bootstrap data cannot be decrypted with the given token');
  }
}

function tlsDir(dataDir: string): string {
  return join(dataDir, 'tls');
}

/** Reads the shared PKI files of a data dir (creating the PKI first when it is missing). */
export function readSharedFiles(dataDir: string): Record<string, string> {
  ensureClusterPKI(dataDir);
  const out: Record<string, string> = {};
  for (const f of SHARED_PKI_FILES) out[f] = readFileSync(join(tlsDir(dataDir), f), 'utf8');
  return out;
}

/**
 * Installs shared PKI files into a data dir. When the CA differs from the one there, the
 * leaf certificates it signed are removed so ensureClusterPKI issues them again; component
 * identities re-issue themselves because they check their issuer.
 */
export function installSharedFiles(dataDir: string, files: Record<string, string>): boolean {
  const dir = tlsDir(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let changed = false;
  for (const f of SHARED_PKI_FILES) {
    const content = files[f];
    if (typeof content !== 'string' || content === '')
      throw new BootstrapTokenError(`bootstrap data in the datastore lacks ${f}`);
    const path = join(dir, f);
    if (existsSync(path) && readFileSync(path, 'utf8') === content) continue;
    changed = true;
    const tmp = `${path}.tmp`;
    writeFileSync(tmp, content, { mode: 0o600 });
    renameSync(tmp, path);
  }
  if (changed) for (const f of LEAF_FILES) rmSync(join(dir, f), { force: true });
  return changed;
}

function caMatches(caPem: string, want: string): boolean {
  const have = Buffer.from(caCertHash(caPem), 'hex');
  const pinned = Buffer.from(want, 'hex');
  return pinned.length === have.length && timingSafeEqual(have, pinned);
}

/** What reconcileBootstrapData did. */
export type BootstrapOutcome = 'stored' | 'loaded';

/**
 * Makes DATA_DIR/tls hold the cluster's shared PKI: loads it from the datastore when a
 * server stored it already (overwriting local files that differ), otherwise stores this
 * server's (created now if missing). A datastore holding bootstrap data under another
 * token is refused, so a typo never starts a second, disjoint cluster CA on it.
 */
export async function reconcileBootstrapData(
  storage: Storage,
  dataDir: string,
  token: string,
): Promise<BootstrapOutcome> {
  const parsed = parseServerToken(token);
  if (parsed.passphrase === '') throw new BootstrapTokenError('the server token is empty');
  const key = bootstrapKey(parsed.passphrase);
  const load = (value: Uint8Array): BootstrapOutcome => {
    const files = parseFiles(decryptBootstrap(parsed.passphrase, value));
    const ca = files['ca.crt'];
    if (parsed.caHash !== undefined && (ca === undefined || !caMatches(ca, parsed.caHash)))
      throw new BootstrapTokenError(
        'token CA hash does not match the Cluster CA certificate hash in the datastore',
      );
    installSharedFiles(dataDir, files);
    return 'loaded';
  };
  const existing = await storage.get(key);
  if (existing !== undefined) return load(existing.value);
  const others = await storage.list(BOOTSTRAP_PREFIX, { limit: 1 });
  if (others.items.length > 0)
    throw new BootstrapTokenError('bootstrap data already found and encrypted with different token');
  const files = readSharedFiles(dataDir);
  const ca = files['ca.crt'];
  if (parsed.caHash !== undefined && (ca === undefined || !caMatches(ca, parsed.caHash)))
    throw new BootstrapTokenError('token CA hash does not match the Cluster CA certificate hash');
  try {
    await storage.create(key, encryptBootstrap(parsed.passphrase, Buffer.from(JSON.stringify(files))));
    return 'stored';
  } catch (e) {
    // Another server stored its data first: theirs wins, ours is replaced.
    if (!isStorageError(e, 'KeyExists')) throw e;
    const winner = await storage.get(key);
    if (winner === undefined) throw e;
    return load(winner.value);
  }
}

function parseFiles(plain: Buffer): Record<string, string> {
  let v: unknown;
  try {
    v = JSON.parse(plain.toString('utf8'));
  } catch {
    throw new BootstrapTokenError('bootstrap data in the datastore is not readable');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new BootstrapTokenError('bootstrap data in the datastore has an unknown format');
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) if (typeof val === 'string') out[k] = val;
  return out;
}

/** True when an endpoint names a datastore other servers may share (not sqlite or memory). */
export function isExternalDatastore(endpoint: string | undefined): boolean {
  return endpoint !== undefined && !/^(sqlite|memory):\/\//.test(endpoint);
}
