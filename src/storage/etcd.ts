// The etcd v3 backend: the Storage contract mapped 1:1 onto etcd's KV and Watch APIs.
//
// - create = Txn(If CreateRevision(key) == 0 Then Put Else Range);
//   update = Txn(If ModRevision(key) == expected Then Put(prev_kv) Else Range), or
//   If CreateRevision(key) > 0 when unconditional; delete likewise with DeleteRange(prev_kv).
//   Every write is guarded by a compare, so the client library's retry of a request whose
//   outcome was lost can never apply a write twice.
// - Reads are linearizable Ranges (at a revision when asked).
// - watch(prefix, {fromRevision: R}) opens an etcd watch at start_revision R (etcd's start
//   is inclusive) and drops events at R itself: that gives our "events after R" semantics
//   and etcd's own compaction check (R < compact revision fails) at the same boundary as
//   the other backends. A lost watch stream fails the watch with `Unavailable` rather than
//   letting the client library resubscribe on its own, which could skip events.
//
// Requests go through etcd3's generated KV client (no builder layer); watches use its
// multiplexed watch manager (one gRPC stream for all watches of the store).

import {
  Etcd3,
  type IKeyValue,
  type IOptions,
  type IWatchResponse,
  type KVClient,
  type Watcher,
} from 'etcd3';
import { checkKey, decodeContinue, encodeContinue, normaliseLimit, prefixEnd } from './key-range.js';
import {
  conflict,
  type DeleteResult,
  keyExists,
  type KeyValue,
  keyNotFound,
  type ListOptions,
  type ListResult,
  type Revision,
  type Storage,
  StorageError,
  unavailable,
  type Watch,
  type WatchEvent,
  type WatchOptions,
} from './storage.js';
import { BoundedWatch } from './watch-hub.js';

/** Options of an etcd store. */
export interface EtcdStorageOptions {
  /** Client URLs, e.g. `http://127.0.0.1:2379` (https when `tls` is set). */
  endpoints: string[];
  /** TLS material (PEM): the CA that signed the servers, and an optional client cert/key. */
  tls?: { ca: Buffer; cert?: Buffer; key?: Buffer };
  /** How long a call waits for a connection (ms). */
  dialTimeoutMs?: number;
}

/** The Storage on a real etcd v3 cluster. */
export class EtcdStorage implements Storage {
  /** See `Storage.promptProgress`. */
  readonly promptProgress = false;
  private readonly client: Etcd3;
  private readonly kv: KVClient;
  private readonly watches = new Set<BoundedWatch>();
  private readonly cancelling = new Set<Promise<void>>();
  private closed = false;
  private knownCompactRev = 0;

  constructor(opts: EtcdStorageOptions) {
    const options: IOptions = {
      hosts: opts.endpoints,
      dialTimeout: opts.dialTimeoutMs ?? 10_000,
      // Lists of large objects exceed gRPC's 4 MiB default message size.
      grpcOptions: { 'grpc.max_receive_message_length': 2 ** 31 - 1 },
    };
    if (opts.tls) {
      options.credentials = {
        rootCertificate: opts.tls.ca,
        ...(opts.tls.cert && { certChain: opts.tls.cert }),
        ...(opts.tls.key && { privateKey: opts.tls.key }),
      };
    }
    this.client = new Etcd3(options);
    this.kv = this.client.kv;
  }

  async create(key: string, value: Uint8Array): Promise<KeyValue> {
    this.checkOpen();
    checkKey(key);
    const k = Buffer.from(key);
    const res = await this.call(() =>
      this.kv.txn({
        compare: [{ key: k, target: 'Create', result: 'Equal', create_revision: 0 }],
        success: [{ request_put: { key: k, value: toBuffer(value) } }],
        failure: [{ request_range: { key: k } }],
      }),
    );
    if (!res.succeeded) {
      const cur = res.responses[0]?.response_range.kvs[0];
      throw keyExists(key, cur && toKv(cur));
    }
    const rev = Number(res.header.revision);
    return { key, value, createRevision: rev, modRevision: rev };
  }

  async get(key: string, opts: { revision?: Revision } = {}): Promise<KeyValue | undefined> {
    this.checkOpen();
    checkKey(key);
    const revision = checkRevision(opts.revision);
    const res = await this.call(() =>
      this.kv.range({ key: Buffer.from(key), ...(revision && { revision }) }),
    );
    const kv = res.kvs[0];
    return kv && toKv(kv);
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    this.checkOpen();
    const limit = normaliseLimit(opts.limit);
    let start = prefix;
    let revision = checkRevision(opts.revision);
    if (opts.continue) {
      const c = decodeContinue(opts.continue, prefix);
      start = `${c.key}\0`;
      revision = c.revision;
    }
    const res = await this.call(() =>
      this.kv.range({
        ...rangeOf(start, prefix),
        ...(revision && { revision }),
        ...(limit !== undefined && { limit }),
      }),
    );
    const at = revision || Number(res.header.revision);
    const items = res.kvs.map(toKv);
    if (limit !== undefined && res.more && items.length > 0) {
      const last = items[items.length - 1]!.key;
      return { items, revision: at, continue: encodeContinue({ key: last, revision: at, prefix }) };
    }
    return { items, revision: at };
  }

