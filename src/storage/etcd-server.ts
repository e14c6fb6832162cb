// Starts a throw-away single-member etcd on loopback for tests and benchmarks: free ports,
// a fresh data dir, fsync left on (the real durability cost is what we want to measure).
// The caller owns the returned handle; `stop()` ends exactly the process it started and
// removes its data dir.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where the etcd binary is expected (Debian package `etcd-server`). */
export const DEFAULT_ETCD_BINARY = '/usr/bin/etcd';

/** A running etcd started by `startEtcd`. */
export interface EtcdProcess {
  /** `etcd://127.0.0.1:PORT`, ready for `openStorage`. */
  endpoint: string;
  /** `http://127.0.0.1:PORT`. */
  clientUrl: string;
  pid: number;
  dataDir: string;
  /** Terminates the process (SIGTERM, then SIGKILL after 5 s) and removes the data dir. */
  stop(): Promise<void>;
}

/** Options of `startEtcd`. */
export interface StartEtcdOptions {
  binary?: string;
  /** Give up if etcd is not healthy within this many ms. */
  timeoutMs?: number;
}

/** Starts etcd on free loopback ports and waits until it answers /health. */
export async function startEtcd(opts: StartEtcdOptions = {}): Promise<EtcdProcess> {
  const [clientPort, peerPort] = await freePorts(2);
  const dataDir = mkdtempSync(join(tmpdir(), 'kts-etcd-'));
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const child = spawn(
    opts.binary ?? DEFAULT_ETCD_BINARY,
    [
      '--name=kts-test',
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${clientUrl}`,
      `--advertise-client-urls=${clientUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=kts-test=${peerUrl}`,
      '--initial-cluster-state=new',
      '--log-level=error',
      '--logger=zap',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const stop = async (): Promise<void> => {
    await terminate(child, exited);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitHealthy(clientUrl, opts.timeoutMs ?? 20_000, exited, spawnError, () => stderr);
  } catch (err) {
    await stop();
    throw err;
  }
  return { endpoint: `etcd://127.0.0.1:${clientPort}`, clientUrl, pid: child.pid!, dataDir, stop };
}

async function waitHealthy(
  url: string,
  timeoutMs: number,
  exited: Promise<number | null>,
  spawnError: Promise<Error>,
  stderr: () => string,
): Promise<void> {
  let dead: string | undefined;
  exited.then((code) => {
    dead = `etcd exited with code ${code}: ${stderr()}`;
  });
  spawnError.then((err) => {
    dead = `cannot start etcd: ${err.message}`;
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (dead) throw new Error(dead);
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
      const body = (await res.json()) as { health?: unknown };
      if (res.ok && String(body.health) === 'true') return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`etcd not healthy after ${timeoutMs} ms: ${stderr()}`);
}

async function terminate(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** Ports the kernel reports free right now (a tiny race with other processes remains). */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<import('node:net').Server>((resolve, reject) => {
          const s = createServer();
          s.once('error', reject);
          s.listen(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => {
    const addr = s.address();
    if (addr === null || typeof addr === 'string') throw new Error('no port');
    return addr.port;
  });
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}
