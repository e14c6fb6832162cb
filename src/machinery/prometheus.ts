// The Prometheus text exposition format (version 0.0.4) that every kts component's metrics
// endpoint writes: families with HELP and TYPE lines, sorted label sets, and the process and
// build families upstream components all carry, so one scrape config reads them alike.

/** Prometheus's exposition content type. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** `{a="1",b="2"}` with the keys sorted; empty for no labels. */
export function labelText(labels: Record<string, string>): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return '';
  return `{${keys.map((k) => `${k}="${escapeLabel(labels[k] ?? '')}"`).join(',')}}`;
}

/** The build facts `kubernetes_build_info` carries (the fields of /version). */
export interface BuildInfo {
  major: string;
  minor: string;
  gitVersion: string;
  gitCommit: string;
  gitTreeState: string;
  buildDate: string;
  goVersion: string;
  compiler: string;
  platform: string;
}

/** One sample: its labels, value and optional timestamp (ms since the epoch). */
export interface Sample {
  labels?: Record<string, string>;
  value: number;
  timestampMs?: number;
}

/** An exposition page being written, family by family. */
export class MetricsText {
  private readonly lines: string[] = [];

  /** Appends a family; one without samples is left out, as client_golang leaves it out. */
  family(name: string, type: 'counter' | 'gauge', help: string, samples: readonly Sample[]): this {
    if (samples.length === 0) return this;
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const s of samples) {
      const ts = s.timestampMs !== undefined ? ` ${Math.round(s.timestampMs)}` : '';
      this.lines.push(`${name}${labelText(s.labels ?? {})} ${formatValue(s.value)}${ts}`);
    }
    return this;
  }

  /** Appends the build and process families (`kubernetes_build_info`, `process_*`). */
  processFamilies(v: BuildInfo, startSeconds: number): this {
    const cpu = process.cpuUsage();
    this.family('kubernetes_build_info', 'gauge', 'Build information of the running component (always 1).', [
      {
        labels: {
          build_date: v.buildDate,
          compiler: v.compiler,
          git_commit: v.gitCommit,
          git_tree_state: v.gitTreeState,
          git_version: v.gitVersion,
          go_version: v.goVersion,
          major: v.major,
          minor: v.minor,
          platform: v.platform,
        },
        value: 1,
      },
    ]);
    this.family('process_cpu_seconds_total', 'counter', 'User and system CPU time of the process.', [
      { value: (cpu.user + cpu.system) / 1e6 },
    ]);
    this.family('process_resident_memory_bytes', 'gauge', 'Resident memory of the process.', [
      { value: process.memoryUsage.rss() },
    ]);
    this.family(
      'process_start_time_seconds',
      'gauge',
      'When the process started, in seconds since the epoch.',
      [{ value: startSeconds }],
    );
    return this;
  }

  /** The page. */
  text(): string {
    return this.lines.length === 0 ? '' : `${this.lines.join('\n')}\n`;
  }
}

/** Prometheus's number syntax: integers as such, others in shortest round-trip form. */
function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

/** When this process started, in whole seconds since the epoch. */
export function processStartSeconds(): number {
  return Math.floor(Date.now() / 1000 - process.uptime());
}