  async count(prefix: string): Promise<number> {
    this.checkOpen();
    const res = await this.call(() => this.kv.range({ ...rangeOf(prefix, prefix), count_only: true }));
    return Number(res.count);
  }

  async update(key: string, value: Uint8Array, expectedModRevision?: Revision): Promise<KeyValue> {
    this.checkOpen();
    checkKey(key);
    const k = Buffer.from(key);
    const res = await this.call(() =>
      this.kv.txn({
        compare: [guard(k, expectedModRevision)],
        success: [{ request_put: { key: k, value: toBuffer(value), prev_kv: true } }],
        failure: [{ request_range: { key: k } }],
      }),
    );
    if (!res.succeeded)
      throw this.casFailure(key, expectedModRevision, res.responses[0]?.response_range.kvs[0]);
    const prev = res.responses[0]?.response_put.prev_kv;
    const rev = Number(res.header.revision);
    return { key, value, createRevision: prev ? Number(prev.create_revision) : rev, modRevision: rev };
  }

  async delete(key: string, expectedModRevision?: Revision): Promise<DeleteResult> {
    this.checkOpen();
    checkKey(key);
    const k = Buffer.from(key);
    const res = await this.call(() =>
      this.kv.txn({
        compare: [guard(k, expectedModRevision)],
        success: [{ request_delete_range: { key: k, prev_kv: true } }],
        failure: [{ request_range: { key: k } }],
      }),
    );
    if (!res.succeeded)
      throw this.casFailure(key, expectedModRevision, res.responses[0]?.response_range.kvs[0]);
    const prev = res.responses[0]?.response_delete_range.prev_kvs[0];
    if (!prev) throw keyNotFound(key);
    return { prev: toKv(prev), revision: Number(res.header.revision) };
  }

  watch(prefix: string, opts: WatchOptions = {}): Watch {
    const from = opts.fromRevision;
    let floor = from ?? 0;
    let watcher: Watcher | undefined;
    let serverEnded = false;
    const w: BoundedWatch = new BoundedWatch({
      fromRevision: from ?? 0,
      ...(opts.bufferSize !== undefined && { bufferSize: opts.bufferSize }),
      ...(opts.signal && { signal: opts.signal }),
      progressFloor: () => floor,
      onStop: () => {
        this.watches.delete(w);
        // Always detach from the client's watch manager: a watcher left attached when the
        // client closes makes it retry the stream forever.
        if (watcher && !serverEnded) {
          const done: Promise<void> = watcher
            .cancel()
            .catch(() => {})
            .finally(() => this.cancelling.delete(done));
          this.cancelling.add(done);
        }
      },
    });
    if (this.closed) {
      w.fail(unavailable('storage is closed'));
      return w;
    }
    if (from !== undefined && (!Number.isSafeInteger(from) || from < 0)) {
      w.fail(new StorageError('InvalidArgument', `invalid watch revision ${from}`));
      return w;
    }
    if (w.isStopped) return w;
    this.watches.add(w);
    const range = rangeOf(prefix, prefix);
    const builder = this.client.watch().inRange({ start: range.key, end: range.range_end }).withPreviousKV();
    // etcd's start is inclusive and 0 means "now": start at `from` and drop events at it.
    if (from !== undefined) builder.startRevision(String(Math.max(from, 1)));
    watcher = builder.watcher();
    watcher.on('connected', (res: IWatchResponse) => {
      if (from === undefined) floor = Math.max(floor, Number(res.header.revision));
    });
    watcher.on('data', (res: IWatchResponse) => {
      if (res.events.length === 0) {
        // A progress notification: everything up to the header revision was sent.
        floor = Math.max(floor, Number(res.header.revision));
        return;
      }
      for (const ev of res.events) w.push(toEvent(ev.type, ev.kv, ev.prev_kv));
    });
    watcher.on('disconnected', (err: Error) => {
      w.fail(unavailable(`etcd watch stream lost; re-list and watch again: ${err.message}`, err));
    });
    watcher.on('error', (err: Error) => {
      serverEnded = true;
      // etcd cancels a watch whose start was compacted without saying so in a form the
      // client library keeps; ask etcd directly whether that revision is still readable.
      this.explainWatchCancel(Math.max(from ?? 1, 1), err).then((e) => w.fail(e));
    });
    return w;
  }

