// exec and attach over a plain SPDY/3.1 upgrade, kubectl's fallback when the WebSocket
// upgrade is refused (and its only way with KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false). The
// client opens one stream per channel, named by its `streamType` header: error, stdin,
// stdout, stderr (not with a terminal) and resize (with a terminal, v3 and later; a
// sequence of `{"Width":…,"Height":…}` JSON objects). The kubelet waits for the streams
// the request asked for, then runs the command; at the end v4/v5 write a metav1.Status on
// the error stream (v2/v3 write only a failure's text) and close everything. Stdin's EOF
// is the client's half-close of its stream, so v5's close channel is not needed here.

import type { Readable } from 'node:stream';
import type { ExecSession, StreamOptions } from '../runtime/runtime.js';
import type { StreamStatus } from './remote-command.js';
import { SpdyConnection, type SpdyStream, type SpdyTransport } from './spdy-connection.js';

/** The remote-command protocols served over SPDY, most preferred first. */
export const SPDY_REMOTE_COMMAND_PROTOCOLS = [
  'v5.channel.k8s.io',
  'v4.channel.k8s.io',
  'v3.channel.k8s.io',
  'v2.channel.k8s.io',
] as const;

/** How long the client may take to open every stream it asked for (upstream's default). */
const STREAM_CREATION_TIMEOUT_MS = 30_000;

type StreamType = 'error' | 'stdin' | 'stdout' | 'stderr' | 'resize';

/** What one SPDY exec/attach connection runs. */
export interface SpdyRemoteCommandOptions {
  /** The negotiated protocol (one of SPDY_REMOTE_COMMAND_PROTOCOLS). */
  protocol: string;
  streams: StreamOptions;
  /** Starts the exec or attach once the streams are there. */
  start(): Promise<ExecSession>;
  /** The final Status for an exit code. */
  status(exitCode: number): StreamStatus;
  /** The Status for a failure to start (v4+), or its text (v2/v3). */
  startFailure(err: unknown): StreamStatus;
  streamCreationTimeoutMs?: number;
}

function ended(s: Readable | null): Promise<void> {
  if (s === null || s.readableEnded || s.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    s.once('end', () => resolve());
    s.once('close', () => resolve());
    s.once('error', () => resolve());
  });
}

/** Applies each complete `{"Width","Height"}` object in `text`; returns the unparsed rest. */
function applyResizes(text: string, session: ExecSession): string {
  let rest = text;
  for (;;) {
    const end = rest.indexOf('}');
    if (end < 0) return rest;
    const one = rest.slice(0, end + 1);
    rest = rest.slice(end + 1);
    try {
      const size = JSON.parse(one) as { Width?: unknown; Height?: unknown };
      if (typeof size.Width === 'number' && typeof size.Height === 'number')
        session.resize({ width: size.Width, height: size.Height });
    } catch {
      // a malformed resize is ignored, as upstream does
    }
  }
}

/** Serves one exec/attach over a SPDY connection; resolves when it is finished with. */
export function serveRemoteCommandSpdy(transport: SpdyTransport, o: SpdyRemoteCommandOptions): Promise<void> {
  const wanted = new Set<StreamType>(['error']);
  if (o.streams.stdin) wanted.add('stdin');
  if (o.streams.stdout) wanted.add('stdout');
  if (o.streams.stderr && !o.streams.tty) wanted.add('stderr');
  if (o.streams.tty && o.protocol !== 'v2.channel.k8s.io') wanted.add('resize');
  const got = new Map<StreamType, SpdyStream>();
  const statusJson = o.protocol === 'v4.channel.k8s.io' || o.protocol === 'v5.channel.k8s.io';

  return new Promise<void>((resolve) => {
    let started = false;
    let session: ExecSession | undefined;
    const conn = new SpdyConnection(transport, {
      onStream: (stream) => {
        const type = stream.header('streamType') as StreamType;
        stream.on('error', () => {});
        if (!wanted.has(type) || got.has(type)) {
          stream.reset();
          return;
        }
        stream.reply();
        got.set(type, stream);
        // The error and output streams carry nothing from the client; drain their half-close.
        if (type === 'error' || type === 'stdout' || type === 'stderr') stream.resume();
        if (got.size === wanted.size && !started) {
          started = true;
          clearTimeout(timer);
          void run();
        }
      },
    });
    const timer = setTimeout(() => conn.close(), o.streamCreationTimeoutMs ?? STREAM_CREATION_TIMEOUT_MS);
    timer.unref();
    conn.once('close', () => {
      clearTimeout(timer);
      session?.close();
      resolve();
    });

    const finish = (status: StreamStatus): void => {
      const error = got.get('error');
      if (error !== undefined && !error.writableEnded) {
        if (statusJson) error.end(JSON.stringify(status));
        else if (status.status === 'Failure') error.end(status.message ?? '');
        else error.end();
      }
      for (const s of got.values()) if (!s.writableEnded) s.end();
      // The GOAWAY goes out after the streams' last frames, which the client reads first.
      conn.close();
    };

    const run = async (): Promise<void> => {
      try {
        session = await o.start();
      } catch (e) {
        finish(o.startFailure(e));
        return;
      }
      const s = session;
      const stdin = got.get('stdin');
      s.stdin?.on('error', () => {});
      if (stdin !== undefined && s.stdin !== null) stdin.pipe(s.stdin);
      const resize = got.get('resize');
      let pending = '';
      resize?.on('data', (d: Buffer) => {
        pending = applyResizes(pending + d.toString(), s);
      });
      const stdout = got.get('stdout');
      const stderr = got.get('stderr');
      if (stdout !== undefined) s.stdout?.pipe(stdout, { end: false });
      if (stderr !== undefined) s.stderr?.pipe(stderr, { end: false });
      const code = await s.exit;
      // Output still buffered in the pipes goes out before the status that ends the streams.
      await Promise.all([
        ended(stdout === undefined ? null : s.stdout),
        ended(stderr === undefined ? null : s.stderr),
      ]);
      finish(o.status(code));
    };
  });
}
