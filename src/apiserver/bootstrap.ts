// Objects every cluster has from its first second: the system namespaces and the
// `kubernetes` Service in `default` (first address of the service range; its Endpoints and
// EndpointSlice are the master-endpoints reconciler's, see endpoint-reconciler.ts). Also
// repairs the Service allocators from the stored Services, so a restart never hands out an
// address twice.
import { isAlreadyExists, isNotFound } from '../machinery/status-error.js';
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
  // Another API server on the same datastore may have made it: its address is already
  // marked used above, so creating it again would fail allocation rather than as a conflict.
  const exists = await services.get('default', 'kubernetes').then(
    () => true,
    (e: unknown) => {
      if (isNotFound(e)) return false;
      throw e;
    },
  );
  if (!exists)
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
}
