// What lets several `kts server` processes share one external datastore (k3s's HA with an
// external DB): the cluster token that keys the shared bootstrap data, loading or storing
// that data before the API server reads its PKI, and running the controller manager and the
// scheduler as leader-election candidates that stand by again after losing their Lease
// (upstream's binaries exit then and are restarted by their supervisor; here the server is
// the supervisor). A single server runs the same way: it simply wins every election.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorText, type Logger } from '../client/log.js';
import { openStorage } from '../storage/factory.js';
import { type BootstrapOutcome, parseServerToken, reconcileBootstrapData } from './bootstrap-data.js';
import { caCertHash, generateBootstrapToken } from './join-token.js';

/** Leader-election timing of the in-process controller manager and scheduler. */
export interface LeaderElectionTimings {
  /** How long a Lease holds without renewal (upstream default 15 s). */
  leaseDurationMs?: number;
  /** How long a leader keeps trying to renew before it gives up (upstream default 10 s). */
  renewDeadlineMs?: number;
  /** How often candidates retry and leaders renew (upstream default 2 s). */
  retryPeriodMs?: number;
}

/** Upstream's defaults (kube-controller-manager and kube-scheduler `--leader-elect-*`). */
export const DEFAULT_LEADER_ELECTION = {
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
} as const;

/** Where a server keeps its cluster token (k3s: server/token). */
export function tokenPath(dataDir: string): string {
  return join(dataDir, 'token');
}

/**
 * The cluster token of a server: `--token`, else the one saved in DATA_DIR/token by an
 * earlier start, else undefined (the caller generates one).
 */
export function resolveToken(dataDir: string, flag: string | undefined): string | undefined {
  if (flag !== undefined && flag.trim() !== '') return flag.trim();
  const p = tokenPath(dataDir);
  if (!existsSync(p)) return undefined;
  const saved = readFileSync(p, 'utf8').trim();
  return saved === '' ? undefined : saved;
}

/** What preparing the shared PKI did. */
export interface SharedPKIResult {
  outcome: BootstrapOutcome;
  /** The token other servers join with (also in DATA_DIR/token). */
  token: string;
}

/**
 * Loads (or stores) the shared PKI in the external datastore before the API server starts.
 * Without a token, a new random one is made (only the first server may do that: a later
 * one without the token is refused, because the data is keyed by it). The full token is
 * saved in DATA_DIR/token unless a file is there already.
 */
export async function prepareSharedPKI(
  dataDir: string,
  datastoreEndpoint: string,
  tokenFlag: string | undefined,
): Promise<SharedPKIResult> {
  const given = resolveToken(dataDir, tokenFlag);
  const fresh = generateBootstrapToken();
  const token = given ?? `${fresh.id}.${fresh.secret}`;
  const storage = await openStorage(datastoreEndpoint);
  let outcome: BootstrapOutcome;
  try {
    outcome = await reconcileBootstrapData(storage, dataDir, token);
  } finally {
    await storage.close();
  }
  const caPem = readFileSync(join(dataDir, 'tls', 'ca.crt'), 'utf8');
  // The printable form join-token.ts writes too: K10<CA hash>::<id>.<secret>.
  const full =
    given?.startsWith('K10') === true
      ? given
      : `K10${caCertHash(caPem)}::${parseServerToken(token).passphrase}`;
  const p = tokenPath(dataDir);
  if (!existsSync(p)) {
    writeFileSync(`${p}.tmp`, `${full}\n`, { mode: 0o600 });
    renameSync(`${p}.tmp`, p);
  }
  return { outcome, token: full };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Runs a leader-elected component until `signal` aborts: whenever a term ends (leadership
 * lost, or the component failed) it campaigns again after `retryMs`, so a server whose
 * leader was partitioned away rejoins as a standby instead of staying idle.
 */
export async function runCandidate(
  name: string,
  run: (signal: AbortSignal) => Promise<void>,
  opts: { signal: AbortSignal; retryMs: number; log: Logger },
): Promise<void> {
  while (!opts.signal.aborted) {
    try {
      await run(opts.signal);
    } catch (e) {
      if (!opts.signal.aborted) opts.log.error(`${name} stopped`, { err: errorText(e) });
    }
    if (opts.signal.aborted) break;
    opts.log.info(`${name} lost leadership; campaigning again`, { component: name });
    await sleep(opts.retryMs, opts.signal);
  }
}
