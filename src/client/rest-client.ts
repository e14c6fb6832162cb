// The HTTP(S) client of the API server (client-go rest.RESTClient). One keep-alive agent
// per client carries every request; a token bucket throttles requests client-side (50 qps,
// burst 100 by default, like kube-controller-manager's flags). Failures are retried with
// exponential backoff when retrying is safe: connection refused and 429 for every verb (the
// server never processed the request), other connection errors and 5xx only for idempotent
// verbs. Error responses become StatusError from the response's Status body, so callers
// use `isNotFound(err)` and friends. `resource(gvr)` gives the per-resource verbs.
// With `http2` set, whole-body requests share one multiplexed HTTP/2 session instead (as
// client-go talks to the API server); streams (watches, logs) stay on HTTP/1.1.
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContext } from 'node:tls';
import { StatusError, type Status, type StatusReason } from '../machinery/status-error.js';
import { abortReason, type Clock, realClock } from './clock.js';
import type { Client, KubeObject, ResourceClient, TypedGVR } from './interface.js';
import type { RestConfig } from './kubeconfig.js';
import { RestResourceClient } from './resource-client.js';
import { TokenBucket } from './token-bucket.js';

/** HTTP methods the API uses. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';

/** Query parameter values; undefined and false-y optional values are skipped by the caller. */
export type QueryValue = string | number | boolean | undefined;

/** One request. */
export interface RestRequest {
  method: HttpMethod;
  /** Absolute path (`/api/v1/pods`). */
  path: string;
  query?: Record<string, QueryValue>;
  /** JSON-encoded unless it is already a string or Buffer. */
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
  /** Skip retries (watches handle their own). */
  noRetry?: boolean;
  /** The Accept header (default `application/json`). */
  accept?: string;
}

/** Supplies a bearer token per request (refreshing it as needed). */
export interface TokenSource {
  /** The token to send now. */
  token(signal?: AbortSignal): Promise<string>;
}

/** Options of the REST client beyond the RestConfig. */
export interface RestClientOptions {
  /** Bearer tokens from here instead of the config's token or token file. */
  tokenSource?: TokenSource;
  clock?: Clock;
  /** Retries after the first attempt (default 5). */
  maxRetries?: number;
  /** First retry backoff in ms (default 50, doubling, capped at 5 s). */
  retryBaseMs?: number;
  /**
   * Send whole-body requests over one HTTP/2 session (https only): a busy writer such as the
   * scheduler then costs both ends far less per request than one TLS connection per request
   * in flight. Streams keep using HTTP/1.1.
   */
  http2?: boolean;
}

/** What send() needs of a response, whichever protocol carried it. */
interface SentResponse {
  statusCode?: number | undefined;
  headers: IncomingHttpHeaders;
  resume(): unknown;
}

/** An HTTP/2 response read to its end. */
interface BufferedResponse extends SentResponse {
  statusCode: number;
  body: Buffer;
}

// Flow-control window of the HTTP/2 session and its streams: large lists arrive without
// waiting for a window update every 64 KiB.
const H2_WINDOW = 16 * 1024 * 1024;

