// The master-endpoints reconciler: keeps the `kubernetes` Service's Endpoints and
// EndpointSlice listing every live API server of the cluster. Each API server holds an
// identity Lease `apiserver-<hash>` in kube-system (label apiserver.kubernetes.io/identity,
// as upstream's APIServerIdentity) and renews it every interval; the endpoints are rebuilt
// from the Leases that have not expired, and expired ones are deleted (upstream's
// apiserverleasegc), so a server that dies without saying goodbye drops out after one lease
// duration. Upstream's lease reconciler keeps the addresses under /masterleases/<ip> with a
// TTL; kts keeps address and port as annotations on the identity Lease instead, so one object
// carries both jobs and every API server of one datastore sees the others through the API.
import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Lease } from '../api/generated/types/coordination-v1.js';
import { formatMicroTimestamp } from '../machinery/object-meta.js';
import { isAlreadyExists, isConflict, isNotFound } from '../machinery/status-error.js';
import type { KObject } from './registry/object.js';
import type { WriteOptions } from './registry/store.js';
import type { StoreRegistry } from './stores.js';

/** The label that marks an API server identity Lease (upstream's IdentityLeaseComponentLabelKey). */
export const IDENTITY_LEASE_LABEL = 'apiserver.kubernetes.io/identity';

/** Annotations on the identity Lease carrying where clients reach that API server. */
export const ADDRESS_ANNOTATION = 'kts.io/advertise-address';
/** The port half of the advertised endpoint. */
export const PORT_ANNOTATION = 'kts.io/advertise-port';

/** Namespace of the identity Leases. */
export const IDENTITY_LEASE_NAMESPACE = 'kube-system';

/** Upstream's defaults: a master lease lives 15 s and is renewed every 10 s. */
export const DEFAULT_LEASE_DURATION_SECONDS = 15;
/** How often the reconciler renews its Lease and rewrites the endpoints. */
export const DEFAULT_RENEW_INTERVAL_MS = 10_000;

/** Settings of one API server's reconciler. */
export interface EndpointReconcilerOptions {
  /** Where clients reach this API server. */
  address: string;
  port: number;
  /** Seed of the Lease name; distinct per API server, stable across its restarts. */
  identitySeed: string;
  leaseDurationSeconds?: number;
  renewIntervalMs?: number;
  /** Background failures (a datastore outage); the next interval retries. */
  onError?: (err: unknown) => void;
  /** Milliseconds since the epoch (tests). */
  now?: () => number;
}

/** An API server endpoint, as the identity Leases record them. */
export interface ApiServerEndpoint {
  address: string;
  port: number;
}

/**
 * The identity Lease name for a seed: `apiserver-` and the lower-case, unpadded base32 of
 * the first 16 bytes of its SHA-256 (upstream hashes the host name the same way; kts adds
 * the data dir to the seed so two servers on one host differ).
 */
