// WATCH: newline-delimited JSON events over a chunked (HTTP/1.1) or streamed (HTTP/2)
// response. Events come from the watch cache (or straight from storage when the client
// resumes from a revision older than the cache holds). Selector transitions follow
// upstream: an object that stops matching is reported DELETED, one that starts matching
// ADDED. A slow client is disconnected rather than buffered without bound.
import { resourceExpired, type Status, toStatusError } from '../../machinery/status-error.js';
import { StorageError } from '../../storage/storage.js';
import type { RawResponse } from '../http.js';
import type { Representation } from '../negotiation.js';
import { buildTableFor, type IncludeObject } from '../printers/index.js';
import type { ListQuery } from '../registry/list-options.js';
import { parseRV } from '../registry/list-options.js';
import type { KObject } from '../registry/object.js';
import type { Store } from '../registry/store.js';
import type { CacheEntry, CacheEvent } from '../registry/watch-cache.js';
import { apiVersionOf, partial, withTypeMeta } from './render.js';

/** Most bytes a watch may have queued for a slow client before it is closed. */
const MAX_BUFFERED_BYTES = 32 * 1024 * 1024;
const BOOKMARK_INTERVAL_MS = 60_000;

/** What a watch needs besides the store. */
export interface WatchRequest {
  namespace: string;
  query: ListQuery;
  rep: Representation;
  includeObject: IncludeObject;
  res: RawResponse;
  /** Aborted when the client goes away or the server shuts down. */
  signal: AbortSignal;
  now: () => Date;
}

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

// One framed line per (entry, event type), shared by every watcher of that event; entries
// are immutable, and the map lets a line die with its entry.
const framed = new WeakMap<CacheEntry, { type: string; line: string }>();

function framedEvent(type: 'ADDED' | 'MODIFIED' | 'DELETED', e: CacheEntry): string {
  const f = framed.get(e);
  if (f !== undefined && f.type === type) return f.line;
  const line = `{"type":"${type}","object":${e.json}}\n`;
  framed.set(e, { type, line });
  return line;
}

