// The resource metrics pipeline k3s gets from its bundled metrics-server, inside the API
// server process. Contract: `startResourceMetrics(apiServer)` starts a scraper of every Ready
// node's kubelet `/stats/summary` (scraper.ts) into a MetricsStorage of the last two
// points per node and container (metrics-storage.ts), and serves metrics.k8s.io/v1beta1 from
// it through the API server's ServedAPIs (metrics-api.ts): discovery lists the group, RBAC
// authorizes it like any resource, `kubectl top` and the HPA controller read it. `stop()`
// withdraws the group and ends the scraper.

import type { ApiServer } from '../apiserver/server.js';
import type { Logger } from '../client/log.js';
import { metricsExtension } from './metrics-api.js';
import { MetricsStorage } from './metrics-storage.js';
import { MetricsScraper } from './scraper.js';

export {
  handleMetricsRequest,
  METRICS_GROUP,
  METRICS_VERSION,
  type MetricsSource,
  metricsExtension,
  metricsTable,
  NODE_METRICS,
  type NodeMetrics,
  nodeMetricsOf,
  POD_METRICS,
  type PodMetrics,
  podMetricsOf,
} from './metrics-api.js';
export {
  type ContainerUsage,
  type MetricsPoint,
  MetricsStorage,
  type NodeBatch,
  type Usage,
  usageBetween,
  usageList,
  windowString,
} from './metrics-storage.js';
export {
  DEFAULT_METRIC_RESOLUTION_MS,
  decodeSummary,
  fetchKubeletSummary,
  isNodeReady,
  MetricsScraper,
  type ScraperOptions,
  type SummaryFetcher,
} from './scraper.js';

/** Options of the in-process metrics server. */
export interface ResourceMetricsOptions {
  /** Time between scrapes (default 15 s, metrics-server's `--metric-resolution`). */
  intervalMs?: number;
  /** How often the node list is checked for nodes not scraped yet (default 1 s). */
  nodeCheckMs?: number;
  log?: Logger;
}

/** A running metrics pipeline. */
export interface ResourceMetrics {
  storage: MetricsStorage;
  scraper: MetricsScraper;
  /** Stops serving metrics.k8s.io and scraping. */
  stop(): Promise<void>;
}

/** Serves metrics.k8s.io on `api` and starts scraping its nodes' kubelets. */
export function startResourceMetrics(
  api: Pick<ApiServer, 'stores' | 'served' | 'kubelets'>,
  opts: ResourceMetricsOptions = {},
): ResourceMetrics {
  const storage = new MetricsStorage();
  const nodes = api.stores.byName('', 'nodes');
  const pods = api.stores.byName('', 'pods');
  const scraper = new MetricsScraper({
    nodes,
    storage,
    kubelets: api.kubelets,
    ...(opts.intervalMs !== undefined ? { intervalMs: opts.intervalMs } : {}),
    ...(opts.nodeCheckMs !== undefined ? { nodeCheckMs: opts.nodeCheckMs } : {}),
    ...(opts.log !== undefined ? { log: opts.log } : {}),
  });
  const remove = api.served.addExtension(metricsExtension({ nodes, pods, storage }));
  scraper.start();
  return {
    storage,
    scraper,
    async stop() {
      remove();
      await scraper.stop();
    },
  };
}
