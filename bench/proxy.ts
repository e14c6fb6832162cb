// kube-proxy (iptables mode) benchmark: 1,000 ClusterIP services × 10 endpoints. Measures
// one full sync (generate every chain, iptables-save to find stale chains, one
// iptables-restore --noflush) and one incremental sync after one service's endpoints change
// (median of several), inside a throwaway network namespace created and deleted here, so
// the host's own tables are never touched. Both iptables backends are measured when
// present; the JSON line reports the host's default backend (what `kts proxy` uses).
// Prints a table, then (last line) {"fullSyncMs":N,"incrementalSyncMs":N}.
// Usage: node --import tsx bench/proxy.ts [--services N] [--endpoints N] [--backend nft|legacy]
// (--backend picks the backend the JSON line reports; default the host's).

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { detectBackend, ExecIptables, type IptablesBackend } from '../src/proxy/iptables.js';
import { Proxier, type SyncResult } from '../src/proxy/proxier.js';
import { makeEndpointSlice, makeService } from '../src/proxy/testing.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : Number.NaN;
  return Number.isFinite(v) && v > 0 ? v : dflt;
}

const SERVICES = arg('--services', 1000);
const ENDPOINTS = arg('--endpoints', 10);
const INCREMENTAL_RUNS = 7;

function ip(base: number, n: number): string {
  return `10.${base}.${(n >> 8) & 255}.${n & 255}`;
}

function endpointsOf(s: number, generation: number): string[] {
  const out: string[] = [];
  for (let e = 0; e < ENDPOINTS; e++) out.push(ip(42, (s * ENDPOINTS + e + generation * 7) % 65000 || 1));
  return out;
}

interface Row {
  backend: IptablesBackend;
  full: SyncResult;
  incremental: SyncResult;
  rules: number;
}

async function measure(backend: IptablesBackend): Promise<Row> {
  const ns = `kts-proxy-bench-${randomBytes(4).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    const ipt = new ExecIptables({ backend, netns: ns });
    const proxier = new Proxier({ iptables: ipt, nodeName: 'bench-node', clusterCIDR: '10.42.0.0/16' });
    for (let s = 0; s < SERVICES; s++) {
      proxier.onServiceUpsert(makeService('bench', `svc-${s}`, { clusterIP: ip(43, s + 1) }));
      proxier.onEndpointSliceUpsert(makeEndpointSlice('bench', `svc-${s}`, endpointsOf(s, 0)));
    }
    const full = await proxier.syncNow();
    if (full === undefined) throw new Error('full sync failed');
    const incs: SyncResult[] = [];
    for (let run = 1; run <= INCREMENTAL_RUNS; run++) {
      const s = (run * 37) % SERVICES;
      const t0 = performance.now();
      proxier.onEndpointSliceUpsert(makeEndpointSlice('bench', `svc-${s}`, endpointsOf(s, run)));
      const r = await proxier.syncNow();
      if (r === undefined) throw new Error('incremental sync failed');
      // Count the event handling too: what a user waits for after an EndpointSlice update.
      incs.push({ ...r, totalMs: performance.now() - t0 });
    }
    incs.sort((a, b) => a.totalMs - b.totalMs);
    const incremental = incs[Math.floor(incs.length / 2)] as SyncResult;
    const nat = await ipt.save('nat');
    const rules = nat.split('\n').filter((l) => l.startsWith('-A ')).length;
    return { backend, full, incremental, rules };
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
  }
}

function hasBinary(name: string): boolean {
  try {
    execFileSync(name, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const hostBackend = await detectBackend();
  if (hostBackend === undefined) throw new Error('iptables is not installed');
  const backends = (['nft', 'legacy'] as const).filter((b) => hasBinary(`iptables-${b}-restore`));
  const rows: Row[] = [];
  for (const b of backends) rows.push(await measure(b));
  const f = (n: number): string => n.toFixed(1).padStart(9);
  process.stdout.write(
    `kts proxy: ${SERVICES} services × ${ENDPOINTS} endpoints (host iptables backend: ${hostBackend})\n`,
  );
  process.stdout.write(
    'backend  sync         generate     apply     total  chains written  deleted  payload KiB  nat rules\n',
  );
  for (const r of rows) {
    for (const [label, s] of [
      ['full', r.full],
      ['incremental', r.incremental],
    ] as const) {
      process.stdout.write(
        `${r.backend.padEnd(8)} ${label.padEnd(11)} ${f(s.generateMs)} ${f(s.applyMs)} ${f(s.totalMs)} ${String(s.rewrittenChains).padStart(15)} ${String(s.deletedChains).padStart(8)} ${(s.payloadBytes / 1024).toFixed(1).padStart(12)} ${String(r.rules).padStart(10)}\n`,
      );
    }
  }
  const bi = process.argv.indexOf('--backend');
  const wanted = bi >= 0 ? process.argv[bi + 1] : hostBackend;
  const chosen = rows.find((r) => r.backend === wanted) ?? rows[0];
  if (chosen === undefined) throw new Error('no iptables backend to measure');
  process.stdout.write(
    `${JSON.stringify({ fullSyncMs: Math.round(chosen.full.totalMs), incrementalSyncMs: Math.round(chosen.incremental.totalMs) })}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/proxy: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
