// The channel protocol of exec and attach over WebSocket (`v4.channel.k8s.io`,
// `v5.channel.k8s.io`): every binary message starts with a channel byte — 0 stdin, 1 stdout,
// 2 stderr, 3 error (one metav1.Status JSON at the end), 4 resize (`{"Width","Height"}`) and,
// in v5 only, 255 close (the next byte names the channel the client will not write again,
// which is how `kubectl exec -i` says its stdin reached EOF).

import type { Readable } from 'node:stream';
import type { ExecSession } from '../runtime/runtime.js';
import type { WebSocket } from './websocket.js';

/** Channel ids of the streaming protocols. */
export const Channel = {
  stdin: 0,
  stdout: 1,
  stderr: 2,
  error: 3,
  resize: 4,
  close: 255,
} as const;

/** The exec/attach subprotocols the kubelet speaks, most preferred first. */
export const REMOTE_COMMAND_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const;

/** The Status written on the error channel, as the kubelet's remotecommand server writes it. */
export interface StreamStatus {
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: { causes: { reason: string; message: string }[] };
  code?: number;
}

/** The Status for an exec'd command's exit code (upstream's `NonZeroExitCode` shape). */
export function exitStatus(exitCode: number, command: string[]): StreamStatus {
  if (exitCode === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  };
}

/** The Status for a failure to run the command at all (upstream: an InternalError). */
export function internalErrorStatus(message: string): StreamStatus {
  return {
    metadata: {},
    status: 'Failure',
    message: `Internal error occurred: ${message}`,
    reason: 'InternalError',
    details: { causes: [{ reason: '', message }] },
    code: 500,
  };
}

/** Sends one message on a channel. */
export function sendChannel(ws: WebSocket, channel: number, data: Buffer | string): void {
  const body = typeof data === 'string' ? Buffer.from(data) : data;
  ws.send(Buffer.concat([Buffer.from([channel]), body]));
}

/** Writes the final Status on the error channel and closes the connection normally. */
export function finishWithStatus(ws: WebSocket, status: StreamStatus): void {
  sendChannel(ws, Channel.error, JSON.stringify(status));
  ws.close(1000);
}

/** What a client sent while its session was being started (see `holdEarlyMessages`). */
export interface EarlyMessages {
  messages: Buffer[];
  closed: boolean;
  /** Stops collecting (serveRemoteCommand takes over). */
  stop?: () => void;
}

/**
 * Collects what the client sends before the session exists: kubectl sends the terminal
 * size (and may type) as soon as the connection is up, while the runtime is still
 * starting the exec, and a message nobody listens for is lost.
 */
export function holdEarlyMessages(ws: WebSocket): EarlyMessages {
  const early: EarlyMessages = { messages: [], closed: false };
  const onMessage = (m: Buffer): void => {
    early.messages.push(m);
  };
  const onClose = (): void => {
    early.closed = true;
  };
  ws.on('message', onMessage);
  ws.once('close', onClose);
  early.stop = () => {
    ws.off('message', onMessage);
    ws.off('close', onClose);
  };
  return early;
}

function streamEnded(s: Readable | null): Promise<void> {
  if (s === null || s.readableEnded || s.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    s.once('end', () => resolve());
    s.once('close', () => resolve());
    s.once('error', () => resolve());
  });
}

/**
 * Serves an exec or attach session over an accepted WebSocket until the process ends (or
 * the client goes away), then reports `status(exitCode)` on the error channel. Resolves once
 * the connection is finished with.
 */
export async function serveRemoteCommand(
  ws: WebSocket,
  protocol: string,
  session: ExecSession,
  status: (exitCode: number) => StreamStatus,
  early: EarlyMessages = { messages: [], closed: false },
): Promise<void> {
  const v5 = protocol === 'v5.channel.k8s.io';
  const pipeOut = (stream: Readable | null, channel: number): void => {
    stream?.on('data', (d: Buffer | string) =>
      sendChannel(ws, channel, typeof d === 'string' ? Buffer.from(d) : d),
    );
  };
  pipeOut(session.stdout, Channel.stdout);
  pipeOut(session.stderr, Channel.stderr);
  // A write after the process closed its stdin (EPIPE) must not crash the kubelet.
  session.stdin?.on('error', () => {});

  const onMessage = (msg: Buffer): void => {
    if (msg.length === 0) return;
    const channel = msg[0];
    const data = msg.subarray(1);
    if (channel === Channel.stdin) {
      if (data.length > 0 && session.stdin !== null && !session.stdin.writableEnded)
        session.stdin.write(data);
    } else if (channel === Channel.resize) {
      try {
        const size = JSON.parse(data.toString()) as { Width?: unknown; Height?: unknown };
        if (typeof size.Width === 'number' && typeof size.Height === 'number')
          session.resize({ width: size.Width, height: size.Height });
      } catch {
        // a malformed resize is ignored, as upstream does
      }
    } else if (v5 && channel === Channel.close && data[0] === Channel.stdin) {
      session.stdin?.end();
    }
  };
  early.stop?.();
  for (const m of early.messages) onMessage(m);
  ws.on('message', onMessage);
  let gone = false;
  const onClose = (): void => {
    gone = true;
    session.close();
  };
  if (early.closed) onClose();
  else ws.once('close', onClose);

  const code = await session.exit;
  // Output still buffered in the pipes goes out before the status that ends the stream.
  await Promise.all([streamEnded(session.stdout), streamEnded(session.stderr)]);
  if (gone) return;
  finishWithStatus(ws, status(code));
}
