// Unary gRPC calls over one HTTP/2 session on a unix socket (node:http2), which is all the
// kubelet needs from a CRI runtime: every CRI verb it uses is one request and one response.
// grpc-js would do the same through its channel stack (name resolution, load balancing,
// retries, interceptors, a captured stack per call), which costs the kubelet several times
// the CPU of the call itself, and a burst of pods makes dozens of calls per pod.
//
// The wire format is gRPC over HTTP/2 as the spec defines it: a POST to /<service>/<method>
// with `content-type: application/grpc`, `te: trailers` and `grpc-timeout`; each message
// framed by a compression flag byte and a 4-byte big-endian length; the outcome in the
// `grpc-status` and percent-encoded `grpc-message` trailers (or in the headers of a
// trailers-only response). A failed session is dropped and the next call dials again, so
// a restarted runtime is picked up without a new channel.

import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  connect as http2Connect,
  constants as http2Constants,
  type IncomingHttpHeaders,
} from 'node:http2';
import { connect as netConnect } from 'node:net';

/** gRPC status codes (google.rpc.Code). */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

const statusNames = new Map<number, string>(Object.entries(GrpcStatus).map(([k, v]) => [v, k]));

/** The name of a gRPC status code (`NOT_FOUND`), undefined for codes outside the spec. */
export function grpcStatusName(code: number): string | undefined {
  return statusNames.get(code);
}

/** A call that ended with a status other than OK. */
export class GrpcCallError extends Error {
  override readonly name = 'GrpcCallError';
  /** `code` from GrpcStatus; `details` is the peer's (or this client's) grpc-message. */
  constructor(
    readonly code: number,
    readonly details: string,
  ) {
    super(`${code} ${grpcStatusName(code) ?? 'UNKNOWN'}: ${details}`);
  }
}

/** Options of a channel. */
export interface UnaryChannelOptions {
  /** Largest response message accepted (default 32 MiB). */
  maxReceiveBytes?: number;
}

/** HTTP statuses without a grpc-status, mapped as the gRPC spec's HTTP-to-gRPC table says. */
const httpToGrpc = new Map<number, number>([
  [400, GrpcStatus.INTERNAL],
  [401, GrpcStatus.UNAUTHENTICATED],
  [403, GrpcStatus.PERMISSION_DENIED],
  [404, GrpcStatus.UNIMPLEMENTED],
  [429, GrpcStatus.UNAVAILABLE],
  [502, GrpcStatus.UNAVAILABLE],
  [503, GrpcStatus.UNAVAILABLE],
  [504, GrpcStatus.UNAVAILABLE],
]);

/** `grpc-timeout`: at most 8 digits and a unit. */
export function grpcTimeout(ms: number): string {
  const v = Math.max(0, Math.ceil(ms));
  if (v < 1e8) return `${v}m`;
  if (v / 1000 < 1e8) return `${Math.ceil(v / 1000)}S`;
  return `${Math.min(99_999_999, Math.ceil(v / 3_600_000))}H`;
}

