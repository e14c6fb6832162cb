// /healthz, /livez and /readyz with upstream's output: `ok`, or with `?verbose` one line per
// check (`[+]ping ok`, `[-]etcd failed: reason withheld`) and a summary line; a single check
// is addressable as `/readyz/<name>`; `?exclude=<name>` skips checks.
import type { RawResponse } from './http.js';
import { writeText } from './http.js';

/** One named health check; returns an error message when unhealthy. */
export interface HealthCheck {
  name: string;
  check(): Promise<string | undefined> | string | undefined;
}

/** Serves one health endpoint (`healthz`, `livez` or `readyz`) over a list of checks. */
export async function serveHealth(
  endpoint: string,
  checks: HealthCheck[],
  subpath: string,
  query: URLSearchParams,
  res: RawResponse,
): Promise<void> {
  const excluded = new Set(query.getAll('exclude'));
  if (subpath !== '') {
    const c = checks.find((x) => x.name === subpath);
    if (!c) {
      writeText(res, 404, '404 page not found\n');
      return;
    }
    const err = await c.check();
    if (err === undefined) writeText(res, 200, 'ok');
    else writeText(res, 500, `internal server error: ${err}\n`);
    return;
  }
  const lines: string[] = [];
  let failed = false;
  for (const c of checks) {
    if (excluded.has(c.name)) {
      lines.push(`[+]${c.name} excluded: ok`);
      continue;
    }
    const err = await c.check();
    if (err === undefined) lines.push(`[+]${c.name} ok`);
    else {
      failed = true;
      lines.push(`[-]${c.name} failed: reason withheld`);
    }
  }
  const verbose = query.has('verbose');
  if (failed) {
    writeText(res, 500, `${lines.join('\n')}\n${endpoint} check failed\n`);
    return;
  }
  writeText(res, 200, verbose ? `${lines.join('\n')}\n${endpoint} check passed\n` : 'ok');
}
