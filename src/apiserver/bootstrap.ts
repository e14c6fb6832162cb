// Objects every cluster has from its first second: the system namespaces, and the
// `kubernetes` Service in `default` (first address of the service range) with Endpoints
// and an EndpointSlice pointing at this API server. Also repairs the Service allocators from
// the stored Services, so a restart never hands out an address twice.
import { isAlreadyExists, isConflict, isNotFound } from '../machinery/status-error.js';
import type { KObject } from './registry/object.js';
import type { ServiceAllocator } from './registry/service-allocator.js';
import { ServiceStrategy } from './registry/service-strategy.js';
import type { WriteOptions } from './registry/store.js';
import type { StoreRegistry } from './stores.js';

/** Where clients reach this API server. */
export interface BootstrapOptions {
  advertiseAddress: string;
  port: number;
}

/** Namespaces upstream creates at start and never lets anyone delete. */
export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

function wo(): WriteOptions {
  return { dryRun: false, fieldManager: 'kube-apiserver', subresource: '', warnings: [] };
}

async function ensure(create: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
  }
}

/** Creates the bootstrap objects and repairs allocations. Idempotent. */
export async function bootstrapObjects(
  stores: StoreRegistry,
  _alloc: ServiceAllocator,
  opts: BootstrapOptions,
): Promise<void> {
  const namespaces = stores.byName('', 'namespaces');
  for (const name of SYSTEM_NAMESPACES) {
    await ensure(() =>
      namespaces.create('', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, wo()),
    );
  }
  const services = stores.byName('', 'services');
  if (services.strategy instanceof ServiceStrategy) {
    for (const e of await services.listAll('')) services.strategy.markUsed(e.obj);
  }
  await ensure(() =>
    services.create(
      'default',
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: {
          name: 'kubernetes',
          namespace: 'default',
          labels: { component: 'apiserver', provider: 'kubernetes' },
        },
        spec: {
          type: 'ClusterIP',
          clusterIP: _alloc.ipAt(1),
          ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: opts.port }],
          sessionAffinity: 'None',
        },
      },
      wo(),
    ),
  );
  const subset = {
    addresses: [{ ip: opts.advertiseAddress }],
    ports: [{ name: 'https', port: opts.port, protocol: 'TCP' }],
  };
  await upsert(stores, '', 'endpoints', 'default', {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: {
      name: 'kubernetes',
      namespace: 'default',
      labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' },
    },
    subsets: [subset],
  });
  await upsert(stores, 'discovery.k8s.io', 'endpointslices', 'default', {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: 'kubernetes',
      namespace: 'default',
      labels: { 'kubernetes.io/service-name': 'kubernetes' },
    },
    addressType: 'IPv4',
    endpoints: [{ addresses: [opts.advertiseAddress], conditions: { ready: true } }],
    ports: [{ name: 'https', port: opts.port, protocol: 'TCP' }],
  });
}

// Keeps the apiserver's own endpoints current across restarts on a new port or address.
async function upsert(
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
          return { ...cur, ...rest };
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
