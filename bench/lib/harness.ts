// Shared pieces of the end-to-end benchmarks: components under test run in child processes
// (this same bench file re-run in a "role"), so the driver's own work never shares an event
// loop with the component it measures. A role prints one JSON line on stdout once it is up,
// then runs until its stdin closes; the parent stops it by closing stdin (SIGKILL after a
// grace period). Also: the API server role, flags, percentiles and table printing.
import { type ChildProcess, spawn } from 'node:child_process';
import type { RestClient } from '../../src/client/rest-client.js';
import { NAMESPACES, NODES, SERVICEACCOUNTS } from '../../src/client/resources.js';

/** A numeric `--name N` flag of this process, or the default. */
export function numberFlag(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i > 0 ? Number(process.argv[i + 1]) : Number.NaN;
  return Number.isFinite(v) ? v : dflt;
}

/** The value after `--role` when this process was started in that role. */
export function roleArg(role: string): string | undefined {
  const i = process.argv.indexOf(`--${role}`);
  return i > 0 ? (process.argv[i + 1] ?? '') : undefined;
}

/** Resolves when stdin closes: the parent's "stop" signal to a child role. */
export function untilStdinEnds(): Promise<void> {
  return new Promise((resolve) => {
    process.stdin.on('data', () => {});
    process.stdin.on('end', resolve);
    process.stdin.on('close', resolve);
  });
}

/** Writes a role's one "I am up" line. */
export function announce(v: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(v)}\n`);
}

/** A started child role and the JSON line it announced. */
export interface Child {
  proc: ChildProcess;
  first: Record<string, unknown>;
}

/**
 * Spawns `script` in a child role and resolves with its first stdout JSON line. Children
 * inherit this process's `--cpu-prof*` flags, so one profiling run covers every component.
 */
export function spawnRole(
  script: string,
  role: string,
  arg: string,
  extraArgs: string[] = [],
): Promise<Child> {
  const prof = process.execArgv.filter((a) => a.startsWith('--cpu-prof'));
  const args = [...prof, '--import', 'tsx', script, `--${role}`, arg, ...extraArgs];
  const proc = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let buf = '';
    let done = false;
    proc.stdout?.on('data', (b: Buffer) => {
      if (done) return;
      buf += b.toString();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      done = true;
      resolve({ proc, first: JSON.parse(buf.slice(0, nl)) as Record<string, unknown> });
    });
    proc.once('exit', (code) => {
      if (!done) reject(new Error(`${role} exited with ${code}`));
    });
  });
}

/** Stops a child role (stdin closed; SIGKILL after `graceMs`) and waits for it to exit. */
export async function stopChild(proc: ChildProcess | undefined, graceMs = 15_000): Promise<void> {
  if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.stdin?.end();
  const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(t);
}

/** The API server role: sqlite in `dataDir`, loopback, announces `{kubeconfig}`. */
export async function serveApi(dataDir: string): Promise<void> {
  const { startApiServer } = await import('../../src/apiserver/server.js');
  const server = await startApiServer({ dataDir, httpsPort: 0, bindAddress: '127.0.0.1' });
  announce({ kubeconfig: server.kubeconfigPath });
  await untilStdinEnds();
  await server.close();
}

/**
 * Creates a namespace and its `default` ServiceAccount, which the ServiceAccount admission
 * plugin requires and the serviceaccount controller would create.
 */
export async function createNamespace(client: RestClient, ns: string): Promise<void> {
  await client.resource(NAMESPACES).create('', { metadata: { name: ns } });
  await client.resource(SERVICEACCOUNTS).create(ns, { metadata: { name: 'default' } });
}

/**
 * Removes the taints TaintNodesByCondition admission puts on new nodes, as the node
 * lifecycle controller would once they report Ready (64 patches in flight).
 */
export async function untaintNodes(client: RestClient, names: readonly string[]): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(64, names.length) }, async () => {
      for (let i = next++; i < names.length; i = next++)
        await client.resource(NODES).patch('', names[i] ?? '', 'merge', { spec: { taints: null } });
    }),
  );
}

/** The q-quantile (0..1) of `values` by nearest rank; NaN when empty. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1] ?? Number.NaN;
}

/** Prints rows (the first is the header) as a space-aligned table on stdout. */
export function printTable(rows: readonly (readonly string[])[]): void {
  const header = rows[0];
  if (header === undefined) return;
  const widths = header.map((_, c) => Math.max(...rows.map((row) => (row[c] ?? '').length)));
  for (const row of rows) {
    const line = row.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
    process.stdout.write(`${line.trimEnd()}\n`);
  }
}

/** Rounds to `digits` decimals. */
export function round(v: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** An AbortSignal that fires on SIGINT/SIGTERM, so a bench still runs its cleanup. */
export function interruptSignal(): AbortSignal {
  const ac = new AbortController();
  process.once('SIGINT', () => ac.abort());
  process.once('SIGTERM', () => ac.abort());
  return ac.signal;
}
