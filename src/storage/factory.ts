// Opens a Storage from an endpoint string, the one knob `kts server` exposes:
//   memory://                                  in-process, for tests
//   sqlite:///abs/path/state.db[?options]      embedded default (sqlite://rel/path is relative to cwd)
//     options: sync=normal|full, keepRevisions=N, keepAgeSeconds=N, maxRevisions=N,
//              compactIntervalSeconds=N
//   etcd://host:port[,host:port…][?cacert=PATH&cert=PATH&key=PATH]
//     https is used when cacert is given; cert+key add client authentication.
//   http://host:port[,http://host:port…]  https://host:port[,https://host:port…][?cacert=…]
//     k3s's spelling of an etcd cluster (`--datastore-endpoint https://a:2379,https://b:2379`);
//     https needs cacert (the CA that signed the etcd servers).

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { EtcdStorage } from './etcd.js';
import { MemoryStorage } from './memory.js';
import type { CompactionPolicy } from './sqlite/compactor.js';
import { SqliteStorage, type SqliteStorageOptions } from './sqlite/sqlite-storage.js';
import { type Storage, StorageError } from './storage.js';

/** Extra settings that do not fit an endpoint string. */
export interface OpenStorageOptions {
  /** Receives background failures (sqlite compaction). */
  onError?: (err: unknown) => void;
}

/** Opens the store an endpoint names; the caller must `close()` it. */
export async function openStorage(endpoint: string, opts: OpenStorageOptions = {}): Promise<Storage> {
  const scheme = /^([a-z0-9]+):\/\//.exec(endpoint)?.[1];
  const rest = endpoint.slice((scheme?.length ?? 0) + 3);
  const q = rest.indexOf('?');
  const body = q < 0 ? rest : rest.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : rest.slice(q + 1));
  switch (scheme) {
    case 'memory':
      return new MemoryStorage();
    case 'sqlite':
      return new SqliteStorage(sqliteOptions(body, params, opts));
    case 'etcd':
      return openEtcd(etcdOptions(body, params));
    case 'http':
    case 'https': {
      const hosts = body.split(',').map((h) => h.replace(/^https?:\/\//, ''));
      if (scheme === 'https' && !params.has('cacert'))
        throw invalidEndpoint(endpoint, 'https etcd endpoints need ?cacert=PATH (the etcd CA)');
      return openEtcd(etcdOptions(hosts.join(','), params));
    }
    default:
      throw invalidEndpoint(
        endpoint,
        'expected memory://, sqlite://PATH, etcd://HOST:PORT[,HOST:PORT] or http(s)://HOST:PORT[,…]',
      );
  }
}

/**
 * Joins `--datastore-endpoint` values given repeatedly (or split at commas by the flag
 * parser) into one endpoint: `etcd://a:1`, `b:2` and `etcd://c:3` become `etcd://a:1,b:2,c:3`;
 * query parameters of every value are kept. One value is returned as it is.
 */
export function joinEndpoints(values: readonly string[]): string {
  const [first, ...more] = values;
  if (first === undefined) throw invalidEndpoint('', 'no endpoint given');
  if (more.length === 0) return first;
  let scheme: string | undefined;
  const hosts: string[] = [];
  const params = new URLSearchParams();
  for (const v of values) {
    const m = /^([a-z0-9]+):\/\//.exec(v);
    const s = m?.[1];
    if (s !== undefined) {
      if (scheme !== undefined && s !== scheme)
        throw invalidEndpoint(values.join(','), 'all endpoints must use one scheme');
      scheme = s;
    }
    const rest = m === null ? v : v.slice(m[0].length);
    const q = rest.indexOf('?');
    const body = q < 0 ? rest : rest.slice(0, q);
    if (q >= 0) for (const [k, val] of new URLSearchParams(rest.slice(q + 1))) params.set(k, val);
    hosts.push(
      ...body
        .split(',')
        .map((h) => h.replace(/^https?:\/\//, ''))
        .filter((h) => h !== ''),
    );
  }
  if (scheme === undefined) throw invalidEndpoint(values.join(','), 'no scheme given');
  if (scheme === 'sqlite' || scheme === 'memory')
    throw invalidEndpoint(values.join(','), `${scheme}:// takes a single endpoint`);
  const query = params.toString();
  return `${scheme}://${hosts.join(',')}${query === '' ? '' : `?${query}`}`;
}

function sqliteOptions(
  body: string,
  params: URLSearchParams,
  opts: OpenStorageOptions,
): SqliteStorageOptions {
  if (body === '') throw invalidEndpoint(`sqlite://${body}`, 'missing database path');
  const sync = params.get('sync') ?? 'normal';
  if (sync !== 'normal' && sync !== 'full')
    throw invalidEndpoint(`sqlite://${body}`, 'sync must be normal or full');
  const compaction: Partial<CompactionPolicy> = {};
  const num = (name: string, scale: number, set: (v: number) => void): void => {
    const raw = params.get(name);
    if (raw === null) return;
    const v = Number(raw);
    if (!Number.isFinite(v) || v < 0)
      throw invalidEndpoint(`sqlite://${body}`, `${name} must be a number >= 0`);
    set(v * scale);
  };
  num('keepRevisions', 1, (v) => {
    compaction.keepRevisions = v;
  });
  num('maxRevisions', 1, (v) => {
    compaction.maxRevisions = v;
  });
  num('keepAgeSeconds', 1000, (v) => {
    compaction.keepAgeMs = v;
  });
  num('compactIntervalSeconds', 1000, (v) => {
    compaction.intervalMs = v;
  });
  return {
    path: resolve(body),
    sync,
    compaction,
    ...(opts.onError && { onError: opts.onError }),
  };
}

// The etcd client (etcd3 with its gRPC and protobuf stack: ~100 ms and ~19 MB to load) is
// loaded only for an etcd endpoint; the sqlite default never needs it.
async function openEtcd(opts: ConstructorParameters<typeof EtcdStorage>[0]): Promise<Storage> {
  const { EtcdStorage } = await import('./etcd.js');
  return new EtcdStorage(opts);
}

function etcdOptions(body: string, params: URLSearchParams): ConstructorParameters<typeof EtcdStorage>[0] {
  const hosts = body.split(',').filter((h) => h !== '');
  if (hosts.length === 0) throw invalidEndpoint(`etcd://${body}`, 'no host:port given');
  const cacert = params.get('cacert');
  const cert = params.get('cert');
  const key = params.get('key');
  if ((cert === null) !== (key === null)) throw invalidEndpoint(`etcd://${body}`, 'cert and key go together');
  const scheme = cacert === null ? 'http' : 'https';
  return {
    endpoints: hosts.map((h) => `${scheme}://${h}`),
    ...(cacert !== null && {
      tls: {
        ca: readFileSync(cacert),
        ...(cert !== null && { cert: readFileSync(cert) }),
        ...(key !== null && { key: readFileSync(key) }),
      },
    }),
  };
}

function invalidEndpoint(endpoint: string, why: string): StorageError {
  return new StorageError('InvalidArgument', `invalid storage endpoint ${JSON.stringify(endpoint)}: ${why}`);
}
