// The verbs of one resource over the REST client: URL layout, query options and watch
// stream decoding. A watch is one long GET whose body is newline-delimited JSON events;
// the generator yields them as they arrive and ends (without error) when the server closes
// the stream or the caller's signal aborts. A broken connection throws, so the caller
// (the reflector) can resume from the last resourceVersion it saw.
import type { IncomingMessage } from 'node:http';
import { isAbortError } from './clock.js';
import {
  type DeleteOptions,
  type GetOptions,
  type GroupVersionResource,
  type KubeObject,
  type ListOptions,
  type ObjectList,
  PATCH_CONTENT_TYPES,
  type PatchOptions,
  type PatchType,
  type ResourceClient,
  resourcePath,
  type WatchEvent,
  type WatchEventType,
  type WriteOptions,
} from './interface.js';
import { isStatus, type QueryValue, type RestClient, statusToError } from './rest-client.js';

/** Accept headers of a resource client: for single objects (and watch events) and for lists. */
export interface AcceptHeaders {
  object: string;
  list: string;
}

/** ResourceClient over HTTP. */
export class RestResourceClient<T extends KubeObject> implements ResourceClient<T> {
  private readonly objectAccept: { accept?: string };
  private readonly listAccept: { accept?: string };

  /** Verbs of `gvr` through `rest`; `accept` asks for another representation (metadata only). */
  constructor(
    private readonly rest: RestClient,
    readonly gvr: GroupVersionResource,
    accept?: AcceptHeaders,
  ) {
    this.objectAccept = accept !== undefined ? { accept: accept.object } : {};
    this.listAccept = accept !== undefined ? { accept: accept.list } : {};
  }

  get(namespace: string, name: string, opts: GetOptions = {}): Promise<T> {
    return this.rest.request<T>({
      method: 'GET',
      path: resourcePath(this.gvr, namespace, requireName(name), opts.subresource),
      query: { resourceVersion: opts.resourceVersion },
      ...this.objectAccept,
      ...signalOf(opts),
    });
  }

  list(namespace: string, opts: ListOptions = {}): Promise<ObjectList<T>> {
    return this.rest.request<ObjectList<T>>({
      method: 'GET',
      path: resourcePath(this.gvr, namespace),
      query: listQuery(opts),
      ...this.listAccept,
      ...signalOf(opts),
    });
  }

  watch(namespace: string, opts: ListOptions = {}): AsyncIterable<WatchEvent<T>> {
    return watchStream<T>(this.rest, resourcePath(this.gvr, namespace), opts, this.objectAccept.accept);
  }

  create(namespace: string, obj: T, opts: WriteOptions = {}): Promise<T> {
    const path =
      opts.subresource !== undefined
        ? resourcePath(this.gvr, namespace, requireName(obj.metadata?.name ?? ''), opts.subresource)
        : resourcePath(this.gvr, namespace);
    return this.rest.request<T>({
      method: 'POST',
      path,
      query: writeQuery(opts),
      body: obj,
      ...this.objectAccept,
      ...signalOf(opts),
    });
  }

  update(namespace: string, obj: T, opts: WriteOptions = {}): Promise<T> {
    return this.rest.request<T>({
      method: 'PUT',
      path: resourcePath(this.gvr, namespace, requireName(obj.metadata?.name ?? ''), opts.subresource),
      query: writeQuery(opts),
      body: obj,
      ...this.objectAccept,
      ...signalOf(opts),
    });
  }

  updateStatus(namespace: string, obj: T, opts: WriteOptions = {}): Promise<T> {
    return this.update(namespace, obj, { ...opts, subresource: 'status' });
  }

  patch(
    namespace: string,
    name: string,
    type: PatchType,
    body: unknown,
    opts: PatchOptions = {},
  ): Promise<T> {
    const query = writeQuery(opts);
    if (opts.force !== undefined) query.force = opts.force;
    return this.rest.request<T>({
      method: 'PATCH',
      path: resourcePath(this.gvr, namespace, requireName(name), opts.subresource),
      query,
      body,
      contentType: PATCH_CONTENT_TYPES[type],
      ...this.objectAccept,
      ...signalOf(opts),
    });
  }

  async delete(namespace: string, name: string, opts: DeleteOptions = {}): Promise<void> {
    await this.rest.request({
      method: 'DELETE',
      path: resourcePath(this.gvr, namespace, requireName(name)),
      body: deleteBody(opts),
      ...signalOf(opts),
    });
  }

  async deleteCollection(namespace: string, opts: DeleteOptions & ListOptions = {}): Promise<void> {
    await this.rest.request({
      method: 'DELETE',
      path: resourcePath(this.gvr, namespace),
      query: listQuery(opts),
      body: deleteBody(opts),
      ...signalOf(opts),
    });
  }
}

