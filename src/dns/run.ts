// Runs the cluster DNS against an API server (CoreDNS with its `kubernetes` plugin):
// informers on Services, EndpointSlices and Pods feed a ClusterDNSModel, and the DNS server
// answers from it once the caches have synced (CoreDNS likewise holds back until its
// informers have listed, so a restart never answers NXDOMAIN for names that exist).
//
// How pods reach it: the `kube-dns` Service in kube-system (ClusterIP 10.43.0.10, ports
// 53/UDP `dns` and 53/TCP `dns-tcp`) is created without a selector by `ensureDNSService`,
// together with one EndpointSlice (managed-by `kts`) pointing at the address and port the
// DNS server listens on. kube-proxy's ClusterIP rules then carry 10.43.0.10:53 there like
// any other Service. The recommended listening address is the node's InternalIP, port 53:
// it exists before the first pod (unlike the pod bridge's gateway), pods reach it through
// the bridge without any extra route, and binding a specific address does not collide with
// a host resolver on 127.0.0.53:53. Any other port works too (the Service's targetPort
// follows it), which lets an unprivileged server use e.g. 10053.

import type { Pod, Service } from '../api/generated/types/core-v1.js';
import type { EndpointSlice } from '../api/generated/types/discovery-v1.js';
import { SharedInformerFactory } from '../client/cache/informer-factory.js';
import type { ResourceEventHandler } from '../client/cache/shared-informer.js';
import { DeletedFinalStateUnknown } from '../client/cache/store.js';
import type { Client } from '../client/interface.js';
import { loadKubeconfig } from '../client/kubeconfig.js';
import { type Logger, noopLogger } from '../client/log.js';
import { ENDPOINTSLICES, PODS, SERVICES } from '../client/resources.js';
import { RestClient } from '../client/rest-client.js';
import { isAlreadyExists, isNotFound } from '../machinery/status-error.js';
import { ClusterDNSModel, SERVICE_NAME_LABEL } from './model.js';
import type { PodMode } from './records.js';
import { type DNSServer, startDNSServer } from './server.js';

/** Options of runClusterDNS. */
export interface RunClusterDNSOptions {
  /** A kubeconfig path (DNS then owns its REST client) … */
  kubeconfig?: string;
  /** … or a client to use. */
  client?: Client;
  /** Address to listen on (default 0.0.0.0; the node's InternalIP is recommended). */
  address?: string;
  /** UDP and TCP port (default 53; 0 picks a free one). */
  port?: number;
  /** The cluster domain (default cluster.local). */
  zone?: string;
  /** Upstreams for other names (default the host's resolvers). */
  forwarders?: string[];
  /** Record TTL in seconds (default 5). */
  ttl?: number;
  /** How `a-b-c-d.ns.pod.<zone>` names are answered (default as the DNS server's default). */
  podMode?: PodMode;
  signal: AbortSignal;
  logger?: Logger;
  /** Called once the caches have synced and the server listens. */
  onReady?: (server: DNSServer, model: ClusterDNSModel) => void;
}

function unwrap<T>(obj: T | DeletedFinalStateUnknown<T>): T {
  return obj instanceof DeletedFinalStateUnknown ? obj.obj : obj;
}

function feed<T>(set: (o: T) => void, remove: (o: T) => void): ResourceEventHandler<T> {
  return {
    onAdd: (o) => set(o),
    onUpdate: (_old, o) => set(o),
    onDelete: (d) => remove(unwrap(d)),
  };
}

/**
 * Serves cluster DNS until `signal` aborts, then closes the server and stops the informers.
 * Rejects if the server cannot listen (e.g. the port is taken).
 */
export async function runClusterDNS(opts: RunClusterDNSOptions): Promise<void> {
  const { signal } = opts;
  const log = opts.logger ?? noopLogger;
  const client = opts.client ?? new RestClient(loadKubeconfig(opts.kubeconfig));
  const model = new ClusterDNSModel();
  const factory = new SharedInformerFactory(client, { logger: log });
  const services = factory.forResource(SERVICES).informer;
  const slices = factory.forResource(ENDPOINTSLICES).informer;
  const pods = factory.forResource(PODS).informer;
  services.addEventHandler(
    feed<Service>(
      (s) => model.setService(s),
      (s) => model.deleteService(s),
    ),
  );
  slices.addEventHandler(
    feed<EndpointSlice>(
      (s) => model.setEndpointSlice(s),
      (s) => model.deleteEndpointSlice(s),
    ),
  );
  pods.addEventHandler(
    feed<Pod>(
      (p) => model.setPod(p),
      (p) => model.deletePod(p),
    ),
  );
  // Informers run under a signal of their own so that a failed listen can stop them too.
  const inner = new AbortController();
  const onAbort = (): void => inner.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  const stopInformers = async (): Promise<void> => {
    signal.removeEventListener('abort', onAbort);
    inner.abort();
    await factory.shutdown();
  };
  factory.start(inner.signal);
  const synced = await factory.waitForCacheSync(inner.signal);
  if (signal.aborted || !Object.values(synced).every((x) => x)) return stopInformers();
  let server: DNSServer;
  try {
    server = await startDNSServer({
      model,
      logger: log,
      ...(opts.address !== undefined ? { address: opts.address } : {}),
      ...(opts.port !== undefined ? { port: opts.port } : {}),
      ...(opts.zone !== undefined ? { zone: opts.zone } : {}),
      ...(opts.forwarders !== undefined ? { forwarders: opts.forwarders } : {}),
      ...(opts.ttl !== undefined ? { ttl: opts.ttl } : {}),
      ...(opts.podMode !== undefined ? { podMode: opts.podMode } : {}),
    });
  } catch (err) {
    await stopInformers();
    throw err;
  }
  log.info('dns: serving', {
    component: 'dns',
    address: server.address,
    port: server.port,
    ...model.stats(),
  });
  opts.onReady?.(server, model);
  if (!signal.aborted)
    await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
  await server.close();
  await stopInformers();
}

