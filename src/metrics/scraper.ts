// The scraper of the resource metrics API (metrics-server's scraper, in the API server
// process): every interval (default 15 s, metrics-server's `--metric-resolution`) it fetches
// `/stats/summary` from the kubelet of every Ready node — address and port from the Node's
// status, the API server's kubelet client certificate — and stores one round of points in
// MetricsStorage. The first round runs at start, and a Ready node not scraped before is
// scraped as soon as it is seen (the node list is looked at every second), so usage shows
// up one interval after a node registers instead of up to two.
//
// The summary's own times have one-second resolution (metav1.Time), too coarse for rates
// over short windows, so a point's time is when its response arrived.

import https from 'node:https';
import type { Node } from '../api/generated/types/core-v1.js';
import { type KubeletAddress, type KubeletConnector, kubeletAddress } from '../apiserver/connect/index.js';
import type { Store } from '../apiserver/registry/store.js';
import { errorText, type Logger, noopLogger } from '../client/log.js';
import type { MetricsPoint, MetricsStorage, NodeBatch } from './metrics-storage.js';

/** Default time between scrapes (metrics-server's `--metric-resolution`). */
export const DEFAULT_METRIC_RESOLUTION_MS = 15_000;

/** Fetches one node's summary (injectable for tests). */
export type SummaryFetcher = (node: Node, signal: AbortSignal) => Promise<unknown>;

/** Options of the scraper. */
export interface ScraperOptions {
  /** The Node store (its watch cache lists the nodes). */
  nodes: Pick<Store, 'listAll'>;
  storage: MetricsStorage;
  /** The kubelet client identity (unused when `fetch` is given). */
  kubelets?: KubeletConnector;
  fetch?: SummaryFetcher;
  /** Time between scrapes (default 15 s). */
  intervalMs?: number;
  /** How often the node list is checked for newly Ready nodes (default 1 s). */
  nodeCheckMs?: number;
  /** Per-request timeout (default the interval, at most 10 s). */
  timeoutMs?: number;
  now?: () => number;
  log?: Logger;
}

/** True when the Node reports Ready=True. */
export function isNodeReady(node: Node): boolean {
  return (node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function rec(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

function timeMs(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

function pointOf(cpu: unknown, memory: unknown, at: number, startTime: unknown): MetricsPoint | undefined {
  const cpuNs = num(rec(cpu)?.usageCoreNanoSeconds);
  const mem = num(rec(memory)?.workingSetBytes);
  if (cpuNs === undefined || mem === undefined) return undefined;
  const p: MetricsPoint = { timestampMs: at, cumulativeCpuNs: cpuNs, memoryBytes: mem };
  const start = timeMs(startTime);
  if (start !== undefined) p.startTimeMs = start;
  return p;
}

/**
 * The points of one `/stats/summary` answer measured at `at` (ms). A container without CPU
 * or memory figures is left out; a pod missing any container's figures is left out whole,
 * as metrics-server drops pods it cannot measure completely.
 */
export function decodeSummary(summary: unknown, at: number): NodeBatch {
  const s = rec(summary);
  const batch: NodeBatch = { pods: new Map() };
  const node = rec(s?.node);
  const np = pointOf(node?.cpu, node?.memory, at, node?.startTime);
  if (np !== undefined) batch.node = np;
  const pods = Array.isArray(s?.pods) ? s.pods : [];
  for (const raw of pods) {
    const pod = rec(raw);
    const ref = rec(pod?.podRef);
    const ns = typeof ref?.namespace === 'string' ? ref.namespace : '';
    const name = typeof ref?.name === 'string' ? ref.name : '';
    if (name === '') continue;
    const containers = new Map<string, MetricsPoint>();
    let complete = true;
    for (const rc of Array.isArray(pod?.containers) ? pod.containers : []) {
      const c = rec(rc);
      const cname = typeof c?.name === 'string' ? c.name : '';
      const p = pointOf(c?.cpu, c?.memory, at, c?.startTime);
      if (cname === '' || p === undefined) {
        complete = false;
        break;
      }
      containers.set(cname, p);
    }
    if (complete && containers.size > 0) batch.pods.set(`${ns}/${name}`, containers);
  }
  return batch;
}

/** GET `/stats/summary` of a kubelet over HTTPS with the API server's client certificate. */
export function fetchKubeletSummary(
  kubelets: KubeletConnector,
  addr: KubeletAddress,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { ...kubelets.tlsOptions(addr), method: 'GET', path: '/stats/summary', agent: false, signal },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) {
            reject(new Error(`request failed, status: ${JSON.stringify(`${res.statusCode}`)}`));
            return;
          }
          try {
            resolve(JSON.parse(body));
          } catch (err) {
            reject(err);
          }
        });
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error('context deadline exceeded')));
    req.on('error', reject);
    req.end();
  });
}

