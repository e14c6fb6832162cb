// The core controllers (endpoints, endpointslice, serviceaccount + root CA, node
// lifecycle, node IPAM, resource quota, disruption) against a real API server. Nodes are
// simulated by a minimal local helper: Node objects whose status and Lease the test
// writes, and pods whose status (IP, Ready) the test sets as a kubelet would.
import assert from 'node:assert/strict';
import { setMaxListeners } from 'node:events';
import { after, before, describe, it } from 'node:test';
import type { Node, Pod } from '../src/api/generated/types/core-v1.js';
import { SharedInformerFactory } from '../src/client/cache/informer-factory.js';
import { realClock } from '../src/client/clock.js';
import { loadKubeconfig } from '../src/client/kubeconfig.js';
import { noopLogger } from '../src/client/log.js';
import {
  CONFIGMAPS,
  ENDPOINTS,
  ENDPOINTSLICES,
  LEASES,
  NAMESPACES,
  NODES,
  PODS,
  SERVICEACCOUNTS,
  SERVICES,
} from '../src/client/resources.js';
import { RestClient } from '../src/client/rest-client.js';
import { ServiceAccountClientBuilder } from '../src/client/controller-client-builder.js';
import { PODDISRUPTIONBUDGETS, newDisruptionController } from '../src/controllers/disruption/index.js';
import { newEndpointsController } from '../src/controllers/endpoints/index.js';
import { newEndpointSliceController } from '../src/controllers/endpointslice/index.js';
import { newEndpointSliceMirroringController } from '../src/controllers/endpointslice-mirroring/index.js';
import { newNodeIpamController } from '../src/controllers/node-ipam/index.js';
import { newNodeLifecycleController } from '../src/controllers/node-lifecycle/index.js';
import { RESOURCEQUOTAS, newResourceQuotaController } from '../src/controllers/resourcequota/index.js';
import {
  newServiceAccountsController,
  rootCACertPublisherFactory,
} from '../src/controllers/serviceaccount/index.js';
import {
  type ControllerContext,
  type ControllerFactory,
  DEFAULT_CONTROLLER_OPTIONS,
} from '../src/controllers/types.js';
import { formatMicroTimestamp, formatTimestamp } from '../src/machinery/object-meta.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';

let srv: TestApiServer;
let client: RestClient;
let builder: ServiceAccountClientBuilder;
let caPEM = '';
const ac = new AbortController();
// Nine controllers share this signal, as the manager's controllers share its signal.
setMaxListeners(0, ac.signal);
const runs: Array<Promise<void>> = [];
let renewTimer: NodeJS.Timeout | undefined;

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** A simulated node: Node with a Ready status, plus its Lease in kube-node-lease. */
async function addNode(name: string, zone?: string): Promise<void> {
  const now = formatTimestamp();
  const created = await client.resource(NODES).create('', {
    metadata: { name, ...(zone ? { labels: { 'topology.kubernetes.io/zone': zone } } : {}) },
  });
  const status: Node['status'] = {
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        reason: 'KubeletReady',
        lastHeartbeatTime: now,
        lastTransitionTime: now,
      },
    ],
  };
  await client.resource(NODES).updateStatus('', { ...created, status });
  await renewLease(name);
}

async function renewLease(name: string): Promise<void> {
  const leases = client.resource(LEASES);
  const renewTime = formatMicroTimestamp();
  try {
    const l = await leases.get('kube-node-lease', name);
    await leases.update('kube-node-lease', { ...l, spec: { ...l.spec, renewTime } });
  } catch {
    await leases.create('kube-node-lease', {
      metadata: { name },
      spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime },
    });
  }
}

/** Acts as the kubelet: gives the pod an IP and a Ready condition. */
async function setPodStatus(ns: string, name: string, ip: string, ready: boolean): Promise<void> {
  const pods = client.resource(PODS);
  const pod = await pods.get(ns, name);
  const now = formatTimestamp();
  await pods.updateStatus(ns, {
    ...pod,
    status: {
      phase: 'Running',
      podIP: ip,
      podIPs: [{ ip }],
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now }],
    },
  });
}

function webPod(name: string, node: string): Pod {
  return {
    metadata: { name, labels: { app: 'web' } },
    spec: {
      nodeName: node,
      containers: [{ name: 'c', image: 'nginx', ports: [{ name: 'http', containerPort: 8080 }] }],
    },
  };
}