/** The cluster DNS Service's well-known address in kts (the 10th address of 10.43.0.0/16). */
export const DNS_CLUSTER_IP = '10.43.0.10';

/** The label value naming who manages an EndpointSlice written by kts itself. */
export const KTS_MANAGED_BY = 'kts';

const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';

/** Options of ensureDNSService. */
export interface EnsureDNSServiceOptions {
  /** The Service's ClusterIP (default 10.43.0.10). */
  clusterIP?: string;
  /** Where the DNS server listens (an IPv4 address the nodes' pods can reach). */
  nodeAddress: string;
  /** The DNS server's port (default 53). */
  port?: number;
  /** Node the server runs on (recorded on the endpoint, for topology). */
  nodeName?: string;
  namespace?: string;
  name?: string;
  signal?: AbortSignal;
}

/**
 * Creates or updates the selector-less `kube-dns` Service and its one EndpointSlice
 * (`kube-dns-kts`, managed-by kts) pointing at the DNS server. Idempotent: run it on every
 * start; it changes only what differs. A `kube-dns` Service that has a selector belongs to
 * a DNS deployment in the cluster and is left alone (resolves false); otherwise true.
 */
export async function ensureDNSService(client: Client, opts: EnsureDNSServiceOptions): Promise<boolean> {
  const namespace = opts.namespace ?? 'kube-system';
  const name = opts.name ?? 'kube-dns';
  const port = opts.port ?? 53;
  const call = opts.signal !== undefined ? { signal: opts.signal } : {};
  const svcs = client.resource(SERVICES);
  const ports = [
    { name: 'dns', port: 53, protocol: 'UDP', targetPort: port },
    { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: port },
  ];
  const labels = {
    'k8s-app': 'kube-dns',
    'kubernetes.io/cluster-service': 'true',
    'kubernetes.io/name': 'CoreDNS',
  };
  let svc: Service;
  try {
    svc = await svcs.get(namespace, name, call);
    if (svc.spec?.selector !== undefined && Object.keys(svc.spec.selector).length > 0) return false;
    const have = (svc.spec?.ports ?? []).map(
      (p) => `${p.name}/${p.port}/${p.protocol}/${String(p.targetPort)}`,
    );
    const want = ports.map((p) => `${p.name}/${p.port}/${p.protocol}/${p.targetPort}`);
    if (have.join(',') !== want.join(',')) {
      svc = await svcs.update(namespace, { ...svc, spec: { ...svc.spec, ports } }, call);
    }
  } catch (err) {
    if (!isNotFound(err)) throw err;
    svc = await svcs.create(
      namespace,
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name, namespace, labels },
        spec: { type: 'ClusterIP', clusterIP: opts.clusterIP ?? DNS_CLUSTER_IP, ports },
      },
      call,
    );
  }

  const sliceName = `${name}-kts`;
  const slice: EndpointSlice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: sliceName,
      namespace,
      labels: { [SERVICE_NAME_LABEL]: name, [MANAGED_BY_LABEL]: KTS_MANAGED_BY },
      ownerReferences: [
        {
          apiVersion: 'v1',
          kind: 'Service',
          name,
          uid: svc.metadata?.uid ?? '',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    addressType: 'IPv4',
    endpoints: [
      {
        addresses: [opts.nodeAddress],
        conditions: { ready: true, serving: true, terminating: false },
        ...(opts.nodeName !== undefined ? { nodeName: opts.nodeName } : {}),
      },
    ],
    ports: [
      { name: 'dns', port, protocol: 'UDP' },
      { name: 'dns-tcp', port, protocol: 'TCP' },
    ],
  };
  const slices = client.resource(ENDPOINTSLICES);
  try {
    await slices.create(namespace, slice, call);
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
    const cur = await slices.get(namespace, sliceName, call);
    const same =
      sliceShape(cur) === sliceShape(slice) && cur.metadata?.ownerReferences?.[0]?.uid === svc.metadata?.uid;
    if (!same) {
      await slices.update(
        namespace,
        { ...slice, metadata: { ...slice.metadata, resourceVersion: cur.metadata?.resourceVersion } },
        call,
      );
    }
  }
  return true;
}

/** What ensureDNSService controls in a slice, independent of field order and defaults. */
function sliceShape(s: EndpointSlice): string {
  const eps = (s.endpoints ?? []).map(
    (e) => `${e.addresses.join('+')}@${e.nodeName ?? ''}:${String(e.conditions?.ready)}`,
  );
  const ports = (s.ports ?? []).map((p) => `${p.name}/${p.port}/${p.protocol}`);
  return `${eps.join(',')}|${ports.join(',')}|${s.metadata?.labels?.[MANAGED_BY_LABEL] ?? ''}`;
}
