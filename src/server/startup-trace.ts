// Start-up milestones for finding the critical path of `kts server` / `kts agent`
// (KTS_TRACE_STARTUP=1): one stderr line per milestone with the milliseconds since the
// process started (performance.now() counts from the process's time origin), so module
// loading, which happens before any of kts's own code runs, is part of the picture.
// Off by default; a disabled trace costs one boolean test per milestone.

/** Whether KTS_TRACE_STARTUP=1 asked for the milestones. */
export const startupTraceEnabled = process.env.KTS_TRACE_STARTUP === '1';

/** Writes `milestone` with the time since the process started, when tracing is on. */
export function traceStartup(milestone: string): void {
  if (!startupTraceEnabled) return;
  process.stderr.write(`kts startup: ${performance.now().toFixed(0).padStart(5)} ms ${milestone}\n`);
}
