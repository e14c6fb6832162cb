// The request/response surface shared by HTTP/1.1 and HTTP/2 (node's compat API): the
// API server's handlers see only these small interfaces, so tests can drive them without
// sockets and both protocols take one code path.
import type { IncomingHttpHeaders } from 'node:http';
import { encodeYAMLValue } from './yaml-output.js';
import { requestEntityTooLarge, type Status, StatusError, toStatusError } from '../machinery/status-error.js';

/** The response methods kts uses; both ServerResponse and Http2ServerResponse have them. */
export interface RawResponse {
  statusCode: number;
  headersSent: boolean;
  setHeader(name: string, value: string | string[]): unknown;
  write(chunk: string | Uint8Array): boolean;
  end(chunk?: string | Uint8Array): unknown;
  on(event: 'close', listener: () => void): unknown;
  /** Bytes buffered but not yet sent (both response kinds have it). */
  readonly writableLength?: number;
}

/** The request methods kts uses; both IncomingMessage and Http2ServerRequest have them. */
export interface RawRequest extends AsyncIterable<Buffer | string> {
  method?: string;
  url?: string;
  headers: IncomingHttpHeaders;
}

/** The upstream limit on request bodies (3 MiB). */
export const MAX_REQUEST_BODY_BYTES = 3 * 1024 * 1024;

/** Reads a request body, refusing more than `limit` bytes with 413. */
export async function readBody(req: RawRequest, limit = MAX_REQUEST_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limit) throw requestEntityTooLarge(`limit is ${limit}`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    const b = typeof c === 'string' ? Buffer.from(c) : c;
    size += b.length;
    if (size > limit) throw requestEntityTooLarge(`limit is ${limit}`);
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/** Writes a JSON (or YAML) body with a status code. */
export function writeObject(
  res: RawResponse,
  code: number,
  obj: unknown,
  mediaType = 'application/json',
): void {
  res.statusCode = code;
  if (mediaType === 'application/yaml') {
    res.setHeader('Content-Type', 'application/yaml');
    res.end(encodeYAMLValue(obj));
    return;
  }
  res.setHeader('Content-Type', mediaType);
  res.end(JSON.stringify(obj));
}

/** Writes a metav1.Status for an error (any thrown value becomes a 500 Status). */
export function writeError(res: RawResponse, err: unknown): void {
  const se = toStatusError(err);
  if (res.headersSent) {
    res.end();
    return;
  }
  if (se.status.details?.retryAfterSeconds)
    res.setHeader('Retry-After', String(se.status.details.retryAfterSeconds));
  writeObject(res, se.code, se.status);
}

/** Writes plain text. */
export function writeText(res: RawResponse, code: number, text: string): void {
  res.statusCode = code;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.end(text);
}

/** A success Status (as returned by some deletes). */
export function successStatus(details?: Status['details']): Status {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    ...(details ? { details } : {}),
    code: 200,
  };
}

export { StatusError };