function requireName(name: string): string {
  // An empty name would turn an object verb into a collection verb.
  if (name === '') throw new Error('resource name may not be empty');
  return name;
}

function signalOf(opts: { signal?: AbortSignal }): { signal?: AbortSignal } {
  return opts.signal !== undefined ? { signal: opts.signal } : {};
}

/** The query parameters of metav1.ListOptions. */
export function listQuery(opts: ListOptions): Record<string, QueryValue> {
  return {
    labelSelector: nonEmpty(opts.labelSelector),
    fieldSelector: nonEmpty(opts.fieldSelector),
    limit: opts.limit !== undefined && opts.limit > 0 ? opts.limit : undefined,
    continue: nonEmpty(opts.continue),
    resourceVersion: opts.resourceVersion,
    resourceVersionMatch: opts.resourceVersionMatch,
    timeoutSeconds: opts.timeoutSeconds,
    allowWatchBookmarks: opts.allowWatchBookmarks === true ? true : undefined,
    sendInitialEvents: opts.sendInitialEvents,
  };
}

function writeQuery(opts: WriteOptions): Record<string, QueryValue> {
  return {
    dryRun: opts.dryRun === true ? 'All' : undefined,
    fieldManager: nonEmpty(opts.fieldManager),
    fieldValidation: opts.fieldValidation,
  };
}

function deleteBody(opts: DeleteOptions): Record<string, unknown> {
  return {
    kind: 'DeleteOptions',
    apiVersion: 'v1',
    ...(opts.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: opts.gracePeriodSeconds } : {}),
    ...(opts.propagationPolicy !== undefined ? { propagationPolicy: opts.propagationPolicy } : {}),
    ...(opts.preconditions !== undefined ? { preconditions: opts.preconditions } : {}),
    ...(opts.dryRun === true ? { dryRun: ['All'] } : {}),
  };
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s === '' ? undefined : s;
}

const EVENT_TYPES = new Set<string>(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']);

/** Opens a watch on a collection path and yields its decoded events. */
export async function* watchStream<T>(
  rest: RestClient,
  path: string,
  opts: ListOptions,
  accept?: string,
): AsyncGenerator<WatchEvent<T>, void, undefined> {
  // Our own controller lets `return()` (a consumer breaking out) close the connection.
  const ac = new AbortController();
  const outer = opts.signal;
  const onAbort = (): void => ac.abort(outer?.reason);
  if (outer?.aborted) return;
  outer?.addEventListener('abort', onAbort, { once: true });
  let res: IncomingMessage | undefined;
  try {
    res = await rest.stream({
      method: 'GET',
      path,
      query: { ...listQuery(opts), watch: true },
      signal: ac.signal,
      noRetry: true,
      ...(accept !== undefined ? { accept } : {}),
    });
    yield* decodeLines<T>(res);
  } catch (err) {
    if (ac.signal.aborted && (isAbortError(err) || isConnectionClosed(err))) return;
    throw err;
  } finally {
    outer?.removeEventListener('abort', onAbort);
    if (!ac.signal.aborted) ac.abort();
    res?.destroy();
  }
}

function isConnectionClosed(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return (
    code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || (err as Error).message === 'aborted'
  );
}

async function* decodeLines<T>(res: IncomingMessage): AsyncGenerator<WatchEvent<T>, void, undefined> {
  res.setEncoding('utf8');
  let buf = '';
  for await (const chunk of res as AsyncIterable<string>) {
    buf += chunk;
    let nl = buf.indexOf('\n');
    if (nl < 0) continue;
    let start = 0;
    while (nl >= 0) {
      const line = buf.slice(start, nl);
      start = nl + 1;
      if (line.trim() !== '') yield parseEvent<T>(line);
      nl = buf.indexOf('\n', start);
    }
    buf = buf.slice(start);
  }
  if (buf.trim() !== '') yield parseEvent<T>(buf);
}

/** Decodes one JSON watch event line. */
export function parseEvent<T>(line: string): WatchEvent<T> {
  const raw = JSON.parse(line) as { type?: unknown; object?: unknown };
  const type = typeof raw.type === 'string' ? raw.type : '';
  if (!EVENT_TYPES.has(type)) throw new Error(`watch: unknown event type ${JSON.stringify(raw.type)}`);
  if (type === 'ERROR') {
    const obj = raw.object;
    const status = isStatus(obj)
      ? obj
      : {
          kind: 'Status' as const,
          apiVersion: 'v1' as const,
          metadata: {},
          status: 'Failure' as const,
          code: 500,
          message: JSON.stringify(obj),
        };
    return { type: 'ERROR', object: status, error: statusToError(status) };
  }
  return { type: type as Exclude<WatchEventType, 'ERROR'>, object: raw.object as T };
}
