// The portforward.k8s.io protocol over a SPDY/3.1 connection, as the kubelet's streaming
// server (kubelet/cri/streaming/portforward/httpstream.go) serves it. For every local
// connection the client opens two streams that share a `requestID` header: first the
// error stream (`streamType: error`, which the client half-closes at once), then the data
// stream (`streamType: data`); both name the pod's `port`. When the pair is complete the
// kubelet connects the data stream to the port through the runtime's PortForwarder; a
// failure is written as text on the error stream, which the client prints as "an error
// occurred forwarding L -> R: …". When either direction ends the other gets a second to
// follow (as containerd's forwarder allows) before both streams are closed.

import type { Duplex } from 'node:stream';
import { errorText, type Logger, noopLogger } from '../../client/log.js';
import type { PortForwarder } from '../runtime/runtime.js';
import { SpdyConnection, type SpdyStream, type SpdyTransport } from './spdy-connection.js';
import type { WebSocket } from './websocket.js';

/** The port-forward protocol name (`X-Stream-Protocol-Version` of a plain SPDY upgrade). */
export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';

/** The WebSocket subprotocol carrying SPDY frames in binary messages (client-go tunneling). */
export const PORT_FORWARD_TUNNEL_PROTOCOL = `SPDY/3.1+${PORT_FORWARD_PROTOCOL}`;

/** How long the second stream of a pair may take to arrive (upstream's default). */
const STREAM_CREATION_TIMEOUT_MS = 30_000;

/** How long one finished direction waits for the other before the pair is torn down. */
const HALF_CLOSE_GRACE_MS = 1000;

/** What a port-forward connection forwards to. */
export interface PortForwardOptions {
  forwarder: PortForwarder;
  /** Names the pod in error messages (the CRI streaming server uses the sandbox id). */
  podId: string;
  /** The pod's uid in error messages (empty from the CRI streaming server). */
  uid?: string;
  /** Default 30 s. */
  streamCreationTimeoutMs?: number;
  logger?: Logger;
}

interface StreamPair {
  requestId: string;
  data?: SpdyStream;
  error?: SpdyStream;
  timer: NodeJS.Timeout;
}

/** Why a new stream is refused, or undefined when its headers are acceptable. */
export function validatePortForwardStream(stream: SpdyStream): string | undefined {
  const port = stream.header('port');
  if (port === '') return '"port" header is required';
  if (!/^\d+$/.test(port) || Number(port) > 65535)
    return `unable to parse "${port}" as a port: strconv.ParseUint: parsing "${port}": invalid syntax`;
  if (Number(port) < 1) return `port "${port}" must be > 0`;
  const type = stream.header('streamType');
  if (type === '') return '"streamType" header is required';
  if (type !== 'error' && type !== 'data') return `invalid stream type "${type}"`;
  return undefined;
}

/** The pair key of a stream: its `requestID`, or the legacy guess from the stream id. */
function requestIdOf(stream: SpdyStream): string {
  const id = stream.header('requestID');
  if (id !== '') return id;
  // Clients older than the header opened error and data streams with consecutive odd ids.
  return String(stream.header('streamType') === 'data' ? stream.id - 2 : stream.id);
}

/** The text the kubelet writes on the error stream when forwarding fails (upstream's words). */
function forwardFailure(o: PortForwardOptions, port: number | string, err: unknown): string {
  return `error forwarding port ${port} to pod ${o.podId}, uid ${o.uid ?? ''}: ${errorText(err)}`;
}

function endQuietly(s: Duplex, text?: string): void {
  if (s.destroyed || s.writableEnded) return;
  if (text !== undefined) s.end(text);
  else s.end();
}

/**
 * Serves the port-forward protocol on a SPDY connection over `transport`; returns the
 * connection (close it to end every forwarded connection).
 */