export function apiserverLeaseName(seed: string): string {
  const digest = createHash('sha256').update(seed).digest().subarray(0, 16);
  return `apiserver-${base32(digest).toLowerCase()}`;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

function wo(): WriteOptions {
  return { dryRun: false, fieldManager: 'kube-apiserver', subresource: '', warnings: [] };
}

/** Creates or replaces an object's content (metadata kept), retrying races with other servers. */
export async function upsertObject(
  stores: StoreRegistry,
  group: string,
  plural: string,
  ns: string,
  obj: KObject,
): Promise<void> {
  const store = stores.byName(group, plural);
  const name = obj.metadata?.name ?? '';
  for (let i = 0; i < 5; i++) {
    try {
      await store.guaranteedUpdate(
        ns,
        name,
        wo(),
        (cur) => {
          if (!cur) return obj;
          const { metadata: _m, ...rest } = obj;
          return { ...cur, ...rest, metadata: { ...cur.metadata, labels: obj.metadata?.labels ?? {} } };
        },
        { createIfMissing: true },
      );
      return;
    } catch (e) {
      if (isConflict(e) || isNotFound(e) || isAlreadyExists(e)) continue;
      throw e;
    }
  }
}

/** True while a Lease's holder counts as alive at `now`. */
export function leaseAlive(lease: Lease, now: number): boolean {
  const renew = lease.spec?.renewTime ?? lease.spec?.acquireTime;
  if (renew === undefined) return false;
  const seconds = lease.spec?.leaseDurationSeconds ?? DEFAULT_LEASE_DURATION_SECONDS;
  return Date.parse(renew) + seconds * 1000 > now;
}

/** The endpoint an identity Lease advertises, if it carries one. */
export function leaseEndpoint(lease: Lease): ApiServerEndpoint | undefined {
  const address = lease.metadata?.annotations?.[ADDRESS_ANNOTATION];
  const port = Number(lease.metadata?.annotations?.[PORT_ANNOTATION]);
  if (address === undefined || address === '' || !Number.isInteger(port) || port <= 0) return undefined;
  return { address, port };
}

/**
 * The `kubernetes` Endpoints subsets for a set of API servers: one subset per port (normally
 * one; servers of one cluster on one host differ in port), addresses sorted and unique.
 */
export function endpointSubsets(
  endpoints: readonly ApiServerEndpoint[],
): { addresses: { ip: string }[]; ports: { name: string; port: number; protocol: string }[] }[] {
  const byPort = new Map<number, Set<string>>();
  for (const e of endpoints) {
    const set = byPort.get(e.port) ?? new Set<string>();
    set.add(e.address);
    byPort.set(e.port, set);
  }
  return [...byPort.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([port, addrs]) => ({
      addresses: [...addrs].sort().map((ip) => ({ ip })),
      ports: [{ name: 'https', port, protocol: 'TCP' }],
    }));
}

const SLICE_LABEL = 'kubernetes.io/service-name';

/** Keeps this API server's identity Lease alive and the `kubernetes` endpoints current. */
export class MasterEndpointReconciler {
  /** This server's identity Lease. */
  readonly leaseName: string;
  /** The Lease's holderIdentity: `<lease name>_<uuid>`, new on every start. */
  readonly holderIdentity: string;
  private readonly duration: number;
  private readonly interval: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  /** A reconciler; nothing is written until `start`. */
  constructor(
    private readonly stores: StoreRegistry,
    private readonly opts: EndpointReconcilerOptions,
  ) {
    this.leaseName = apiserverLeaseName(opts.identitySeed);
    this.holderIdentity = `${this.leaseName}_${randomUUID()}`;
    this.duration = opts.leaseDurationSeconds ?? DEFAULT_LEASE_DURATION_SECONDS;
    this.interval = opts.renewIntervalMs ?? DEFAULT_RENEW_INTERVAL_MS;
    this.now = opts.now ?? Date.now;
  }

  /** Writes the Lease and endpoints once (errors propagate), then every interval. */
  async start(): Promise<void> {
    await this.reconcile();
    this.timer = setInterval(() => {
      this.running = this.running
        .then(() => (this.stopped ? undefined : this.reconcile()))
        .catch((e: unknown) => this.opts.onError?.(e));
    }, this.interval);
    this.timer.unref();
  }

  /** Renews this server's Lease, deletes expired ones, and rewrites the endpoints. */
  async reconcile(): Promise<void> {
    await this.renew();
    const live = await this.liveEndpoints(true);
    await this.writeEndpoints(live);
  }

  /**
   * Stops renewing. With `removeSelf` (a graceful shutdown) the Lease is deleted and the
   * endpoints rewritten without this server, so clients move on at once; bounded by
   * `timeoutMs` because a gone datastore must not hold shutdown.
   */
  async stop(opts: { removeSelf?: boolean; timeoutMs?: number } = {}): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.running.catch(() => {});
    if (opts.removeSelf !== true) return;
    const work = (async () => {
      await this.deleteLease(this.leaseName);
      await this.writeEndpoints(await this.liveEndpoints(false));
    })().catch((e: unknown) => this.opts.onError?.(e));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      work,
      new Promise<void>((r) => {
        timer = setTimeout(r, opts.timeoutMs ?? 2000);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
  }

  private async renew(): Promise<void> {
    const now = formatMicroTimestamp(this.now());
    const leases = this.stores.byName('coordination.k8s.io', 'leases');
    await leases.guaranteedUpdate(
      IDENTITY_LEASE_NAMESPACE,
      this.leaseName,
      wo(),
      (cur) => {
        const prev = cur as Lease | undefined;
        const sameHolder = prev?.spec?.holderIdentity === this.holderIdentity;
        const lease: Lease = {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: {
            ...(prev?.metadata ?? {}),
            name: this.leaseName,
            namespace: IDENTITY_LEASE_NAMESPACE,
            labels: {
              ...(prev?.metadata?.labels ?? {}),
              [IDENTITY_LEASE_LABEL]: 'kube-apiserver',
              'kubernetes.io/hostname': hostname(),
            },
            annotations: {
              ...(prev?.metadata?.annotations ?? {}),
              [ADDRESS_ANNOTATION]: this.opts.address,
              [PORT_ANNOTATION]: String(this.opts.port),
            },
          },
          spec: {
            holderIdentity: this.holderIdentity,
            leaseDurationSeconds: this.duration,
            acquireTime: sameHolder ? (prev?.spec?.acquireTime ?? now) : now,
            renewTime: now,
          },
        };
        return lease as KObject;
      },
      { createIfMissing: true },
    );
  }

  // The endpoints of the live identity Leases; expired ones are garbage-collected on the way.
  private async liveEndpoints(includeSelf: boolean): Promise<ApiServerEndpoint[]> {
    const now = this.now();
    const entries = await this.stores
      .byName('coordination.k8s.io', 'leases')
      .listAll(IDENTITY_LEASE_NAMESPACE);
    const out: ApiServerEndpoint[] = [];
    for (const e of entries) {
      const lease = e.obj as Lease;
      if (lease.metadata?.labels?.[IDENTITY_LEASE_LABEL] === undefined) continue;
      const self = e.name === this.leaseName;
      if (self && !includeSelf) continue;
      if (!self && !leaseAlive(lease, now)) {
        await this.deleteLease(e.name);
        continue;
      }
      const ep = leaseEndpoint(lease);
      if (ep !== undefined) out.push(ep);
    }
    return out;
  }

  private async deleteLease(name: string): Promise<void> {
    try {
      await this.stores
        .byName('coordination.k8s.io', 'leases')
        .delete(IDENTITY_LEASE_NAMESPACE, name, {}, wo());
    } catch (e) {
      if (!isNotFound(e) && !isConflict(e)) throw e;
    }
  }

  private async writeEndpoints(live: readonly ApiServerEndpoint[]): Promise<void> {
    const subsets = endpointSubsets(live);
    await upsertObject(this.stores, '', 'endpoints', 'default', {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: {
        name: 'kubernetes',
        namespace: 'default',
        labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' },
      },
      subsets,
    });
    // One EndpointSlice per port: `kubernetes` for the first, `kubernetes-<port>` for others.
    const wanted = new Set<string>();
    const slices = subsets.length > 0 ? subsets : [{ addresses: [], ports: [] }];
    for (const [i, s] of slices.entries()) {
      const port = s.ports[0]?.port;
      const name = i === 0 ? 'kubernetes' : `kubernetes-${port}`;
      wanted.add(name);
      const v6 = s.addresses.some((a) => a.ip.includes(':'));
      await upsertObject(this.stores, 'discovery.k8s.io', 'endpointslices', 'default', {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name, namespace: 'default', labels: { [SLICE_LABEL]: 'kubernetes' } },
        addressType: v6 ? 'IPv6' : 'IPv4',
        endpoints: s.addresses.map((a) => ({ addresses: [a.ip], conditions: { ready: true } })),
        ports: s.ports,
      });
    }
    const sliceStore = this.stores.byName('discovery.k8s.io', 'endpointslices');
    for (const e of await sliceStore.listAll('default')) {
      const owned =
        e.obj.metadata?.labels?.[SLICE_LABEL] === 'kubernetes' && e.name.startsWith('kubernetes-');
      if (!owned || wanted.has(e.name)) continue;
      try {
        await sliceStore.delete('default', e.name, {}, wo());
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }
}
