// The Status a remote-command error channel carries at the end of an exec, as an exit
// code: shared by the WebSocket and SPDY clients of containerd's streaming server.

/** The exit code a channel-protocol error message reports (a metav1.Status in JSON). */
export function exitCodeFromStatus(text: string): { code: number; message: string } {
  let status: unknown;
  try {
    status = JSON.parse(text);
  } catch {
    return { code: 1, message: text };
  }
  if (status === null || typeof status !== 'object') return { code: 1, message: text };
  const s = status as {
    status?: unknown;
    message?: unknown;
    reason?: unknown;
    details?: { causes?: unknown };
  };
  if (s.status === 'Success') return { code: 0, message: '' };
  const message = typeof s.message === 'string' ? s.message : text;
  const causes = Array.isArray(s.details?.causes) ? s.details.causes : [];
  for (const c of causes) {
    if (c !== null && typeof c === 'object' && (c as { reason?: unknown }).reason === 'ExitCode') {
      const n = Number((c as { message?: unknown }).message);
      if (Number.isInteger(n)) return { code: n, message };
    }
  }
  return { code: 1, message };
}