export function servePortForward(transport: SpdyTransport, o: PortForwardOptions): SpdyConnection {
  const log = o.logger ?? noopLogger;
  const pairs = new Map<string, StreamPair>();
  const active = new Set<() => void>();
  const failure = (port: string, err: unknown): string => forwardFailure(o, port, err);

  const forward = async (data: SpdyStream, error: SpdyStream): Promise<void> => {
    const port = data.header('port');
    let target: Duplex;
    try {
      target = await o.forwarder.connect(Number(port));
    } catch (e) {
      log.debug('port-forward connect failed', { port, err: errorText(e) });
      endQuietly(error, failure(port, e));
      endQuietly(data);
      return;
    }
    if (data.destroyed) {
      target.destroy();
      return;
    }
    let toTarget = false;
    let fromTarget = false;
    let finished = false;
    let grace: NodeJS.Timeout | undefined;
    const finish = (err?: unknown): void => {
      if (finished) return;
      finished = true;
      active.delete(finish);
      clearTimeout(grace);
      endQuietly(error, err === undefined ? undefined : failure(port, err));
      endQuietly(data);
      target.destroy();
    };
    active.add(finish);
    const directionDone = (): void => {
      if (toTarget && fromTarget) finish();
      else grace ??= setTimeout(() => finish(), HALF_CLOSE_GRACE_MS);
    };
    target.on('error', (e) => finish(e));
    data.on('end', () => {
      toTarget = true;
      directionDone();
    });
    target.on('end', () => {
      fromTarget = true;
      // The client waits for both streams to end before it closes its local connection.
      endQuietly(data);
      endQuietly(error);
      directionDone();
    });
    data.on('close', () => {
      if (!finished) {
        finished = true;
        active.delete(finish);
        clearTimeout(grace);
        error.destroy();
        target.destroy();
      }
    });
    data.pipe(target);
    target.pipe(data, { end: false });
  };

  const onStream = (stream: SpdyStream): void => {
    const invalid = validatePortForwardStream(stream);
    if (invalid !== undefined) {
      log.debug('port-forward stream refused', { stream: stream.id, reason: invalid });
      stream.reset();
      return;
    }
    stream.on('error', () => {});
    stream.reply();
    const requestId = requestIdOf(stream);
    let pair = pairs.get(requestId);
    if (pair === undefined) {
      const p: StreamPair = {
        requestId,
        timer: setTimeout(() => {
          pairs.delete(requestId);
          if (p.error !== undefined)
            endQuietly(p.error, `request ${requestId}: timed out waiting for streams`);
          if (p.data !== undefined) endQuietly(p.data);
        }, o.streamCreationTimeoutMs ?? STREAM_CREATION_TIMEOUT_MS),
      };
      p.timer.unref();
      pair = p;
      pairs.set(requestId, pair);
    }
    const type = stream.header('streamType') as 'data' | 'error';
    if (pair[type] !== undefined) {
      const msg = `error processing stream for request ${requestId}: ${type} stream already assigned`;
      if (pair.error !== undefined) endQuietly(pair.error, msg);
      stream.reset();
      return;
    }
    pair[type] = stream;
    // The client never writes on the error stream; reading it lets its half-close complete.
    if (type === 'error') stream.resume();
    const { data, error } = pair;
    if (data === undefined || error === undefined) return;
    clearTimeout(pair.timer);
    pairs.delete(requestId);
    void forward(data, error);
  };

  const conn = new SpdyConnection(transport, { onStream });
  conn.once('close', () => {
    for (const p of pairs.values()) clearTimeout(p.timer);
    pairs.clear();
    for (const f of [...active]) f();
  });
  return conn;
}

/** The WebSocket protocol of port-forward without SPDY (client libraries; `?port=` per port). */
export const PORT_FORWARD_WEBSOCKET_PROTOCOL = 'v4.channel.k8s.io';

/**
 * Serves port-forward over a plain WebSocket (upstream's websocket.go): for the i-th
 * requested port, channel 2i carries data and 2i+1 errors; each channel's first message
 * is the port (2 bytes, little-endian). One connection per port; the WebSocket closes
 * once every port's connection has ended.
 */
export function servePortForwardWebSocket(ws: WebSocket, ports: number[], o: PortForwardOptions): void {
  const targets: (Duplex | undefined)[] = [];
  const early: Buffer[][] = ports.map(() => []);
  const send = (channel: number, data: Buffer): void => {
    ws.send(Buffer.concat([Buffer.from([channel]), data]));
  };
  let open = ports.length;
  const portDone = (): void => {
    open -= 1;
    if (open === 0) ws.close(1000);
  };
  ports.forEach((port, i) => {
    const p = Buffer.alloc(2);
    p.writeUInt16LE(port, 0);
    send(2 * i, p);
    send(2 * i + 1, p);
  });
  ports.forEach((port, i) => {
    void (async () => {
      let target: Duplex;
      try {
        target = await o.forwarder.connect(port);
      } catch (e) {
        send(2 * i + 1, Buffer.from(forwardFailure(o, port, e)));
        portDone();
        return;
      }
      if (!ws.open) {
        target.destroy();
        return;
      }
      targets[i] = target;
      for (const b of early[i]?.splice(0) ?? []) target.write(b);
      target.on('data', (c: Buffer) => {
        send(2 * i, c);
        if (ws.needsDrain) {
          target.pause();
          ws.onceDrain(() => target.resume());
        }
      });
      target.on('error', (e) => send(2 * i + 1, Buffer.from(forwardFailure(o, port, e))));
      // This protocol has no half-close: the target's end is the connection's end.
      target.once('end', () => target.destroy());
      target.once('close', portDone);
    })();
  });
  ws.on('message', (m: Buffer) => {
    const channel = m[0];
    if (channel === undefined || channel % 2 !== 0 || m.length < 2) return;
    const i = channel / 2;
    const t = targets[i];
    if (t !== undefined) t.write(m.subarray(1));
    else early[i]?.push(Buffer.from(m.subarray(1)));
  });
  ws.once('close', () => {
    for (const t of targets) t?.destroy();
  });
}
