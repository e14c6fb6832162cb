// The kubelet's serving certificate. Issued from the cluster CA when the kubelet runs where
// the CA key is (the single-node `kts server`); otherwise self-signed, as upstream's kubelet
// does without `--tls-cert-file` (the API server does not verify kubelet certificates by
// default, so either works). Kept in `<dataDir>/pki/kubelet.{crt,key}` and re-issued when
// it nears expiry or lacks one of the node's addresses.

import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createKeyPair, type KeyPair } from '../../pki/x509.js';

const DAY = 86_400_000;

function writeSecret(path: string, content: string): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  renameSync(tmp, path);
}

function covers(cert: X509Certificate, san: string): boolean {
  const isIP = san.includes(':') || /^\d+\.\d+\.\d+\.\d+$/.test(san);
  return isIP ? cert.checkIP(san) !== undefined : cert.checkHost(san) !== undefined;
}

/**
 * Loads or creates the kubelet's serving key pair under `dataDir/pki` for `nodeName` and
 * `addresses` (IPs or names); signed by `ca` when given.
 */
export function ensureKubeletServingCert(
  dataDir: string,
  nodeName: string,
  addresses: string[],
  ca?: KeyPair,
): KeyPair {
  const dir = join(dataDir, 'pki');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const certFile = join(dir, 'kubelet.crt');
  const keyFile = join(dir, 'kubelet.key');
  const sans = [...new Set([nodeName, 'localhost', '127.0.0.1', ...addresses.filter((a) => a !== '')])];
  if (existsSync(certFile) && existsSync(keyFile)) {
    const pair = { certPem: readFileSync(certFile, 'utf8'), keyPem: readFileSync(keyFile, 'utf8') };
    const cert = new X509Certificate(pair.certPem);
    const fresh = new Date(cert.validTo).getTime() - Date.now() > 30 * DAY;
    const sameIssuer = ca === undefined || cert.checkIssued(new X509Certificate(ca.certPem));
    if (fresh && sameIssuer && sans.every((s) => covers(cert, s))) return pair;
  }
  const pair = createKeyPair(
    {
      subject: { commonName: `${nodeName}@${Math.floor(Date.now() / 1000)}` },
      notAfter: new Date(Date.now() + 365 * DAY),
      usages: ['serverAuth'],
      sans,
    },
    ca,
  );
  writeSecret(keyFile, pair.keyPem);
  writeSecret(certFile, pair.certPem);
  return pair;
}
