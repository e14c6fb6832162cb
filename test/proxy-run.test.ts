// runProxy against a real API server: in userspace mode (listeners on loopback) a client
// reaches a TCP backend through a Service whose EndpointSlice was created through the API;
// in iptables mode (a fake iptables that records restore payloads; the host's rules are
// never touched) the service's chains are written, and LoadBalancer Services get the
// node's address as ingress, as k3s's ServiceLB does — running as system:kube-proxy.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Node, Service } from '../src/api/generated/types/core-v1.js';
import type { EndpointSlice } from '../src/api/generated/types/discovery-v1.js';
import { loadKubeconfig } from '../src/client/kubeconfig.js';
import { ENDPOINTSLICES, NAMESPACES, NODES, SERVICES } from '../src/client/resources.js';
import { RestClient } from '../src/client/rest-client.js';
import { ensureClusterPKI } from '../src/pki/cluster-pki.js';
import { createKeyPair } from '../src/pki/x509.js';
import type { Iptables } from '../src/proxy/iptables.js';
import { servicePortsFromService } from '../src/proxy/model.js';
import { desiredIngress, loadBalancerAddresses, type RunningProxy, runProxy } from '../src/proxy/run.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';

let api: TestApiServer;
let client: RestClient;

async function eventually<T>(fn: () => Promise<T> | T, timeoutMs = 4000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

function node(name: string, internalIP: string): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name },
    status: {
      addresses: [
        { type: 'InternalIP', address: internalIP },
        { type: 'Hostname', address: name },
      ],
      conditions: [{ type: 'Ready', status: 'True' }],
    },
  };
}