/** Scrapes every Ready node's kubelet into a MetricsStorage until stopped. */
export class MetricsScraper {
  private readonly intervalMs: number;
  private readonly nodeCheckMs: number;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly fetch: SummaryFetcher;
  private readonly ac = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private checker: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private scraped = new Set<string>();

  /** A scraper; nothing runs until `start`. */
  constructor(private readonly o: ScraperOptions) {
    this.intervalMs = o.intervalMs ?? DEFAULT_METRIC_RESOLUTION_MS;
    this.nodeCheckMs = o.nodeCheckMs ?? 1000;
    this.timeoutMs = o.timeoutMs ?? Math.min(10_000, this.intervalMs);
    this.now = o.now ?? Date.now;
    this.log = o.log ?? noopLogger;
    const kubelets = o.kubelets;
    this.fetch =
      o.fetch ??
      ((node, signal) => {
        if (kubelets === undefined) return Promise.reject(new Error('no kubelet client identity'));
        return fetchKubeletSummary(kubelets, kubeletAddress(node), signal, this.timeoutMs);
      });
  }

  /** Runs the first round now, then one every interval. */
  start(): void {
    this.trigger();
    this.timer = setInterval(() => this.trigger(), this.intervalMs);
    this.checker = setInterval(() => void this.checkNewNodes(), this.nodeCheckMs);
    this.timer.unref();
    this.checker.unref();
  }

  /** Stops scraping and waits for a round in flight. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    clearInterval(this.checker);
    this.ac.abort();
    await this.running;
  }

  /** Runs one round now (or right after the one in flight). */
  trigger(): Promise<void> {
    if (this.ac.signal.aborted) return Promise.resolve();
    if (this.running !== undefined) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.scrapeOnce();
        } while (this.again && !this.ac.signal.aborted);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  private async readyNodes(): Promise<Node[]> {
    const entries = await this.o.nodes.listAll('');
    return entries.map((e) => e.obj as Node).filter(isNodeReady);
  }

  private async checkNewNodes(): Promise<void> {
    try {
      const nodes = await this.readyNodes();
      if (nodes.some((n) => !this.scraped.has(n.metadata?.name ?? ''))) await this.trigger();
    } catch (err) {
      this.log.debug('metrics: listing nodes failed', { error: errorText(err) });
    }
  }

  /** One round: every Ready node at once; the round's points replace the stored ones. */
  async scrapeOnce(): Promise<void> {
    const nodes = await this.readyNodes();
    const batches = new Map<string, NodeBatch>();
    await Promise.all(
      nodes.map(async (node) => {
        const name = node.metadata?.name ?? '';
        try {
          const summary = await this.fetch(node, this.ac.signal);
          batches.set(name, decodeSummary(summary, this.now()));
        } catch (err) {
          if (!this.ac.signal.aborted)
            this.log.info('metrics: failed to scrape node', { node: name, error: errorText(err) });
        }
      }),
    );
    if (this.ac.signal.aborted) return;
    this.scraped = new Set(nodes.map((n) => n.metadata?.name ?? ''));
    this.o.storage.store(batches);
  }
}
