// The API server's `/metrics` in the Prometheus text format (version 0.0.4), with upstream's
// metric and label names so dashboards and `kubectl get --raw /metrics | grep …` read the
// same: request counts by verb, group, version, resource, subresource, scope and code, the
// requests in flight, build info and the process basics. Reading it is authorized like any
// other non-resource path (upstream's `system:monitoring` role grants it).
import type { RequestInfo } from './request-info.js';
import { versionInfo } from './version.js';

/** Prometheus's exposition content type. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

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

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(labels: Record<string, string>): string {
  const keys = Object.keys(labels).sort();
  return `{${keys.map((k) => `${k}="${escapeLabel(labels[k] ?? '')}"`).join(',')}}`;
}

/** Counts requests and renders the metrics page. */
export class ApiServerMetrics {
  private readonly requests = new Map<string, number>();
  private readonly inflight = { mutating: 0, readOnly: 0 };
  private readonly startSeconds = Math.floor(Date.now() / 1000 - process.uptime());

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
      this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    };
  }

  /** The exposition text. */
  render(): string {
    const v = versionInfo();
    const mem = process.memoryUsage();
    const cpu = process.cpuUsage();
    const out: string[] = [];
    const family = (name: string, type: string, help: string, lines: string[]): void => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...lines);
    };
    family('apiserver_current_inflight_requests', 'gauge', 'Requests being served now, by kind.', [
      `apiserver_current_inflight_requests{request_kind="mutating"} ${this.inflight.mutating}`,
      `apiserver_current_inflight_requests{request_kind="readOnly"} ${this.inflight.readOnly}`,
    ]);
    family(
      'apiserver_request_total',
      'counter',
      'Requests served, by verb, dry run, group, version, resource, scope, component and code.',
      [...this.requests.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([labels, n]) => `apiserver_request_total${labels} ${n}`),
    );
    family('kubernetes_build_info', 'gauge', 'Build information of the running server (always 1).', [
      `kubernetes_build_info${labelText({
        build_date: v.buildDate,
        compiler: v.compiler,
        git_commit: v.gitCommit,
        git_tree_state: v.gitTreeState,
        git_version: v.gitVersion,
        go_version: v.goVersion,
        major: v.major,
        minor: v.minor,
        platform: v.platform,
      })} 1`,
    ]);
    family('process_cpu_seconds_total', 'counter', 'User and system CPU time of the process.', [
      `process_cpu_seconds_total ${(cpu.user + cpu.system) / 1e6}`,
    ]);
    family('process_resident_memory_bytes', 'gauge', 'Resident memory of the process.', [
      `process_resident_memory_bytes ${mem.rss}`,
    ]);
    family('process_start_time_seconds', 'gauge', 'When the process started, in seconds since the epoch.', [
      `process_start_time_seconds ${this.startSeconds}`,
    ]);
    return `${out.join('\n')}\n`;
  }
}