const DEFAULT_QPS = 50;
const DEFAULT_BURST = 100;
const MAX_BACKOFF_MS = 5000;
const TOKEN_FILE_TTL_MS = 60_000;
const IDEMPOTENT = new Set<HttpMethod>(['GET', 'HEAD', 'PUT', 'DELETE']);
// Connection errors for which the request never reached the server.
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const CONNECTION_ERRORS = new Set([...NOT_SENT, 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET']);

/** The API client over HTTP(S). */
export class RestClient implements Client {
  private readonly base: URL;
  private readonly agent: http.Agent;
  private readonly transport: typeof http | typeof https;
  private readonly limiter: TokenBucket;
  private readonly clock: Clock;
  private readonly maxRetries: number;
  private readonly retryBaseMs: number;
  private readonly userAgent: string;
  private cachedToken: { value: string; readAt: number } | undefined;
  private readonly tokenSource: TokenSource | undefined;
  private readonly useHttp2: boolean;
  private h2: { session: http2.ClientHttp2Session; active: number } | undefined;

  /** A client of the server described by config. */
  constructor(
    readonly config: RestConfig,
    opts: RestClientOptions = {},
  ) {
    this.base = new URL(config.server);
    this.clock = opts.clock ?? realClock;
    this.maxRetries = opts.maxRetries ?? 5;
    this.retryBaseMs = opts.retryBaseMs ?? 50;
    this.tokenSource = opts.tokenSource;
    this.userAgent = config.userAgent ?? 'kts/v1.32.0';
    this.limiter = new TokenBucket(config.qps ?? DEFAULT_QPS, config.burst ?? DEFAULT_BURST, this.clock);
    this.useHttp2 = opts.http2 === true && this.base.protocol === 'https:';
    if (this.base.protocol === 'http:') {
      this.transport = http;
      this.agent = new http.Agent({ keepAlive: true });
    } else {
      this.transport = https;
      this.agent = new https.Agent({
        keepAlive: true,
        secureContext: secureContextFor(config),
        ...(config.tlsServerName !== undefined ? { servername: config.tlsServerName } : {}),
        rejectUnauthorized: config.insecureSkipTLSVerify !== true,
      });
    }
  }

  /** The verbs of one resource. */
  resource<T extends KubeObject = KubeObject>(gvr: TypedGVR<T>): ResourceClient<T> {
    return new RestResourceClient<T>(this, gvr);
  }

  /** Sends a request and decodes the JSON response (undefined for an empty body). */
  async request<R = unknown>(req: RestRequest): Promise<R> {
    let res: SentResponse;
    let body: Buffer;
    if (this.useHttp2) {
      const r = await this.send(req, (q, token) => this.onceHttp2(q, token));
      res = r;
      body = r.body;
    } else {
      const r = await this.send(req, (q, token) => this.once(q, token));
      res = r;
      body = await readBody(r, req.signal);
    }
    if (res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300) {
      if (body.length === 0) return undefined as R;
      return JSON.parse(body.toString('utf8')) as R;
    }
    throw decodeError(res, body, req);
  }

  /**
   * Sends a request and returns the open response once it succeeded (2xx), for streaming
   * (watch, logs). Error responses throw StatusError.
   */
  async stream(req: RestRequest): Promise<IncomingMessage> {
    const res = await this.send(req, (q, token) => this.once(q, token));
    const code = res.statusCode ?? 0;
    if (code >= 200 && code < 300) return res;
    const body = await readBody(res, req.signal);
    throw decodeError(res, body, req);
  }

  /** Closes idle keep-alive connections; requests in flight finish. */
  close(): void {
    this.agent.destroy();
    this.h2?.session.close();
    this.h2 = undefined;
  }

  // Sends with throttling and retries; resolves with a response whose status is final.
  private async send<T extends SentResponse>(
    req: RestRequest,
    once: (req: RestRequest, token: string | undefined) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      await this.limiter.wait(req.signal);
      let res: T;
      try {
        const token =
          this.tokenSource !== undefined ? await this.tokenSource.token(req.signal) : this.bearerToken();
        res = await once(req, token);
      } catch (err) {
        if (req.signal?.aborted) throw abortReason(req.signal);
        if (!this.mayRetry(req, attempt) || !retryableConnectionError(err, req.method)) throw err;
        await this.clock.sleep(this.backoff(attempt), req.signal);
        continue;
      }
      const code = res.statusCode ?? 0;
      const retryable = code === 429 || (code >= 500 && code !== 501 && IDEMPOTENT.has(req.method));
      if (!retryable || !this.mayRetry(req, attempt)) return res;
      res.resume();
      const after = retryAfterMs(res);
      await this.clock.sleep(Math.max(after, this.backoff(attempt)), req.signal);
    }
  }

  private mayRetry(req: RestRequest, attempt: number): boolean {
    return req.noRetry !== true && attempt < this.maxRetries;
  }

  private backoff(attempt: number): number {
    return Math.min(MAX_BACKOFF_MS, this.retryBaseMs * 2 ** attempt);
  }

  private requestURL(req: RestRequest): URL {
    const url = new URL(this.base.pathname.replace(/\/$/, '') + req.path, this.base);
    for (const [k, v] of Object.entries(req.query ?? {})) {
      if (v === undefined) continue;
      url.searchParams.set(k, String(v));
    }
    return url;
  }

  private once(req: RestRequest, token: string | undefined): Promise<IncomingMessage> {
    const url = this.requestURL(req);
    const headers: Record<string, string> = {
      Accept: req.accept ?? 'application/json',
      'User-Agent': this.userAgent,
    };
    if (token !== undefined) headers.Authorization = `Bearer ${token}`;
    const payload = encodeBody(req);
    if (payload !== undefined) {
      headers['Content-Type'] = req.contentType ?? 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    return new Promise<IncomingMessage>((resolve, reject) => {
      const r = this.transport.request(url, { method: req.method, headers, agent: this.agent }, resolve);
      r.on('error', reject);
      if (req.signal !== undefined) {
        const signal = req.signal;
        if (signal.aborted) {
          r.destroy(abortReason(signal));
          return;
        }
        const onAbort = (): void => {
          r.destroy(abortReason(signal));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        r.on('close', () => signal.removeEventListener('abort', onAbort));
      }
      r.end(payload);
    });
  }

  private onceHttp2(req: RestRequest, token: string | undefined): Promise<BufferedResponse> {
    const url = this.requestURL(req);
    const headers: http2.OutgoingHttpHeaders = {
      ':method': req.method,
      ':path': url.pathname + url.search,
      accept: req.accept ?? 'application/json',
      'user-agent': this.userAgent,
    };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    const payload = encodeBody(req);
    if (payload !== undefined) {
      headers['content-type'] = req.contentType ?? 'application/json';
      headers['content-length'] = payload.length;
    }
    const conn = this.http2Session();
    return new Promise<BufferedResponse>((resolve, reject) => {
      let settled = false;
      const fail = (err: unknown): void => {
        if (settled) return;
        settled = true;
        reject(err);
      };
      let stream: http2.ClientHttp2Stream;
      try {
        stream = conn.session.request(headers, { endStream: payload === undefined });
      } catch (err) {
        fail(err);
        return;
      }
      // An idle session must not keep the process alive; one with requests in flight must.
      if (conn.active++ === 0) conn.session.ref();
      const signal = req.signal;
      const onAbort = (): void => {
        stream.close(http2.constants.NGHTTP2_CANCEL);
        if (signal !== undefined) fail(abortReason(signal));
      };
      let statusCode = 0;
      let resHeaders: IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      stream.on('response', (h) => {
        statusCode = Number(h[':status']);
        resHeaders = h;
      });
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (settled) return;
        settled = true;
        resolve({ statusCode, headers: resHeaders, body: Buffer.concat(chunks), resume: () => {} });
      });
      stream.on('error', (err: Error & { code?: unknown }) => fail(streamError(err)));
      stream.on('close', () => {
        if (--conn.active === 0) conn.session.unref();
        signal?.removeEventListener('abort', onAbort);
        // Reset before the response ended; REFUSED_STREAM means the server never started it.
        const refused = stream.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM;
        fail(
          Object.assign(new Error(`HTTP/2 stream closed (code ${stream.rstCode})`), {
            code: refused ? 'ECONNREFUSED' : 'ECONNRESET',
          }),
        );
      });
      if (signal !== undefined) {
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      }
      if (payload !== undefined) stream.end(payload);
    });
  }

  // The open session, or a new one (after close, GOAWAY or an error).
  private http2Session(): { session: http2.ClientHttp2Session; active: number } {
    const cur = this.h2;
    if (cur !== undefined && !cur.session.closed && !cur.session.destroyed) return cur;
    const c = this.config;
    const session = http2.connect(this.base.origin, {
      secureContext: secureContextFor(c),
      ...(c.tlsServerName !== undefined ? { servername: c.tlsServerName } : {}),
      rejectUnauthorized: c.insecureSkipTLSVerify !== true,
      settings: { initialWindowSize: H2_WINDOW },
    });
    const conn = { session, active: 0 };
    const forget = (): void => {
      if (this.h2 === conn) this.h2 = undefined;
    };
    // Session errors reach every open stream as its own error; the session is replaced.
    session.on('error', forget);
    session.on('goaway', forget);
    session.on('close', forget);
    session.once('connect', () => session.setLocalWindowSize(H2_WINDOW));
    session.unref();
    this.h2 = conn;
    return conn;
  }

  private bearerToken(): string | undefined {
    const file = this.config.tokenFile;
    if (file !== undefined) {
      const now = this.clock.now();
      if (this.cachedToken === undefined || now - this.cachedToken.readAt > TOKEN_FILE_TTL_MS) {
        try {
          this.cachedToken = { value: readFileSync(file, 'utf8').trim(), readAt: now };
        } catch (err) {
          // Keep the last good token: a rotation may briefly remove the file.
          if (this.cachedToken === undefined) throw err;
        }
      }
      return this.cachedToken.value;
    }
    return this.config.token;
  }
}

function retryableConnectionError(err: unknown, method: HttpMethod): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !CONNECTION_ERRORS.has(code)) return false;
  return NOT_SENT.has(code) || IDEMPOTENT.has(method);
}

