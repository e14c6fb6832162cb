// The structured logger the client library writes to. kts has no project-wide logger yet,
// so components take this small interface and default to silence; the server wiring can
// pass `stderrLogger` (one JSON object per line) or an adapter to its own logger.

/** Structured fields of a log line (component, object key, verb, error, …). */
export type LogFields = Record<string, unknown>;

/** A leveled structured logger. */
export interface Logger {
  /** Something a cluster operator may want to see. */
  info(msg: string, fields?: LogFields): void;
  /** A failure that was handled (retried, skipped) but should be visible. */
  error(msg: string, fields?: LogFields): void;
  /** Detail for debugging. */
  debug(msg: string, fields?: LogFields): void;
}

/** Discards everything. */
export const noopLogger: Logger = {
  info() {},
  error() {},
  debug() {},
};

/** Writes JSON lines to stderr; `debug` only when `verbose`. */
export function stderrLogger(component: string, verbose = false): Logger {
  const write = (level: string, msg: string, fields?: LogFields): void => {
    process.stderr.write(
      `${JSON.stringify({ ts: new Date().toISOString(), level, component, msg, ...fields })}\n`,
    );
  };
  return {
    info: (m, f) => write('info', m, f),
    error: (m, f) => write('error', m, f),
    debug: (m, f) => {
      if (verbose) write('debug', m, f);
    },
  };
}

/** An error's message for a log field. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
