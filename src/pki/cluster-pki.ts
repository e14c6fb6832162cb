// The cluster's PKI in a data dir: created on first start, reused afterwards, and the
// serving certificate re-issued when it nears expiry or lacks a requested SAN. Files are
// written 0600 (keys) into DIR/tls/ so a restart keeps client credentials valid.
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createKeyPair, type KeyPair } from './x509.js';

/** Paths and PEM contents of the cluster PKI. */
export interface ClusterPKI {
  dir: string;
  ca: KeyPair;
  serving: KeyPair;
  admin: KeyPair;
  /** Service-account token signing key (RSA, for RS256 JWTs as upstream issues them). */
  serviceAccountKeyPem: string;
  serviceAccountPubPem: string;
  caFile: string;
  servingCertFile: string;
  servingKeyFile: string;
}

/** Options for creating or refreshing the PKI. */
export interface PKIOptions {
  /** Extra subjectAltNames for the serving certificate (host names and IPs). */
  sans?: string[];
  /** Renew leaf certificates with less than this much validity left (default 90 days). */
  renewBeforeMs?: number;
}

const DAY = 86400_000;
const CA_VALIDITY = 10 * 365 * DAY;
const LEAF_VALIDITY = 365 * DAY;

/** The serving certificate's default SANs: loopback, the `kubernetes` service names and IP. */
export const DEFAULT_SANS = [
  'localhost',
  '127.0.0.1',
  '::1',
  'kubernetes',
  'kubernetes.default',
  'kubernetes.default.svc',
  'kubernetes.default.svc.cluster.local',
  '10.43.0.1',
];

function writeSecret(path: string, content: string): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  renameSync(tmp, path);
}

function readPair(dir: string, name: string): KeyPair | undefined {
  const c = join(dir, `${name}.crt`);
  const k = join(dir, `${name}.key`);
  if (!existsSync(c) || !existsSync(k)) return undefined;
  return { certPem: readFileSync(c, 'utf8'), keyPem: readFileSync(k, 'utf8') };
}

function writePair(dir: string, name: string, kp: KeyPair): void {
  writeSecret(join(dir, `${name}.key`), kp.keyPem);
  writeSecret(join(dir, `${name}.crt`), kp.certPem);
}

function needsRenewal(kp: KeyPair, renewBeforeMs: number, sans?: string[]): boolean {
  const cert = new X509Certificate(kp.certPem);
  if (new Date(cert.validTo).getTime() - Date.now() < renewBeforeMs) return true;
  if (sans) {
    const have = cert.subjectAltName ?? '';
    for (const s of sans) {
      const ok =
        s.includes(':') || /^\d+\.\d+\.\d+\.\d+$/.test(s)
          ? cert.checkIP(s) !== undefined
          : cert.checkHost(s) !== undefined;
      if (!ok && !have.includes(s)) return true;
    }
  }
  return false;
}

/** Loads the PKI under `dataDir/tls`, creating or renewing what is missing or expiring. */
export function ensureClusterPKI(dataDir: string, opts: PKIOptions = {}): ClusterPKI {
  const dir = join(dataDir, 'tls');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const renewBefore = opts.renewBeforeMs ?? 90 * DAY;
  const sans = [...new Set([...DEFAULT_SANS, ...(opts.sans ?? [])])];

  let ca = readPair(dir, 'ca');
  if (!ca) {
    ca = createKeyPair({
      subject: { commonName: `kts-ca@${Math.floor(Date.now() / 1000)}` },
      notAfter: new Date(Date.now() + CA_VALIDITY),
      isCA: true,
    });
    writePair(dir, 'ca', ca);
  }
  let serving = readPair(dir, 'serving');
  if (!serving || needsRenewal(serving, renewBefore, sans)) {
    serving = createKeyPair(
      {
        subject: { commonName: 'kube-apiserver' },
        notAfter: new Date(Date.now() + LEAF_VALIDITY),
        usages: ['serverAuth'],
        sans,
      },
      ca,
    );
    writePair(dir, 'serving', serving);
  }
  let admin = readPair(dir, 'admin');
  if (!admin || needsRenewal(admin, renewBefore)) {
    admin = createKeyPair(
      {
        subject: { commonName: 'system:admin', organizations: ['system:masters'] },
        notAfter: new Date(Date.now() + LEAF_VALIDITY),
        usages: ['clientAuth'],
      },
      ca,
    );
    writePair(dir, 'admin', admin);
  }
  const saKeyFile = join(dir, 'service-account.key');
  const saPubFile = join(dir, 'service-account.pub');
  if (!existsSync(saKeyFile) || !existsSync(saPubFile)) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeSecret(saPubFile, publicKey.export({ type: 'spki', format: 'pem' }).toString());
    writeSecret(saKeyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  }
  return {
    dir,
    ca,
    serving,
    admin,
    serviceAccountKeyPem: readFileSync(saKeyFile, 'utf8'),
    serviceAccountPubPem: readFileSync(saPubFile, 'utf8'),
    caFile: join(dir, 'ca.crt'),
    servingCertFile: join(dir, 'serving.crt'),
    servingKeyFile: join(dir, 'serving.key'),
  };
}