// An HTTP/2 stream's error in the terms retries understand: a stream never sent because the
// connection failed carries that failure (ECONNREFUSED, …) as its cause; other protocol
// failures (GOAWAY, stream errors) count as a connection reset, since the server may or may
// not have acted on the request (retried only when idempotent).
function streamError(err: Error & { code?: unknown }): Error {
  if (typeof err.code !== 'string' || !err.code.startsWith('ERR_HTTP2')) return err;
  const cause = err.cause as { code?: unknown } | undefined;
  if (cause instanceof Error && typeof cause.code === 'string' && !cause.code.startsWith('ERR_HTTP2'))
    return cause;
  const code = err.code === 'ERR_HTTP2_STREAM_CANCEL' ? 'ECONNREFUSED' : 'ECONNRESET';
  return Object.assign(new Error(err.message, { cause: err }), { code });
}

function encodeBody(req: RestRequest): Buffer | undefined {
  if (req.body === undefined) return undefined;
  if (Buffer.isBuffer(req.body)) return req.body;
  return Buffer.from(typeof req.body === 'string' ? req.body : JSON.stringify(req.body));
}

function retryAfterMs(res: Pick<SentResponse, 'headers'>): number {
  const h = res.headers['retry-after'];
  if (h === undefined) return 0;
  const s = Number(h);
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  const at = Date.parse(h);
  return Number.isNaN(at) ? 0 : Math.max(0, at - Date.now());
}

