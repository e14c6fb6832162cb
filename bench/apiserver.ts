// API server benchmark: a real server (sqlite backend, temp data dir) driven over HTTPS/1.1
// keep-alive with the admin client certificate. Prints a table, then (last line) one JSON
// object:
//   {"createPerSec":N,"getPerSec":N,"list10kMs":N,"watchEventsPerSec1":N,
//    "watchEventsPerSec500":N,"p99SingleObjectMs":N}
// Workloads: pod creates with 64 clients; pod GETs with 64 clients; one JSON LIST of 10,000
// pods (median of 3); watch delivery of a configmap write stream to 1 and to 500 watchers
// (events/s counts events received by all watchers); p99 of single-object GET/PUT (8 clients)
// while a background writer does 20 writes/s. Goals: ≥ 2,000 creates/s, list 10k < 300 ms,
// p99 < 50 ms.
// The server runs in a child process (as in production: clients elsewhere), so the client's
// TLS and JSON work does not share its event loop. `--profile DIR` runs that child with
// --cpu-prof and leaves the profile in DIR.
// Usage: node --import tsx bench/apiserver.ts [--quick] [--profile DIR]

import { type ChildProcess, spawn } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ApiServer, startApiServer } from '../src/apiserver/server.js';
import { HttpsClient, readClientConfig } from '../test/helpers/https-client.js';

const quick = process.argv.includes('--quick');
const PHASE_MS = quick ? 1000 : 4000;
const CLIENTS = 64;
const LIST_SIZE = 10_000;
const NS = 'bench';
const JSON_CT = { 'content-type': 'application/json', accept: 'application/json' };

function pod(name: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: 'bench', tier: 'web' } },
    spec: {
      containers: [
        {
          name: 'c',
          image: 'nginx:1.27',
          ports: [{ containerPort: 80 }],
          env: [{ name: 'MODE', value: 'bench' }],
          resources: { requests: { cpu: '10m', memory: '16Mi' } },
        },
      ],
    },
  });
}

/** Runs `fn` from `concurrency` loops until `ms` elapsed; returns operations per second. */
async function rate(ms: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<number> {
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

async function expect(
  p: Promise<{ status: number; text: string }>,
  code: number,
  what: string,
): Promise<void> {
  const r = await p;
  if (r.status !== code) throw new Error(`${what}: HTTP ${r.status}: ${r.text.slice(0, 200)}`);
}

/** Opens `n` watches and resolves once each has received `count` events; returns events/s. */
async function watchRate(c: HttpsClient, tag: string, watchers: number, count: number): Promise<number> {
  const cmPath = `/api/v1/namespaces/${NS}/configmaps`;
  const list = await c.json('GET', `${cmPath}?limit=1`);
  const rv = (list.obj.metadata as { resourceVersion: string }).resourceVersion;
  const agent = new https.Agent({
    keepAlive: false,
    maxSockets: Number.POSITIVE_INFINITY,
    ca: c.config.ca,
    cert: c.config.cert,
    key: c.config.key,
  });
  const url = new URL(c.config.server);
  const ac = new AbortController();
  setMaxListeners(watchers + 10, ac.signal);
  let opened = 0;
  let onAllOpen: () => void = () => {};
  const allOpen = new Promise<void>((r) => {
    onAllOpen = r;
  });
  const done = Array.from(
    { length: watchers },
    () =>
      new Promise<void>((resolve, reject) => {
        let got = 0;
        const req = https.request(
          {
            agent,
            host: url.hostname,
            port: url.port,
            path: `${cmPath}?watch=true&resourceVersion=${rv}&labelSelector=tag%3D${tag}&timeoutSeconds=120`,
            headers: { accept: 'application/json' },
            signal: ac.signal,
          },
          (res) => {
            if (++opened === watchers) onAllOpen();
            res.on('data', (chunk: Buffer) => {
              for (const b of chunk) if (b === 0x0a) got++;
              if (got >= count) resolve();
            });
            res.on('error', () => {});
            res.on('close', () =>
              got >= count ? resolve() : reject(new Error(`watch closed after ${got}`)),
            );
          },
        );
        req.on('error', (e) => (ac.signal.aborted ? resolve() : reject(e)));
        req.end();
      }),
  );
  await allOpen;
  const start = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < count) {
        const i = next++;
        await expect(
          c.request({
            method: 'POST',
            path: cmPath,
            headers: JSON_CT,
            body: JSON.stringify({
              metadata: { name: `${tag}-${i}`, labels: { tag } },
              data: { i: String(i) },
            }),
          }),
          201,
          'configmap create',
        );
      }
    }),
  );
  await Promise.all(done);
  const elapsed = performance.now() - start;
  ac.abort();
  agent.destroy();
  return Math.round(((count * watchers) / elapsed) * 1000);
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
}