/** Decodes a percent-encoded grpc-message (undecodable text is kept as it came). */
export function decodeGrpcMessage(v: string | string[] | undefined): string {
  const s = Array.isArray(v) ? v.join(',') : (v ?? '');
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The single message of a unary response body (length-prefixed, uncompressed). */
export function unaryMessage(body: Buffer): Buffer {
  if (body.length < 5) throw new GrpcCallError(GrpcStatus.UNIMPLEMENTED, 'No message received');
  if (body[0] !== 0) {
    throw new GrpcCallError(GrpcStatus.INTERNAL, 'Received a compressed message, which was never asked for');
  }
  const len = body.readUInt32BE(1);
  if (body.length !== 5 + len) {
    throw new GrpcCallError(
      GrpcStatus.INTERNAL,
      body.length < 5 + len ? 'Response message truncated' : 'Too many responses received',
    );
  }
  return body.subarray(5);
}

/** A request message framed for the wire. */
export function frameMessage(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

interface SessionState {
  session: ClientHttp2Session;
  /** Calls in flight: the session keeps the process alive only while there are any. */
  active: number;
  /** The connection's own failure, reported by the calls it takes down. */
  failure?: Error;
}

/** Unary gRPC calls to one unix socket, multiplexed on one HTTP/2 session. */
export class UnaryChannel {
  private current: SessionState | undefined;
  private closed = false;
  private readonly maxReceiveBytes: number;

  /** `socketPath` is a filesystem path of a unix socket. */
  constructor(
    readonly socketPath: string,
    options: UnaryChannelOptions = {},
  ) {
    this.maxReceiveBytes = options.maxReceiveBytes ?? 32 * 1024 * 1024;
  }

  private session(): SessionState {
    const cur = this.current;
    if (cur !== undefined && !cur.session.closed && !cur.session.destroyed && cur.failure === undefined) {
      return cur;
    }
    const session = http2Connect('http://localhost', {
      createConnection: () => netConnect(this.socketPath),
      // Responses up to the receive limit must fit in what the session may buffer.
      maxSessionMemory: Math.ceil((2 * this.maxReceiveBytes) / (1024 * 1024)) + 8,
      settings: { enablePush: false, initialWindowSize: 4 * 1024 * 1024 },
    });
    // The connection window too, or a list of hundreds of containers trickles in 64 KiB at a time.
    session.once('connect', () => session.setLocalWindowSize(8 * 1024 * 1024));
    const state: SessionState = { session, active: 0 };
    const drop = (): void => {
      if (this.current === state) this.current = undefined;
    };
    session.on('error', (err: Error) => {
      state.failure = err;
      drop();
    });
    session.on('goaway', drop);
    session.on('close', drop);
    session.unref();
    this.current = state;
    return state;
  }

  /**
   * Calls `path` (`/package.Service/Method`) with an encoded request and resolves to the
   * encoded response; rejects with a GrpcCallError (the peer's status, DEADLINE_EXCEEDED
   * after `timeoutMs`, UNAVAILABLE when the socket cannot be reached).
   */
  call(path: string, request: Uint8Array, timeoutMs: number): Promise<Buffer> {
    if (this.closed) return Promise.reject(new GrpcCallError(GrpcStatus.UNAVAILABLE, 'channel closed'));
    return new Promise((resolve, reject) => {
      const state = this.session();
      let stream: ClientHttp2Stream;
      try {
        stream = state.session.request({
          ':method': 'POST',
          ':path': path,
          'content-type': 'application/grpc',
          te: 'trailers',
          'grpc-timeout': grpcTimeout(timeoutMs),
          'user-agent': 'kts-cri',
        });
      } catch (e) {
        this.current = this.current === state ? undefined : this.current;
        reject(new GrpcCallError(GrpcStatus.UNAVAILABLE, e instanceof Error ? e.message : String(e)));
        return;
      }
      if (state.active++ === 0) state.session.ref();
      let settled = false;
      const chunks: Buffer[] = [];
      let received = 0;
      let httpStatus = 0;
      let status: number | undefined;
      let details = '';
      const settle = (err: GrpcCallError | undefined, value?: Buffer): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (--state.active === 0 && !state.session.destroyed) state.session.unref();
        if (err !== undefined) reject(err);
        else resolve(value ?? Buffer.alloc(0));
      };
      const abort = (err: GrpcCallError): void => {
        settle(err);
        if (!stream.destroyed) stream.close(http2Constants.NGHTTP2_CANCEL);
      };
      const timer = setTimeout(
        () => abort(new GrpcCallError(GrpcStatus.DEADLINE_EXCEEDED, 'Deadline exceeded')),
        timeoutMs,
      );
      const readStatus = (h: IncomingHttpHeaders): void => {
        const s = h['grpc-status'];
        if (s === undefined) return;
        status = Number(Array.isArray(s) ? s[0] : s);
        details = decodeGrpcMessage(h['grpc-message']);
      };
      stream.on('response', (h) => {
        httpStatus = Number(h[':status'] ?? 0);
        readStatus(h);
      });
      stream.on('trailers', readStatus);
      stream.on('data', (c: Buffer) => {
        received += c.length;
        if (received > this.maxReceiveBytes + 5) {
          abort(
            new GrpcCallError(
              GrpcStatus.RESOURCE_EXHAUSTED,
              `Received message larger than max (${received - 5} vs. ${this.maxReceiveBytes})`,
            ),
          );
          return;
        }
        chunks.push(c);
      });
      // Errors surface again on 'close' with what is known by then; only remember them here.
      let streamError: Error | undefined;
      stream.on('error', (e: Error) => {
        streamError = e;
      });
      stream.on('close', () => {
        if (settled) return;
        if (status === undefined) {
          const cause = state.failure ?? streamError;
          if (httpStatus !== 0 && httpStatus !== 200) {
            const code = httpToGrpc.get(httpStatus) ?? GrpcStatus.UNKNOWN;
            settle(new GrpcCallError(code, `Received HTTP status code ${httpStatus}`));
          } else if (stream.rstCode !== undefined && stream.rstCode !== http2Constants.NGHTTP2_NO_ERROR) {
            const refused = stream.rstCode === http2Constants.NGHTTP2_REFUSED_STREAM;
            settle(
              new GrpcCallError(
                refused || httpStatus === 0 ? GrpcStatus.UNAVAILABLE : GrpcStatus.INTERNAL,
                cause?.message ?? `Received RST_STREAM with code ${stream.rstCode}`,
              ),
            );
          } else {
            settle(
              new GrpcCallError(
                httpStatus === 0 ? GrpcStatus.UNAVAILABLE : GrpcStatus.INTERNAL,
                cause?.message ?? 'Connection closed before the call completed',
              ),
            );
          }
          return;
        }
        if (status !== GrpcStatus.OK) {
          settle(new GrpcCallError(status, details));
          return;
        }
        try {
          settle(undefined, unaryMessage(Buffer.concat(chunks, received)));
        } catch (e) {
          settle(e instanceof GrpcCallError ? e : new GrpcCallError(GrpcStatus.INTERNAL, String(e)));
        }
      });
      stream.end(frameMessage(request));
    });
  }

  /** Closes the session (calls in flight finish first); later calls fail UNAVAILABLE. */
  close(): void {
    this.closed = true;
    const cur = this.current;
    this.current = undefined;
    if (cur !== undefined && !cur.session.destroyed) cur.session.close();
  }
}