/** Reads a whole response body. */
export function readBody(res: IncomingMessage, signal?: AbortSignal): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', (err) => reject(signal?.aborted ? abortReason(signal) : err));
    res.on('aborted', () => reject(signal?.aborted ? abortReason(signal) : new Error('response aborted')));
  });
}

// Reasons client-go's NewGenericServerResponse assigns when the body is not a Status.
const GENERIC: Record<number, [StatusReason, string]> = {
  400: ['BadRequest', 'the server rejected our request for an unknown reason'],
  401: ['Unauthorized', 'the server has asked for the client to provide credentials'],
  403: ['Forbidden', 'the server does not allow access to the requested resource'],
  404: ['NotFound', 'the server could not find the requested resource'],
  405: ['MethodNotAllowed', 'the server does not allow this method on the requested resource'],
  406: ['NotAcceptable', 'the server was unable to respond with a content type that the client supports'],
  409: ['Conflict', 'the server reported a conflict'],
  410: ['Gone', 'the server no longer has the requested resource'],
  413: ['RequestEntityTooLarge', 'the server has rejected the request because it is too large'],
  415: [
    'UnsupportedMediaType',
    'the server was unable to respond with a content type that the client supports',
  ],
  422: ['Invalid', 'the server rejected our request due to an error in our request'],
  429: ['TooManyRequests', 'the server has received too many requests and has asked us to try again later'],
  500: ['InternalError', 'an error on the server has prevented the request from succeeding'],
  503: ['ServiceUnavailable', 'the server is currently unable to handle the request'],
  504: [
    'Timeout',
    'the server was unable to return a response in the time allotted, but may still be processing the request',
  ],
};

/** Turns an error response into a StatusError, preferring the Status the server sent. */
export function decodeError(
  res: Pick<IncomingMessage, 'statusCode' | 'headers'>,
  body: Buffer,
  req?: RestRequest,
): StatusError {
  const code = res.statusCode ?? 0;
  const text = body.toString('utf8');
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (isStatus(parsed)) return statusToError(parsed, code);
  const [reason, message] = GENERIC[code] ?? [
    '',
    `an error on the server ("${text.slice(0, 200)}") has prevented the request from succeeding`,
  ];
  const retryAfter = retryAfterMs(res) / 1000;
  return new StatusError({
    code,
    reason,
    message:
      req !== undefined && text !== '' && GENERIC[code] !== undefined
        ? `${message} (${text.trim().slice(0, 200)})`
        : message,
    ...(retryAfter > 0 ? { details: { retryAfterSeconds: retryAfter } } : {}),
  });
}

/** True for a metav1.Status object. */
export function isStatus(v: unknown): v is Status {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'Status';
}

/** A StatusError carrying the given Status (code from the Status, else `fallbackCode`). */
export function statusToError(s: Status, fallbackCode = 500): StatusError {
  return new StatusError({
    code: typeof s.code === 'number' && s.code !== 0 ? s.code : fallbackCode,
    ...(s.reason !== undefined ? { reason: s.reason } : {}),
    ...(s.message !== undefined ? { message: s.message } : {}),
    ...(s.details !== undefined ? { details: s.details } : {}),
    ...(s.metadata !== undefined ? { metadata: s.metadata } : {}),
  });
}

// Node builds a TLS context (parsing the CA, certificate and key) for every connection it
// opens unless given one: ~25 clients of one process (a controller each) opening
// connections at start-up cost ~175 ms of main-thread CPU. Clients with the same
// credentials share one context.
const secureContexts = new Map<string, SecureContext>();

/** The TLS context of a config's CA, client certificate and key, built once per distinct set. */
function secureContextFor(c: RestConfig): SecureContext {
  const key = `${c.caData ?? ''}\0${c.certData ?? ''}\0${c.keyData ?? ''}`;
  let ctx = secureContexts.get(key);
  if (ctx === undefined) {
    ctx = createSecureContext({
      ...(c.caData !== undefined ? { ca: c.caData } : {}),
      ...(c.certData !== undefined ? { cert: c.certData } : {}),
      ...(c.keyData !== undefined ? { key: c.keyData } : {}),
    });
    secureContexts.set(key, ctx);
  }
  return ctx;
}
