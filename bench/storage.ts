// Storage benchmark: the same workloads against the sqlite backend and a real etcd started
// here, in one run. Prints a table, then (last line) one JSON object:
//   {"sqlite":{"createPerSec":N,"concurrentCreatePerSec":N,"getPerSec":N,"list10kMs":N,
//    "watchEventsPerSec":N},"etcd":{…}}
// Workloads: sequential create; create with 64 in flight; get with 64 in flight; one list of
// 10,000 keys; live watch delivery of a write stream to 1 and to 100 watchers (the stream is
// written with 256 creates in flight; events/s counts events received by all watchers).
// Usage: node --import tsx bench/storage.ts [--quick]

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EtcdStorage } from '../src/storage/etcd.js';
import { type EtcdProcess, startEtcd } from '../src/storage/etcd-server.js';
import { SqliteStorage } from '../src/storage/sqlite/sqlite-storage.js';
import type { Storage } from '../src/storage/storage.js';

const quick = process.argv.includes('--quick');
const PHASE_MS = quick ? 600 : 2000;
const VALUE = new TextEncoder().encode(
  JSON.stringify({
    kind: 'Pod',
    metadata: { name: 'x'.repeat(40) },
    spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] },
    pad: 'p'.repeat(400),
  }),
);

interface Result {
  createPerSec: number;
  concurrentCreatePerSec: number;
  getPerSec: number;
  list10kMs: number;
  watchEventsPerSec: number;
  watch100EventsPerSec: number;
}

/** Runs `fn` from `concurrency` loops until `ms` elapsed; returns operations per second. */
async function rate(ms: number, concurrency: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  let n = 0;
  const start = performance.now();
  const deadline = start + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) await fn(n++);
    }),
  );
  return Math.round((n / (performance.now() - start)) * 1000);
}

/** Writes `count` creates (256 in flight) and times until every watcher has every event. */
async function watchRate(s: Storage, tag: string, watchers: number, count: number): Promise<number> {
  const prefix = `/bench/${tag}/`;
  const from = await s.currentRevision();
  const ws = Array.from({ length: watchers }, () =>
    s.watch(prefix, { fromRevision: from, bufferSize: count + 10 }),
  );
  const start = performance.now();
  const readers = ws.map(async (w) => {
    let got = 0;
    for await (const _ of w) if (++got === count) break;
    return got;
  });
  let next = 0;
  await Promise.all(
    Array.from({ length: 256 }, async () => {
      while (next < count) {
        const i = next++;
        await s.create(`${prefix}${i}`, VALUE);
      }
    }),
  );
  const got = await Promise.all(readers);
  const elapsed = performance.now() - start;
  if (got.some((g) => g !== count)) throw new Error(`watch ${tag}: lost events (${got.join(',')})`);
  return Math.round(((count * watchers) / elapsed) * 1000);
}

async function run(name: string, s: Storage, scale: number): Promise<Result> {
  const log = (m: string): void => {
    process.stderr.write(`[${name}] ${m}\n`);
  };
  const createPerSec = await rate(PHASE_MS, 1, (i) => s.create(`/bench/seq/${i}`, VALUE));
  log(`sequential create ${createPerSec}/s`);
  const concurrentCreatePerSec = await rate(PHASE_MS, 64, (i) => s.create(`/bench/conc/${i}`, VALUE));
  log(`concurrent create ${concurrentCreatePerSec}/s`);
  const getPerSec = await rate(PHASE_MS, 64, (i) => s.get(`/bench/conc/${i % 500}`));
  log(`get ${getPerSec}/s`);
  let next = 0;
  await Promise.all(
    Array.from({ length: 256 }, async () => {
      while (next < 10_000) {
        const i = next++;
        await s.create(`/bench/list/${String(i).padStart(5, '0')}`, VALUE);
      }
    }),
  );
  const times: number[] = [];
  for (let r = 0; r < 3; r++) {
    const t = performance.now();
    const res = await s.list('/bench/list/');
    times.push(performance.now() - t);
    if (res.items.length !== 10_000) throw new Error(`list returned ${res.items.length}`);
  }
  const list10kMs = Math.round(times.sort((a, b) => a - b)[1]! * 10) / 10;
  log(`list 10k ${list10kMs} ms`);
  const watchEventsPerSec = await watchRate(s, 'watch1', 1, Math.round(40_000 * scale));
  log(`watch, 1 watcher ${watchEventsPerSec} events/s`);
  const watch100EventsPerSec = await watchRate(s, 'watch100', 100, Math.round(4000 * scale));
  log(`watch, 100 watchers ${watch100EventsPerSec} events/s`);
  return {
    createPerSec,
    concurrentCreatePerSec,
    getPerSec,
    list10kMs,
    watchEventsPerSec,
    watch100EventsPerSec,
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kts-bench-storage-'));
  let etcd: EtcdProcess | undefined;
  const results: Record<string, Result> = {};
  try {
    const sqlite = new SqliteStorage({ path: join(dir, 'state.db') });
    try {
      results.sqlite = await run('sqlite', sqlite, quick ? 0.25 : 1);
    } finally {
      await sqlite.close();
    }
    etcd = await startEtcd();
    const remote = new EtcdStorage({ endpoints: [etcd.clientUrl] });
    try {
      results.etcd = await run('etcd', remote, quick ? 0.025 : 0.1);
    } finally {
      await remote.close();
    }
  } finally {
    await etcd?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const rows: [keyof Result, string][] = [
    ['createPerSec', 'sequential create /s'],
    ['concurrentCreatePerSec', 'create, 64 in flight /s'],
    ['getPerSec', 'get, 64 in flight /s'],
    ['list10kMs', 'list 10,000 keys (ms)'],
    ['watchEventsPerSec', 'watch, 1 watcher (events/s)'],
    ['watch100EventsPerSec', 'watch, 100 watchers (events/s)'],
  ];
  const s = results.sqlite!;
  const e = results.etcd!;
  const lines = [
    `${'workload'.padEnd(32)}${'sqlite'.padStart(12)}${'etcd'.padStart(12)}${'ratio'.padStart(10)}`,
  ];
  for (const [k, label] of rows) {
    const ratio = k === 'list10kMs' ? e[k] / s[k] : s[k] / e[k];
    lines.push(
      `${label.padEnd(32)}${String(s[k]).padStart(12)}${String(e[k]).padStart(12)}${`${ratio.toFixed(1)}x`.padStart(10)}`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  const pick = (r: Result) => ({
    createPerSec: r.createPerSec,
    concurrentCreatePerSec: r.concurrentCreatePerSec,
    getPerSec: r.getPerSec,
    list10kMs: r.list10kMs,
    watchEventsPerSec: r.watchEventsPerSec,
  });
  process.stdout.write(`${JSON.stringify({ sqlite: pick(s), etcd: pick(e) })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/storage: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
