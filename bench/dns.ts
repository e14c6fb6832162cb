// Cluster DNS benchmark: UDP queries per second on loopback. The server runs on the main
// thread with 1,000 ClusterIP Services (plus 50 headless ones with 3 endpoints each) in its
// model; a worker thread on the same machine fires A queries for random service names from
// a pool of UDP sockets, each keeping a window of queries in flight, for a fixed time.
// Prints a table, then (last line) one JSON object: {"qps":N}.
// Usage: node --import tsx bench/dns.ts [--quick] [--seconds N]

import { cpus } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ClusterDNSModel } from '../src/dns/model.js';
import { startDNSServer } from '../src/dns/server.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const secondsArg = args.indexOf('--seconds');
const SECONDS = secondsArg >= 0 ? Number(args[secondsArg + 1]) : quick ? 1 : 5;
const SERVICES = 1000;
const HEADLESS = 50;
const SOCKETS = 4;
const WINDOW = 32;

// The load generator is plain JavaScript so the worker needs no TypeScript loader.
const LOADGEN = `
const { parentPort, workerData } = require('node:worker_threads');
const dgram = require('node:dgram');
const { port, names, seconds, sockets, window } = workerData;

function query(id, name) {
  const labels = name.split('.');
  const len = 12 + labels.reduce((n, l) => n + l.length + 1, 0) + 1 + 4;
  const b = Buffer.alloc(len);
  b.writeUInt16BE(id, 0); b.writeUInt16BE(0x0100, 2); b.writeUInt16BE(1, 4);
  let p = 12;
  for (const l of labels) { b[p++] = l.length; b.write(l, p, 'latin1'); p += l.length; }
  b[p++] = 0; b.writeUInt16BE(1, p); b.writeUInt16BE(1, p + 2);
  return b;
}
const packets = names.map((n, i) => query(i & 0xffff, n));
let sent = 0, answered = 0, errors = 0, stopped = false;
const start = performance.now();
const socks = [];
for (let s = 0; s < sockets; s++) {
  const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: 1 << 22 });
  const state = { sock, outstanding: 0, lastAnswer: performance.now() };
  const fire = () => {
    const pk = packets[(Math.random() * packets.length) | 0];
    state.outstanding++; sent++;
    sock.send(pk, port, '127.0.0.1');
  };
  sock.on('message', (msg) => {
    state.outstanding--; answered++; state.lastAnswer = performance.now();
    // Every query is for an existing service: NOERROR with one answer.
    if ((msg.readUInt16BE(2) & 0xf) !== 0 || msg.readUInt16BE(6) < 1) errors++;
    if (!stopped) fire();
  });
  state.fire = fire;
  socks.push(state);
  sock.bind(0, '127.0.0.1', () => { for (let i = 0; i < window; i++) fire(); });
}
// Refill windows that lost packets (UDP may drop under load).
const refill = setInterval(() => {
  const now = performance.now();
  for (const s of socks) if (now - s.lastAnswer > 200 && !stopped) {
    s.outstanding = 0; s.lastAnswer = now;
    for (let i = 0; i < window; i++) s.fire();
  }
}, 100);
setTimeout(() => {
  stopped = true;
  const elapsedMs = performance.now() - start;
  clearInterval(refill);
  setTimeout(() => {
    for (const s of socks) s.sock.close();
    parentPort.postMessage({ sent, answered, errors, elapsedMs });
  }, 50);
}, seconds * 1000);
`;

interface LoadResult {
  sent: number;
  answered: number;
  errors: number;
  elapsedMs: number;
}

async function main(): Promise<void> {
  const model = new ClusterDNSModel();
  const names: string[] = [];
  for (let i = 0; i < SERVICES; i++) {
    const ns = `ns-${i % 20}`;
    const name = `svc-${i}`;
    model.setService({
      metadata: { namespace: ns, name },
      spec: {
        clusterIP: `10.43.${i >> 8}.${i & 0xff}`,
        ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
      },
    });
    names.push(`${name}.${ns}.svc.cluster.local`);
  }
  for (let i = 0; i < HEADLESS; i++) {
    const name = `db-${i}`;
    model.setService({ metadata: { namespace: 'data', name }, spec: { clusterIP: 'None' } });
    model.setEndpointSlice({
      metadata: { namespace: 'data', name: `${name}-x`, labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      endpoints: [0, 1, 2].map((j) => ({ addresses: [`10.42.${i}.${j + 10}`], conditions: { ready: true } })),
    });
    names.push(`${name}.data.svc.cluster.local`);
  }

  const server = await startDNSServer({ model, address: '127.0.0.1', port: 0, forwarders: [] });
  const worker = new Worker(LOADGEN, {
    eval: true,
    workerData: { port: server.port, names, seconds: SECONDS, sockets: SOCKETS, window: WINDOW },
  });
  const result = await new Promise<LoadResult>((resolve, reject) => {
    worker.once('message', (m: LoadResult) => resolve(m));
    worker.once('error', reject);
  });
  await worker.terminate();
  const cached = server.handler.cachedAnswers;
  await server.close();

  const qps = Math.round((result.answered / result.elapsedMs) * 1000);
  const rows: [string, string][] = [
    ['services in model', `${SERVICES} ClusterIP + ${HEADLESS} headless (3 endpoints)`],
    ['duration', `${(result.elapsedMs / 1000).toFixed(2)} s`],
    ['client sockets × window', `${SOCKETS} × ${WINDOW}`],
    ['queries sent', String(result.sent)],
    ['answers received', String(result.answered)],
    ['wrong answers', String(result.errors)],
    ['pre-encoded answers cached', String(cached)],
    ['queries/s', String(qps)],
    ['machine', `${cpus().length} cores; the load generator (a worker thread) shares them with the server`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(width)}  ${v}\n`);
  process.stdout.write(`${JSON.stringify({ qps })}\n`);
}

await main();