  async compact(revision: Revision): Promise<void> {
    this.checkOpen();
    if (!Number.isSafeInteger(revision) || revision <= 0) {
      throw new StorageError('InvalidArgument', `invalid revision ${revision}`);
    }
    await this.call(() => this.kv.compact({ revision, physical: true }));
    this.knownCompactRev = Math.max(this.knownCompactRev, revision);
  }

  async currentRevision(): Promise<Revision> {
    this.checkOpen();
    const res = await this.call(() => this.kv.range({ key: Buffer.from('\0'), count_only: true }));
    return Number(res.header.revision);
  }

  /** The highest compact revision this client performed or observed (etcd has no query for it). */
  async compactRevision(): Promise<Revision> {
    return this.knownCompactRev;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of [...this.watches]) w.fail(unavailable('storage is closed'));
    this.watches.clear();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(this.cancelling),
      new Promise((r) => {
        timer = setTimeout(r, 2000);
      }),
    ]);
    clearTimeout(timer);
    this.client.close();
  }

  private checkOpen(): void {
    if (this.closed) throw unavailable('storage is closed');
  }

  private casFailure(key: string, expected: Revision | undefined, cur: IKeyValue | undefined): StorageError {
    if (!cur) return keyNotFound(key);
    // The compare only fails on a live key when the expected revision was given.
    return conflict(key, expected ?? 0, toKv(cur));
  }

  private async explainWatchCancel(start: Revision, cause: Error): Promise<StorageError> {
    try {
      await this.call(() => this.kv.range({ key: Buffer.from('\0'), revision: start, count_only: true }));
    } catch (err) {
      if (err instanceof StorageError && err.code === 'Compacted') return err;
    }
    return unavailable(`etcd cancelled the watch: ${cause.message}`, cause);
  }

  /** Runs one RPC, translating etcd's errors into StorageErrors. */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.translate(err);
    }
  }

  private translate(err: unknown): StorageError {
    if (err instanceof StorageError) return err;
    const msg = err instanceof Error ? err.message : String(err);
    // etcd reports these as gRPC OUT_OF_RANGE / INVALID_ARGUMENT with fixed messages
    // (mvcc.ErrCompacted, mvcc.ErrFutureRev, ErrRequestTooLarge); the message is the only
    // discriminator the protocol offers.
    if (msg.includes('required revision has been compacted')) {
      return new StorageError('Compacted', 'etcd: required revision has been compacted', { cause: err });
    }
    if (msg.includes('required revision is a future revision')) {
      return new StorageError('FutureRevision', 'etcd: required revision is a future revision', {
        cause: err,
      });
    }
    if (msg.includes('request is too large')) {
      return new StorageError('InvalidArgument', 'etcd: request is too large', { cause: err });
    }
    if (this.closed) return unavailable('storage is closed', err);
    return unavailable(`etcd: ${msg}`, err);
  }
}

function toBuffer(v: Uint8Array): Buffer {
  return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

/** The etcd range covering keys >= start that start with prefix. */
function rangeOf(start: string, prefix: string): { key: Buffer; range_end: Buffer } {
  const end = prefixEnd(prefix);
  // An empty start is not a valid etcd key; "\0" is the smallest one. range_end "\0" = no bound.
  return {
    key: Buffer.from(start === '' ? '\0' : start),
    range_end: Buffer.from(end === undefined ? '\0' : end),
  };
}

function guard(key: Buffer, expected: Revision | undefined) {
  return expected === undefined
    ? { key, target: 'Create' as const, result: 'Greater' as const, create_revision: 0 }
    : { key, target: 'Mod' as const, result: 'Equal' as const, mod_revision: expected };
}

function checkRevision(rev: Revision | undefined): Revision {
  if (rev === undefined) return 0;
  if (!Number.isSafeInteger(rev) || rev < 0)
    throw new StorageError('InvalidArgument', `invalid revision ${rev}`);
  return rev;
}

function toKv(kv: IKeyValue): KeyValue {
  return {
    key: kv.key.toString(),
    value: kv.value,
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
  };
}

function toEvent(type: string, kv: IKeyValue, prev: IKeyValue | undefined): WatchEvent {
  const key = kv.key.toString();
  const modRevision = Number(kv.mod_revision);
  if (type === 'Delete') {
    const value = prev?.value ?? new Uint8Array(0);
    const createRevision = prev ? Number(prev.create_revision) : 0;
    return { type: 'DELETED', key, value, prevValue: value, modRevision, createRevision };
  }
  const createRevision = Number(kv.create_revision);
  if (createRevision === modRevision)
    return { type: 'ADDED', key, value: kv.value, modRevision, createRevision };
  return prev
    ? { type: 'MODIFIED', key, value: kv.value, prevValue: prev.value, modRevision, createRevision }
    : { type: 'MODIFIED', key, value: kv.value, modRevision, createRevision };
}