/** Serves one watch request until timeout, client disconnect or error. */
export async function serveWatch(store: Store, w: WatchRequest): Promise<void> {
  const r = store.resource;
  const q = w.query;
  store.checkFieldSelector(q);
  await store.start();
  const prefix = store.namespacePrefix(w.namespace);

  const res = w.res;
  res.statusCode = 200;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Cache-Control', 'no-cache, private');
  // Send the headers now, as upstream flushes right after WriteHeader: clients (client-node's
  // Watch, informers) return from starting a watch only once the response has begun, so
  // holding the headers until the first event would stall a watch on a quiet resource.
  // An empty write flushes them on both HTTP/1.1 and HTTP/2 without adding a chunk.
  res.write('');
  let ended = false;
  let tableHeaderSent = false;
  const cleanups: Array<() => void> = [];
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const end = (): void => {
    if (ended) return;
    ended = true;
    for (const c of cleanups) c();
    res.end();
    finish();
  };

  const send = (type: EventType, object: unknown): void => {
    if (ended) return;
    res.write(`${JSON.stringify({ type, object })}\n`);
    if ((res.writableLength ?? 0) > MAX_BUFFERED_BYTES) end();
  };
  const render = (obj: KObject): unknown => {
    if (w.rep.kind === 'table') {
      const t = buildTableFor(r, [obj], {
        includeObject: w.includeObject,
        now: w.now(),
        version: w.rep.version,
        omitHeaders: tableHeaderSent,
      });
      tableHeaderSent = true;
      return t;
    }
    if (w.rep.kind === 'partial') return partial(obj, w.rep.version);
    return withTypeMeta(obj, r);
  };
  // Plain JSON watchers of an object served in its stored version share one framed line
  // per event, built from the cache's JSON: no per-watcher stringify of the object.
  const shareable = w.rep.kind === 'object';
  const sendEntry = (type: 'ADDED' | 'MODIFIED' | 'DELETED', e: CacheEntry): void => {
    if (ended) return;
    if (!shareable || e.obj.apiVersion !== apiVersionOf(r) || e.obj.kind !== r.kind) {
      send(type, render(e.obj));
      return;
    }
    res.write(framedEvent(type, e));
    if ((res.writableLength ?? 0) > MAX_BUFFERED_BYTES) end();
  };
  const sendError = (status: Status): void => send('ERROR', status);
  const bookmark = (rv: number, extra?: Record<string, string>): void => {
    // A metadata-only watch gets its bookmarks as PartialObjectMetadata too, as upstream.
    const partialVersion = w.rep.kind === 'partial' ? w.rep.version : undefined;
    send('BOOKMARK', {
      kind: partialVersion !== undefined ? 'PartialObjectMetadata' : r.kind,
      apiVersion: partialVersion !== undefined ? `meta.k8s.io/${partialVersion}` : apiVersionOf(r),
      metadata: {
        resourceVersion: String(rv),
        creationTimestamp: null,
        ...(extra ? { annotations: extra } : {}),
      },
    });
  };

  // Events at or before the revision the client resumes from were already seen (the cache
  // may lag a list that was read from storage).
  let resumeRV = 0;
  const onEvent = (ev: CacheEvent): void => {
    if (ev.rv <= resumeRV || !ev.cur.key.startsWith(prefix)) return;
    const filtered = !(q.labelSelector.empty() && q.fieldSelector.empty());
    if (!filtered) {
      sendEntry(ev.type, ev.cur);
      return;
    }
    const curMatch = ev.type !== 'DELETED' && store.matches(ev.cur.obj, q);
    const prevMatch =
      ev.type === 'DELETED'
        ? store.matches(ev.cur.obj, q)
        : ev.prev !== undefined && store.matches(ev.prev.obj, q);
    if (ev.type === 'DELETED') {
      if (prevMatch) sendEntry('DELETED', ev.cur);
    } else if (curMatch && prevMatch) sendEntry('MODIFIED', ev.cur);
    else if (curMatch) sendEntry('ADDED', ev.cur);
    else if (prevMatch) sendEntry('DELETED', ev.cur);
  };
  const listener = {
    event: onEvent,
    terminate: (reason: string) => {
      sendError(resourceExpired(`watch of ${r.plural} ended: ${reason}`).status);
      end();
    },
  };

  w.signal.addEventListener('abort', end, { once: true });
  res.on('close', end);
  const timeoutMs =
    (q.timeoutSeconds !== undefined && q.timeoutSeconds > 0
      ? q.timeoutSeconds
      : 1800 + Math.random() * 1800) * 1000;
  const timer = setTimeout(end, timeoutMs);
  cleanups.push(() => clearTimeout(timer));

  const rv = q.resourceVersion;
  const initialEvents = q.sendInitialEvents ?? (rv === '' || rv === '0');
  if (q.sendInitialEvents === true && rv !== '' && rv !== '0') {
    const want = parseRV(rv);
    await store.cache.waitFor(want);
  }
  let lastRV = 0;
  if (initialEvents || rv === '' || rv === '0') {
    const sub = store.cache.snapshotAndSubscribe(prefix, listener);
    if (!sub) {
      sendError(resourceExpired('the watch cache is re-initializing; retry').status);
      end();
      return done;
    }
    cleanups.push(sub.unsubscribe);
    if (initialEvents) for (const e of sub.items) if (store.matches(e.obj, q)) sendEntry('ADDED', e);
    lastRV = sub.rv;
    if (q.sendInitialEvents === true) bookmark(sub.rv, { 'k8s.io/initial-events-end': 'true' });
  } else {
    const from = parseRV(rv);
    resumeRV = from;
    const sub = store.cache.subscribe(from, listener);
    if (sub) {
      cleanups.push(sub.unsubscribe);
      for (const ev of sub.replay) onEvent(ev);
    } else {
      // Older than the cache holds: stream from storage, which knows whether that history
      // still exists.
      const ac = new AbortController();
      cleanups.push(() => ac.abort());
      const sw = store.storage.watch(prefix, { fromRevision: from, signal: ac.signal });
      void (async () => {
        try {
          for await (const ev of sw) {
            const cur = store.decodeEntry(ev.key, ev.value, ev.modRevision);
            const prev: CacheEntry | undefined = ev.prevValue
              ? store.decodeEntry(ev.key, ev.prevValue, ev.modRevision)
              : undefined;
            onEvent({ type: ev.type, rv: ev.modRevision, cur, ...(prev ? { prev } : {}) });
          }
        } catch (err) {
          if (err instanceof StorageError && err.code === 'Compacted') {
            const oldest = store.cache.oldestResumableRV();
            sendError(resourceExpired(`too old resource version: ${from} (${oldest})`).status);
          } else sendError(toStatusError(err).status);
        }
        end();
      })();
    }
    lastRV = from;
  }
  if (q.allowWatchBookmarks) {
    const t = setInterval(() => {
      lastRV = Math.max(lastRV, store.cache.currentRV());
      bookmark(lastRV);
    }, BOOKMARK_INTERVAL_MS);
    cleanups.push(() => clearInterval(t));
  }
  return done;
}