function slice(ns: string, svc: string, ip: string, port: number): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${svc}-x1`, namespace: ns, labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    endpoints: [{ addresses: [ip], conditions: { ready: true }, nodeName: 'n1' }],
    ports: [{ name: 'http', port, protocol: 'TCP' }],
  };
}

function service(ns: string, name: string, type: 'ClusterIP' | 'LoadBalancer', targetPort: number): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns },
    spec: { type, ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort }] },
  };
}

/** Starts runProxy and resolves once it is ready; `stop` ends it and waits. */
async function startProxy(
  opts: Omit<Parameters<typeof runProxy>[0], 'signal' | 'onReady'>,
): Promise<{ running: RunningProxy; stop: () => Promise<void> }> {
  const ac = new AbortController();
  let done: Promise<void> = Promise.resolve();
  const running = await new Promise<RunningProxy>((resolve, reject) => {
    done = runProxy({ ...opts, signal: ac.signal, onReady: resolve });
    done.catch(reject);
  });
  return {
    running,
    stop: async () => {
      ac.abort();
      await done;
    },
  };
}

before(async () => {
  api = await startTestApiServer();
  client = new RestClient(loadKubeconfig(api.server.kubeconfigPath));
  await client.resource(NAMESPACES).create('', { metadata: { name: 'ns' } });
  await client.resource(NODES).create('', node('n1', '192.0.2.1'));
});

after(async () => {
  await api.stop();
});

describe('runProxy', () => {
  it('userspace mode relays TCP to the EndpointSlice backend', async () => {
    const backend = net.createServer((s) => s.end('hello from backend'));
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    const backendPort = (backend.address() as net.AddressInfo).port;
    const p = await startProxy({
      client,
      nodeName: 'n1',
      mode: 'userspace',
      serviceLB: false,
      listen: () => ({ host: '127.0.0.1', port: 0 }),
    });
    try {
      assert.deepEqual(p.running.nodeIPs, ['192.0.2.1']);
      await client.resource(SERVICES).create('ns', service('ns', 'echo', 'ClusterIP', backendPort));
      await client.resource(ENDPOINTSLICES).create('ns', slice('ns', 'echo', '127.0.0.1', backendPort));
      const addr = await eventually(() => {
        const a = p.running.userspace?.address('ns/echo:http');
        assert.ok(a !== undefined && a.port !== 0, 'listener not open yet');
        return a;
      });
      const reply = await eventually(
        () =>
          new Promise<string>((resolve, reject) => {
            const c = net.connect(addr.port, '127.0.0.1');
            let got = '';
            c.on('data', (b) => {
              got += b.toString();
            });
            c.on('end', () => (got === '' ? reject(new Error('no endpoints yet')) : resolve(got)));
            c.on('error', reject);
          }),
      );
      assert.equal(reply, 'hello from backend');
      await client.resource(SERVICES).delete('ns', 'echo');
      await eventually(() => assert.equal(p.running.userspace?.address('ns/echo:http'), undefined));
    } finally {
      await p.stop();
      await new Promise((r) => backend.close(r));
    }
  });

  it('iptables mode writes the service chains and LoadBalancer ingress, as system:kube-proxy', async () => {
    const payloads: string[] = [];
    const iptables: Iptables = {
      restore: async (payload) => {
        payloads.push(payload);
      },
      save: async () => '',
    };
    const pki = ensureClusterPKI(api.dataDir);
    const kp = createKeyPair(
      {
        subject: { commonName: 'system:kube-proxy' },
        notAfter: new Date(Date.now() + 3600_000),
        usages: ['clientAuth'],
      },
      pki.ca,
    );
    const proxyClient = new RestClient({
      ...loadKubeconfig(api.server.kubeconfigPath),
      certData: kp.certPem,
      keyData: kp.keyPem,
    });
    const p = await startProxy({
      client: proxyClient,
      nodeName: 'n1',
      mode: 'iptables',
      iptables,
      minSyncPeriodMs: 0,
    });
    try {
      const svc = await client.resource(SERVICES).create('ns', service('ns', 'lb', 'LoadBalancer', 8080));
      await client.resource(ENDPOINTSLICES).create('ns', slice('ns', 'lb', '10.42.0.9', 8080));
      const chain = servicePortsFromService(svc)[0]?.clusterPolicyChain ?? '';
      assert.match(chain, /^KTS-SVC-/);
      await eventually(() => {
        const all = payloads.join('\n');
        assert.ok(all.includes(`:${chain} `), `no ${chain} in the restore payloads`);
        assert.ok(all.includes('10.42.0.9:8080'), 'no endpoint DNAT in the restore payloads');
      });
      const withIngress = await eventually(async () => {
        const s = await client.resource(SERVICES).get('ns', 'lb');
        assert.deepEqual(
          s.status?.loadBalancer?.ingress?.map((i) => i.ip),
          ['192.0.2.1'],
        );
        return s;
      });
      assert.equal(withIngress.status?.loadBalancer?.ingress?.[0]?.ipMode, 'VIP');
      // The ingress address is served: the proxier now has rules for it.
      await eventually(() =>
        assert.ok(payloads.join('\n').includes('-d 192.0.2.1 '), 'no rule for the LB address'),
      );
      // A second node joins: the ingress lists both nodes' addresses.
      await client.resource(NODES).create('', node('n2', '192.0.2.2'));
      await eventually(async () => {
        const s = await client.resource(SERVICES).get('ns', 'lb');
        assert.deepEqual(
          s.status?.loadBalancer?.ingress?.map((i) => i.ip),
          ['192.0.2.1', '192.0.2.2'],
        );
      });
      await client.resource(NODES).delete('', 'n2');
    } finally {
      await p.stop();
    }
  });
});

describe('ServiceLB helpers', () => {
  it('computes ingress from Ready nodes and leaves classed Services alone', () => {
    const n1 = node('n1', '192.0.2.1');
    const n2 = node('n2', '192.0.2.2');
    n2.status?.addresses?.push({ type: 'ExternalIP', address: '203.0.113.2' });
    const n3 = node('n3', '192.0.2.3');
    if (n3.status?.conditions?.[0] !== undefined) n3.status.conditions[0].status = 'False';
    assert.deepEqual(loadBalancerAddresses([n3, n2, n1]), ['192.0.2.1', '203.0.113.2']);

    const lb = service('ns', 'a', 'LoadBalancer', 80);
    assert.deepEqual(desiredIngress(lb, ['192.0.2.1']), ['192.0.2.1']);
    lb.status = { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } };
    assert.equal(desiredIngress(lb, ['192.0.2.1']), undefined);
    const classed = service('ns', 'b', 'LoadBalancer', 80);
    if (classed.spec !== undefined) classed.spec.loadBalancerClass = 'example.com/lb';
    assert.equal(desiredIngress(classed, ['192.0.2.1']), undefined);
    const wasLB = service('ns', 'c', 'ClusterIP', 80);
    wasLB.status = { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } };
    assert.deepEqual(desiredIngress(wasLB, ['192.0.2.1']), []);
    wasLB.status = { loadBalancer: { ingress: [{ ip: '198.51.100.1' }] } };
    assert.equal(desiredIngress(wasLB, ['192.0.2.1']), undefined);
  });
});
