// kube-proxy benchmark: 1,000 ClusterIP services × 10 endpoints. Measures one full sync
// (generate every chain and apply it: one `nft -f` transaction in nftables mode; an
// iptables-save and one iptables-restore --noflush in iptables mode) and one incremental
// sync after one service's endpoints change (median of several), inside a throwaway
// network namespace created and deleted here, so the host's own tables are never touched.
// Every mode present is measured: nftables, and iptables on each backend; the JSON line
// reports the mode `kts proxy` uses by default (nftables where nft works, else iptables on
// the host's backend). Prints a table, then (last line) {"fullSyncMs":N,"incrementalSyncMs":N}.
// Usage: node --import tsx bench/proxy.ts [--services N] [--endpoints N]
//   [--mode nftables|iptables-nft|iptables-legacy] (the row the JSON line reports)
//   [--only] (measure only that mode)

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { detectBackend, ExecIptables } from '../src/proxy/iptables.js';
import { DEFAULT_MASQUERADE_BIT } from '../src/proxy/iptables-rules.js';
import { ExecNft, NftablesEngine, nftAvailable } from '../src/proxy/nftables.js';
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

type Mode = 'nftables' | 'iptables-nft' | 'iptables-legacy';

interface Row {
  mode: Mode;
  full: SyncResult;
  incremental: SyncResult;
  rules: number;
}

/** Rules in the namespace after the run: nat-table rules, or rules of the kts-proxy table. */
async function countRules(mode: Mode, ns: string): Promise<number> {
  if (mode === 'nftables') {
    const text = await new ExecNft({ netns: ns }).run(['-t', 'list', 'table', 'ip', 'kts-proxy']);
    return text.split('\n').filter((l) => /^\t\t\S/.test(l) && !/^\t\t(type|flags|comment|timeout)\b/.test(l))
      .length;
  }
  const nat = await new ExecIptables({ backend: mode === 'iptables-nft' ? 'nft' : 'legacy', netns: ns }).save(
    'nat',
  );
  return nat.split('\n').filter((l) => l.startsWith('-A ')).length;
}

async function measure(mode: Mode): Promise<Row> {
  const ns = `kts-proxy-bench-${randomBytes(4).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    const cfg = { nodeName: 'bench-node', clusterCIDR: '10.42.0.0/16' };
    const proxier =
      mode === 'nftables'
        ? new Proxier({
            ...cfg,
            engine: new NftablesEngine(new ExecNft({ netns: ns }), {
              masqueradeBit: DEFAULT_MASQUERADE_BIT,
              clusterCIDR: cfg.clusterCIDR,
            }),
          })
        : new Proxier({
            ...cfg,
            iptables: new ExecIptables({ backend: mode === 'iptables-nft' ? 'nft' : 'legacy', netns: ns }),
          });
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
    return { mode, full, incremental, rules: await countRules(mode, ns) };
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
  const modes: Mode[] = [];
  const hasNft = await nftAvailable();
  if (hasNft) modes.push('nftables');
  for (const b of ['nft', 'legacy'] as const)
    if (hasBinary(`iptables-${b}-restore`)) modes.push(`iptables-${b}`);
  if (modes.length === 0) throw new Error('neither nft nor iptables is installed');
  const mi = process.argv.indexOf('--mode');
  const only = process.argv.includes('--only') && mi >= 0 ? process.argv[mi + 1] : undefined;
  const rows: Row[] = [];
  for (const m of modes) if (only === undefined || m === only) rows.push(await measure(m));
  const f = (n: number): string => n.toFixed(1).padStart(9);
  const dflt: Mode = hasNft ? 'nftables' : hostBackend === 'legacy' ? 'iptables-legacy' : 'iptables-nft';
  process.stdout.write(
    `kts proxy: ${SERVICES} services × ${ENDPOINTS} endpoints (default mode: ${dflt}; host iptables backend: ${hostBackend ?? 'none'})\n`,
  );
  process.stdout.write(
    'mode             sync         generate     apply     total  chains written  deleted  payload KiB      rules\n',
  );
  for (const r of rows) {
    for (const [label, s] of [
      ['full', r.full],
      ['incremental', r.incremental],
    ] as const) {
      process.stdout.write(
        `${r.mode.padEnd(16)} ${label.padEnd(11)} ${f(s.generateMs)} ${f(s.applyMs)} ${f(s.totalMs)} ${String(s.rewrittenChains).padStart(15)} ${String(s.deletedChains).padStart(8)} ${(s.payloadBytes / 1024).toFixed(1).padStart(12)} ${String(r.rules).padStart(10)}\n`,
      );
    }
  }
  const wanted = mi >= 0 ? process.argv[mi + 1] : dflt;
  const chosen = rows.find((r) => r.mode === wanted) ?? rows[0];
  if (chosen === undefined) throw new Error('nothing to measure');
  process.stdout.write(
    `${JSON.stringify({ fullSyncMs: Math.round(chosen.full.totalMs), incrementalSyncMs: Math.round(chosen.incremental.totalMs) })}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/proxy: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
