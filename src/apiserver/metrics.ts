// The API server's `/metrics` in the Prometheus text format (version 0.0.4), with upstream's
// metric and label names so dashboards and `kubectl get --raw /metrics | grep …` read the
// same: request counts by verb, group, version, resource, subresource, scope and code, the
// requests in flight, build info and the process basics. Reading it is authorized like any
// other non-resource path (upstream's `system:monitoring` role grants it).
import { labelText, MetricsText, processStartSeconds } from '../machinery/prometheus.js';
import type { RequestInfo } from './request-info.js';
import { versionInfo } from './version.js';

export { METRICS_CONTENT_TYPE } from '../machinery/prometheus.js';

/** The labels of one `apiserver_request_total` series, named as upstream. */
export interface RequestLabels {
  code: string;
  component: string;
  dry_run: string;
  group: string;
  resource: string;
  scope: string;
  subresource: string;
  verb: string;
  version: string;
}

/**
 * Upstream's reported verb: LIST and WATCH are told apart from GET, a server-side apply is
 * APPLY, everything else is the HTTP method.
 */
export function reportedVerb(info: RequestInfo, method: string, contentType: string | undefined): string {
  const m = method.toUpperCase();
  if (!info.isResourceRequest) return m;
  if (info.verb === 'list') return 'LIST';
  if (info.verb === 'watch') return 'WATCH';
  if (m === 'PATCH' && (contentType ?? '').startsWith('application/apply-patch')) return 'APPLY';
  // Upstream instruments connecter subresources (streams and proxies) as CONNECT.
  if (CONNECT_SUBRESOURCES.has(info.subresource)) return 'CONNECT';
  return m;
}

const CONNECT_SUBRESOURCES = new Set(['exec', 'attach', 'portforward', 'proxy']);

/** The labels upstream gives a request. */
export function requestLabels(
  info: RequestInfo,
  method: string,
  contentType: string | undefined,
  code: number,
  dryRun: boolean,
): RequestLabels {
  const resource = info.isResourceRequest;
  return {
    code: String(code),
    component: 'apiserver',
    dry_run: dryRun ? 'All' : '',
    group: resource ? info.apiGroup : '',
    resource: resource ? info.resource : '',
    scope: !resource ? '' : info.name !== '' ? 'resource' : info.namespace !== '' ? 'namespace' : 'cluster',
    subresource: resource ? info.subresource : '',
    verb: reportedVerb(info, method, contentType),
    version: resource ? info.apiVersion : '',
  };
}

/** Counts requests and renders the metrics page. */
export class ApiServerMetrics {
  private readonly requests = new Map<string, { labels: RequestLabels; n: number }>();
  private readonly inflight = { mutating: 0, readOnly: 0 };
  private readonly startSeconds = processStartSeconds();

  /** Marks a request started; the returned function marks it finished with its labels. */
  start(mutating: boolean): (labels: RequestLabels) => void {
    const kind = mutating ? 'mutating' : 'readOnly';
    this.inflight[kind]++;
    let done = false;
    return (labels) => {
      if (done) return;
      done = true;
      this.inflight[kind]--;
      const key = labelText({ ...labels });
      const seen = this.requests.get(key);
      if (seen !== undefined) seen.n++;
      else this.requests.set(key, { labels: { ...labels }, n: 1 });
    };
  }

  /** The exposition text. */
  render(): string {
    return new MetricsText()
      .family('apiserver_current_inflight_requests', 'gauge', 'Requests being served now, by kind.', [
        { labels: { request_kind: 'mutating' }, value: this.inflight.mutating },
        { labels: { request_kind: 'readOnly' }, value: this.inflight.readOnly },
      ])
      .family(
        'apiserver_request_total',
        'counter',
        'Requests served, by verb, dry run, group, version, resource, scope, component and code.',
        [...this.requests.entries()]
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([, { labels, n }]) => ({ labels: { ...labels }, value: n })),
      )
      .processFamilies(versionInfo(), this.startSeconds)
      .text();
  }
}