/** Child mode: serve until stdin closes, after printing the kubeconfig path. */
async function serve(dataDir: string): Promise<void> {
  const server: ApiServer = await startApiServer({ dataDir, httpsPort: 0, bindAddress: '127.0.0.1' });
  process.stdout.write(`${JSON.stringify({ kubeconfigPath: server.kubeconfigPath })}\n`);
  process.stdin.resume();
  await new Promise<void>((r) => process.stdin.once('end', () => r()));
  await server.close();
  process.exit(0);
}

function startChild(
  dataDir: string,
  profileDir: string | undefined,
): Promise<{ child: ChildProcess; kubeconfigPath: string }> {
  const args = [
    ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []),
    '--import',
    'tsx',
    new URL(import.meta.url).pathname,
    '--serve',
    dataDir,
  ];
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0)
        resolve({
          child,
          kubeconfigPath: (JSON.parse(out.slice(0, nl)) as { kubeconfigPath: string }).kubeconfigPath,
        });
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kts-bench-apiserver-'));
  const pi = process.argv.indexOf('--profile');
  const profileDir = pi > 0 ? process.argv[pi + 1] : undefined;
  let child: ChildProcess | undefined;
  let c: HttpsClient | undefined;
  const log = (m: string): void => {
    process.stderr.write(`${m}\n`);
  };
  try {
    const started = await startChild(dataDir, profileDir);
    child = started.child;
    c = new HttpsClient(readClientConfig(started.kubeconfigPath), CLIENTS);
    const client = c;
    await expect(
      client.request({
        method: 'POST',
        path: '/api/v1/namespaces',
        headers: JSON_CT,
        body: JSON.stringify({ metadata: { name: NS } }),
      }),
      201,
      'namespace',
    );
    // The ServiceAccount admission plugin needs the namespace's default ServiceAccount, which
    // the serviceaccount controller would create; the benchmark runs no controllers.
    await expect(
      client.request({
        method: 'POST',
        path: `/api/v1/namespaces/${NS}/serviceaccounts`,
        headers: JSON_CT,
        body: JSON.stringify({ metadata: { name: 'default' } }),
      }),
      201,
      'default service account',
    );
    const pods = `/api/v1/namespaces/${NS}/pods`;

    log('creates…');
    let created = 0;
    const createPerSec = await rate(PHASE_MS, CLIENTS, async () => {
      const i = created++;
      await expect(
        client.request({ method: 'POST', path: pods, headers: JSON_CT, body: pod(`p-${i}`) }),
        201,
        'create',
      );
    });

    log('gets…');
    const getPerSec = await rate(PHASE_MS, CLIENTS, async (i) => {
      await expect(client.request({ path: `${pods}/p-${(i * 7919) % created}` }), 200, 'get');
    });

    log(`filling to ${LIST_SIZE} pods…`);
    let fill = created;
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (fill < LIST_SIZE) {
          const i = fill++;
          await expect(
            client.request({ method: 'POST', path: pods, headers: JSON_CT, body: pod(`p-${i}`) }),
            201,
            'fill',
          );
        }
      }),
    );
    const listTimes: number[] = [];
    let listed = 0;
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      const r = await client.request({ path: pods, headers: { accept: 'application/json' } });
      listTimes.push(performance.now() - t);
      listed = (JSON.parse(r.text) as { items: unknown[] }).items.length;
    }
    const list10kMs = Math.round(percentile(listTimes, 50));
    log(`list of ${listed} pods: ${listTimes.map((t) => t.toFixed(0)).join(', ')} ms`);

    log('watch, 1 watcher…');
    const watchEventsPerSec1 = await watchRate(client, 'w1', 1, quick ? 1000 : 5000);
    log('watch, 500 watchers…');
    const watchEventsPerSec500 = await watchRate(client, 'w500', 500, quick ? 200 : 1000);

    log('p99 single-object latency with a background writer…');
    const cms = `/api/v1/namespaces/${NS}/configmaps`;
    await expect(
      client.request({
        method: 'POST',
        path: cms,
        headers: JSON_CT,
        body: JSON.stringify({ metadata: { name: 'bg' }, data: { n: '0' } }),
      }),
      201,
      'bg',
    );
    for (let i = 0; i < 16; i++) {
      await expect(
        client.request({
          method: 'POST',
          path: cms,
          headers: JSON_CT,
          body: JSON.stringify({ metadata: { name: `lat-${i}` }, data: { n: '0' } }),
        }),
        201,
        'lat',
      );
    }
    let stop = false;
    const writer = (async () => {
      let n = 0;
      while (!stop) {
        const t = performance.now();
        await expect(
          client.request({
            method: 'PUT',
            path: `${cms}/bg`,
            headers: JSON_CT,
            body: JSON.stringify({ metadata: { name: 'bg' }, data: { n: String(n++) } }),
          }),
          200,
          'bg write',
        );
        await new Promise((r) => setTimeout(r, Math.max(0, 50 - (performance.now() - t))));
      }
    })();
    const lat: number[] = [];
    const deadline = performance.now() + PHASE_MS;
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        let k = 0;
        while (performance.now() < deadline) {
          const name = `lat-${(w * 2 + (k & 1)) % 16}`;
          const t = performance.now();
          if (k++ % 2 === 0) {
            await expect(client.request({ path: `${pods}/p-${(k * 104729) % LIST_SIZE}` }), 200, 'lat get');
          } else {
            // Unconditional update (no resourceVersion): configmaps allow it, so no conflicts.
            await expect(
              client.request({
                method: 'PUT',
                path: `${cms}/${name}`,
                headers: JSON_CT,
                body: JSON.stringify({ metadata: { name }, data: { n: String(k) } }),
              }),
              200,
              'lat put',
            );
          }
          lat.push(performance.now() - t);
        }
      }),
    );
    stop = true;
    await writer;
    const p99SingleObjectMs = Math.round(percentile(lat, 99) * 10) / 10;

    const rows: Array<[string, string, string]> = [
      ['pod creates/s (64 clients)', String(createPerSec), '≥ 2000'],
      ['pod GETs/s (64 clients)', String(getPerSec), ''],
      [`LIST ${listed} pods, JSON (ms)`, String(list10kMs), '< 300'],
      ['watch events/s, 1 watcher', String(watchEventsPerSec1), ''],
      ['watch events/s, 500 watchers', String(watchEventsPerSec500), ''],
      [
        `p99 GET/PUT (ms, ${lat.length} ops, p50 ${percentile(lat, 50).toFixed(1)})`,
        String(p99SingleObjectMs),
        '< 50',
      ],
    ];
    const w = Math.max(...rows.map((r) => r[0].length));
    process.stdout.write(`${'workload'.padEnd(w)}  ${'result'.padStart(8)}  goal\n`);
    for (const [k, v, g] of rows) process.stdout.write(`${k.padEnd(w)}  ${v.padStart(8)}  ${g}\n`);
    process.stdout.write(
      `${JSON.stringify({ createPerSec, getPerSec, list10kMs, watchEventsPerSec1, watchEventsPerSec500, p99SingleObjectMs })}\n`,
    );
  } finally {
    c?.close();
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.stdin!.end();
      const t = setTimeout(() => child!.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const si = process.argv.indexOf('--serve');
if (si > 0) await serve(process.argv[si + 1]!);
else await main();