before(async () => {
  srv = await startTestApiServer('memory://');
  const cfg = loadKubeconfig(srv.server.kubeconfigPath);
  caPEM = cfg.caData ?? '';
  client = new RestClient({ ...cfg, qps: 0 });
  const informers = new SharedInformerFactory(client);
  const ctx: ControllerContext = {
    client,
    informers,
    recorder: () => ({ event() {}, annotatedEvent() {} }),
    clock: realClock,
    log: noopLogger,
    options: { ...DEFAULT_CONTROLLER_OPTIONS, nodeMonitorGracePeriodMs: 2000, workers: 2 },
  };
  // Each controller runs with its own kube-system ServiceAccount's client (as in `kts server`).
  builder = new ServiceAccountClientBuilder({ client, config: cfg });
  const factories: Array<[ControllerFactory, string]> = [
    [newEndpointsController, 'endpoint-controller'],
    [newEndpointSliceController, 'endpointslice-controller'],
    [newEndpointSliceMirroringController, 'endpointslicemirroring-controller'],
    [newServiceAccountsController, 'service-account-controller'],
    [rootCACertPublisherFactory(caPEM), 'root-ca-cert-publisher'],
    [newNodeLifecycleController, 'node-controller'],
    [newNodeIpamController, 'node-controller'],
    [newResourceQuotaController, 'resourcequota-controller'],
    [newDisruptionController, 'disruption-controller'],
  ];
  for (const [f, account] of factories) {
    runs.push(f({ ...ctx, client: await builder.clientFor(account) }).run(ac.signal));
  }
  informers.start(ac.signal);
  await addNode('n1', 'zone-a');
  // n1's kubelet keeps renewing; n2 (added later) never does.
  renewTimer = setInterval(() => void renewLease('n1').catch(() => {}), 400);
});

after(async () => {
  if (renewTimer) clearInterval(renewTimer);
  ac.abort();
  await Promise.all(runs);
  builder.close();
  client.close();
  await srv.stop();
});

