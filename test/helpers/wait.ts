// Polling and port helpers shared by the integration tests: `until` retries a probe until
// it yields a value (remembering its last error for the timeout message), and `freePort`
// asks the kernel for a loopback port nothing listens on.

import { createServer } from 'node:net';

/** Polls `fn` every 100 ms until it returns a value other than undefined; throws after `timeoutMs`. */
export async function until<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** An `until` whose timeout defaults to `defaultMs`, for a test file with its own patience. */
export function untilWithin(
  defaultMs: number,
): <T>(what: string, fn: () => Promise<T | undefined>, timeoutMs?: number) => Promise<T> {
  return (what, fn, timeoutMs = defaultMs) => until(what, fn, timeoutMs);
}

/** A loopback TCP port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}
