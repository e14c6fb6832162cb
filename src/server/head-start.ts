// Work `kts server` starts before it loads the bulk of its code. Loading the server's
// module graph keeps the one JavaScript thread busy for a few hundred milliseconds; what
// runs elsewhere meanwhile — a private containerd and its image imports (child processes),
// the service-account RSA key (libuv's thread pool) — is then ready, or nearly, when the
// server wants it instead of starting only then. This module therefore imports nothing
// heavy: the node runtime's opener and node:crypto.
import { generateKeyPair } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../client/log.js';
import { type NodeRuntime, openNodeRuntime, type RuntimeKind } from './node-runtime.js';
import { traceStartup } from './startup-trace.js';

/** What was started ahead of the server; hand `runtimeOpening` to startServer. */
export interface HeadStart {
  /** The node's runtime, opening (undefined when the server runs no kubelet). */
  runtimeOpening?: Promise<NodeRuntime>;
  /** Settles once DATA_DIR/tls holds a service-account key (never rejects). */
  serviceAccountKey: Promise<void>;
}

/**
 * Makes the service-account signing key (RSA 2048, as cluster-pki.ts would) in the thread
 * pool when DATA_DIR/tls has none; RSA key generation takes 50–600 ms of CPU, which
 * ensureClusterPKI would otherwise spend on the main thread. A failure is left for
 * ensureClusterPKI to meet again (it then generates the key itself).
 */
export function generateServiceAccountKey(dataDir: string): Promise<void> {
  const dir = join(dataDir, 'tls');
  const keyFile = join(dir, 'service-account.key');
  const pubFile = join(dir, 'service-account.pub');
  if (existsSync(keyFile) && existsSync(pubFile)) return Promise.resolve();
  return new Promise<void>((resolve) => {
    generateKeyPair(
      'rsa',
      {
        modulusLength: 2048,
        publicKeyEncoding: { type: 'spki', format: 'pem' },
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      },
      (err, publicKey, privateKey) => {
        try {
          if (err !== null) return;
          // Checked again: another start (or ensureClusterPKI) may have written one meanwhile.
          if (existsSync(keyFile) && existsSync(pubFile)) return;
          mkdirSync(dir, { recursive: true, mode: 0o700 });
          // The public half first: ensureClusterPKI takes the pair only once both exist.
          for (const [file, pem] of [
            [pubFile, publicKey],
            [keyFile, privateKey],
          ] as const) {
            writeFileSync(`${file}.tmp`, pem, { mode: 0o600 });
            renameSync(`${file}.tmp`, file);
          }
          traceStartup('service-account key generated');
        } catch {
          // ensureClusterPKI generates it.
        } finally {
          resolve();
        }
      },
    );
  });
}

/** Starts the server's slow, off-thread preparations: the node's runtime and the SA key. */
export function startHeadStart(opts: {
  dataDir: string;
  runtime: RuntimeKind;
  kubelet: boolean;
  log: Logger;
}): HeadStart {
  traceStartup('head start');
  const runtimeOpening = opts.kubelet ? openNodeRuntime(opts.runtime, opts.dataDir, opts.log) : undefined;
  // Its failure is reported where the kubelet awaits it.
  runtimeOpening?.catch(() => {});
  return {
    ...(runtimeOpening !== undefined ? { runtimeOpening } : {}),
    serviceAccountKey: generateServiceAccountKey(opts.dataDir),
  };
}