describe('core controllers against a real API server', () => {
  it('a new namespace gets the default ServiceAccount and kube-root-ca.crt', async () => {
    await client.resource(NAMESPACES).create('', { metadata: { name: 'fresh' } });
    await waitFor('default SA', async () => client.resource(SERVICEACCOUNTS).get('fresh', 'default'));
    const cm = await waitFor('root CA', async () =>
      client.resource(CONFIGMAPS).get('fresh', 'kube-root-ca.crt'),
    );
    assert.ok(caPEM.includes('BEGIN CERTIFICATE'));
    assert.equal(cm.data?.['ca.crt'], caPEM);
  });

  it('assigns a podCIDR to nodes', async () => {
    const node = await waitFor('podCIDR', async () => {
      const n = await client.resource(NODES).get('', 'n1');
      return n.spec?.podCIDR ? n : undefined;
    });
    assert.match(node.spec?.podCIDR ?? '', /^10\.42\.\d+\.0\/24$/);
    assert.deepEqual(node.spec?.podCIDRs, [node.spec?.podCIDR]);
  });

  it('Endpoints and EndpointSlices follow pod readiness with named ports', async () => {
    await client.resource(SERVICES).create('default', {
      metadata: { name: 'web' },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    });
    await client.resource(PODS).create('default', webPod('web-1', 'n1'));
    await setPodStatus('default', 'web-1', '10.42.0.11', true);
    const ep = await waitFor('ready address', async () => {
      const e = await client.resource(ENDPOINTS).get('default', 'web');
      return e.subsets?.[0]?.addresses?.length === 1 ? e : undefined;
    });
    assert.equal(ep.subsets?.[0]?.addresses?.[0]?.ip, '10.42.0.11');
    assert.equal(ep.subsets?.[0]?.addresses?.[0]?.nodeName, 'n1');
    assert.deepEqual(ep.subsets?.[0]?.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
    const slice = await waitFor('ready slice', async () => {
      const s = (
        await client
          .resource(ENDPOINTSLICES)
          .list('default', { labelSelector: 'kubernetes.io/service-name=web' })
      ).items;
      return s[0]?.endpoints?.[0]?.conditions?.ready === true ? s[0] : undefined;
    });
    assert.equal(
      slice.metadata?.labels?.['endpointslice.kubernetes.io/managed-by'],
      'endpointslice-controller.k8s.io',
    );
    assert.equal(slice.endpoints?.[0]?.zone, 'zone-a');
    assert.equal(slice.ports?.[0]?.port, 8080);

    await setPodStatus('default', 'web-1', '10.42.0.11', false);
    await waitFor('not-ready address', async () => {
      const e = await client.resource(ENDPOINTS).get('default', 'web');
      return e.subsets?.[0]?.notReadyAddresses?.[0]?.ip === '10.42.0.11' &&
        e.subsets[0].addresses === undefined
        ? e
        : undefined;
    });
    await waitFor('not-ready slice', async () => {
      const s = (
        await client
          .resource(ENDPOINTSLICES)
          .list('default', { labelSelector: 'kubernetes.io/service-name=web' })
      ).items;
      const c = s[0]?.endpoints?.[0]?.conditions;
      return c?.ready === false && c.serving === false ? s : undefined;
    });
    await setPodStatus('default', 'web-1', '10.42.0.11', true);
  });

  it('mirrors selector-less Endpoints into slices', async () => {
    await client
      .resource(SERVICES)
      .create('default', { metadata: { name: 'ext' }, spec: { ports: [{ port: 80 }] } });
    await client.resource(ENDPOINTS).create('default', {
      metadata: { name: 'ext' },
      subsets: [{ addresses: [{ ip: '192.168.5.5' }], ports: [{ port: 80 }] }],
    });
    const s = await waitFor('mirrored slice', async () => {
      const items = (
        await client
          .resource(ENDPOINTSLICES)
          .list('default', { labelSelector: 'kubernetes.io/service-name=ext' })
      ).items;
      return items.length === 1 ? items[0] : undefined;
    });
    assert.equal(
      s?.metadata?.labels?.['endpointslice.kubernetes.io/managed-by'],
      'endpointslicemirroring-controller.k8s.io',
    );
    assert.equal(s?.endpoints?.[0]?.addresses[0], '192.168.5.5');
  });

  it('quota usage counts pods; PDB allows disruptions', async () => {
    await client.resource(PODS).create('default', webPod('web-2', 'n1'));
    await setPodStatus('default', 'web-2', '10.42.0.12', true);
    await client.resource(RESOURCEQUOTAS).create('default', {
      metadata: { name: 'q' },
      spec: { hard: { pods: '10', services: '5' } },
    });
    await waitFor('quota used', async () => {
      const q = await client.resource(RESOURCEQUOTAS).get('default', 'q');
      return q.status?.used?.pods === '2' && q.status.used.services !== undefined ? q : undefined;
    });
    await client.resource(PODDISRUPTIONBUDGETS).create('default', {
      metadata: { name: 'web' },
      spec: { minAvailable: 1, selector: { matchLabels: { app: 'web' } } },
    });
    const pdb = await waitFor('pdb status', async () => {
      const p = await client.resource(PODDISRUPTIONBUDGETS).get('default', 'web');
      return p.status?.disruptionsAllowed === 1 ? p : undefined;
    });
    assert.equal(pdb.status?.currentHealthy, 2);
    assert.equal(pdb.status?.desiredHealthy, 1);
    assert.equal(pdb.status?.expectedPods, 2);
    assert.equal(pdb.status?.conditions?.[0]?.reason, 'SufficientPods');
  });

  it('a node whose Lease is not renewed goes Unknown and gets the unreachable taints', async () => {
    await addNode('n2');
    const node = await waitFor(
      'n2 unknown',
      async () => {
        const n = await client.resource(NODES).get('', 'n2');
        return (n.spec?.taints?.length ?? 0) >= 2 ? n : undefined;
      },
      15_000,
    );
    const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'Unknown');
    assert.equal(ready?.reason, 'NodeStatusUnknown');
    assert.equal(ready?.message, 'Kubelet stopped posting node status.');
    assert.deepEqual(node.spec?.taints?.map((t) => `${t.key}:${t.effect}`).sort(), [
      'node.kubernetes.io/unreachable:NoExecute',
      'node.kubernetes.io/unreachable:NoSchedule',
    ]);
    // n1 keeps renewing: still Ready and untainted.
    const n1 = await client.resource(NODES).get('', 'n1');
    assert.equal(n1.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    assert.equal(n1.spec?.taints, undefined);
  });
});
