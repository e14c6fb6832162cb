// runClusterDNS against a real API server: Services and EndpointSlices created through the
// API are answered by the DNS server over UDP on loopback, through Node's own resolver;
// ensureDNSService creates the selector-less kube-dns Service and its EndpointSlice; the
// system:kts-dns identity can run the DNS informers.
import assert from 'node:assert/strict';
import { promises as dnsp } from 'node:dns';
import { after, before, describe, it } from 'node:test';
import type { Service } from '../src/api/generated/types/core-v1.js';
import type { EndpointSlice } from '../src/api/generated/types/discovery-v1.js';
import { loadKubeconfig } from '../src/client/kubeconfig.js';
import { ENDPOINTSLICES, NAMESPACES, SERVICES } from '../src/client/resources.js';
import { RestClient } from '../src/client/rest-client.js';
import { DNS_CLUSTER_IP, ensureDNSService, runClusterDNS } from '../src/dns/run.js';
import { ensureClusterPKI } from '../src/pki/cluster-pki.js';
import { createKeyPair } from '../src/pki/x509.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';

let api: TestApiServer;
let client: RestClient;
const stop = new AbortController();
let port = 0;
let done: Promise<void>;

async function eventually<T>(fn: () => Promise<T>, timeoutMs = 3000): Promise<T> {
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

function resolver(): dnsp.Resolver {
  const r = new dnsp.Resolver({ timeout: 500, tries: 2 });
  r.setServers([`127.0.0.1:${port}`]);
  return r;
}

async function a(name: string): Promise<string[]> {
  return (await resolver().resolve4(name)).sort();
}

async function nxdomain(name: string): Promise<void> {
  await assert.rejects(resolver().resolve4(name), (e: NodeJS.ErrnoException) => e.code === 'ENOTFOUND');
}

function slice(ns: string, svc: string, ips: string[]): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${svc}-x1`, namespace: ns, labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
}

function service(ns: string, name: string, clusterIP?: string): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns },
    spec: {
      ...(clusterIP !== undefined ? { clusterIP } : {}),
      ports: [{ name: 'http', port: 80, targetPort: 8080 }],
    },
  };
}

before(async () => {
  api = await startTestApiServer();
  client = new RestClient(loadKubeconfig(api.server.kubeconfigPath));
  await client.resource(NAMESPACES).create('', { metadata: { name: 'ns' } });
  const ready = new Promise<void>((resolve) => {
    done = runClusterDNS({
      client,
      address: '127.0.0.1',
      port: 0,
      forwarders: [],
      signal: stop.signal,
      onReady: (server) => {
        port = server.port;
        resolve();
      },
    });
  });
  await ready;
});

after(async () => {
  stop.abort();
  await done;
  await api.stop();
});

describe('runClusterDNS', () => {
  it('answers a ClusterIP Service and follows updates and deletes', async () => {
    const svcs = client.resource(SERVICES);
    const created = await svcs.create('ns', service('ns', 'web'));
    const ip = created.spec?.clusterIP ?? '';
    assert.match(ip, /^10\.43\./);
    assert.deepEqual(await eventually(() => a('web.ns.svc.cluster.local')), [ip]);

    // Changing the ClusterIP means recreating the Service (the field is immutable).
    await svcs.delete('ns', 'web');
    await eventually(() => nxdomain('web.ns.svc.cluster.local'));
    const again = await svcs.create('ns', service('ns', 'web', '10.43.7.7'));
    assert.equal(again.spec?.clusterIP, '10.43.7.7');
    assert.deepEqual(await eventually(() => a('web.ns.svc.cluster.local')), ['10.43.7.7']);

    // An update the DNS model sees: the service turns into an ExternalName.
    const cur = await svcs.get('ns', 'web');
    await svcs.update('ns', {
      ...cur,
      spec: { type: 'ExternalName', externalName: 'example.invalid', ports: cur.spec?.ports },
    });
    const cname = await eventually(async () => {
      const r = await resolver().resolveCname('web.ns.svc.cluster.local');
      assert.deepEqual(r, ['example.invalid']);
      return r;
    });
    assert.deepEqual(cname, ['example.invalid']);
    await svcs.delete('ns', 'web');
    await eventually(() => nxdomain('web.ns.svc.cluster.local'));
  });

  it('answers a headless Service with its EndpointSlice addresses', async () => {
    await client.resource(SERVICES).create('ns', service('ns', 'db', 'None'));
    const slices = client.resource(ENDPOINTSLICES);
    await slices.create('ns', slice('ns', 'db', ['10.42.0.5', '10.42.0.6']));
    assert.deepEqual(await eventually(() => a('db.ns.svc.cluster.local')), ['10.42.0.5', '10.42.0.6']);
    const cur = await slices.get('ns', 'db-x1');
    await slices.update('ns', { ...cur, endpoints: slice('ns', 'db', ['10.42.0.7']).endpoints });
    await eventually(async () => assert.deepEqual(await a('db.ns.svc.cluster.local'), ['10.42.0.7']));
    await slices.delete('ns', 'db-x1');
    // As CoreDNS: a headless Service without endpoints has no name at all.
    await eventually(() => nxdomain('db.ns.svc.cluster.local'));
  });

  it('ensureDNSService creates the selector-less kube-dns Service and its slice, idempotently', async () => {
    assert.equal(
      await ensureDNSService(client, { nodeAddress: '192.0.2.10', port: 10053, nodeName: 'n1' }),
      true,
    );
    assert.equal(
      await ensureDNSService(client, { nodeAddress: '192.0.2.10', port: 10053, nodeName: 'n1' }),
      true,
    );
    const svc = await client.resource(SERVICES).get('kube-system', 'kube-dns');
    assert.equal(svc.spec?.clusterIP, DNS_CLUSTER_IP);
    assert.equal(svc.spec?.selector, undefined);
    assert.deepEqual(
      svc.spec?.ports?.map((p) => [p.name, p.port, p.protocol, p.targetPort]),
      [
        ['dns', 53, 'UDP', 10053],
        ['dns-tcp', 53, 'TCP', 10053],
      ],
    );
    const s = await client.resource(ENDPOINTSLICES).get('kube-system', 'kube-dns-kts');
    const rv = s.metadata?.resourceVersion;
    assert.equal(s.metadata?.labels?.['endpointslice.kubernetes.io/managed-by'], 'kts');
    assert.equal(s.metadata?.ownerReferences?.[0]?.uid, svc.metadata?.uid);
    assert.deepEqual(s.endpoints?.[0]?.addresses, ['192.0.2.10']);
    assert.deepEqual(
      s.ports?.map((p) => [p.name, p.port, p.protocol]),
      [
        ['dns', 10053, 'UDP'],
        ['dns-tcp', 10053, 'TCP'],
      ],
    );
    // Nothing changed on the second call.
    assert.equal(
      (await client.resource(ENDPOINTSLICES).get('kube-system', 'kube-dns-kts')).metadata?.resourceVersion,
      rv,
    );
    // A new address or port is written through.
    await ensureDNSService(client, { nodeAddress: '192.0.2.11', port: 53 });
    const s2 = await client.resource(ENDPOINTSLICES).get('kube-system', 'kube-dns-kts');
    assert.deepEqual(s2.endpoints?.[0]?.addresses, ['192.0.2.11']);
    assert.equal(s2.ports?.[0]?.port, 53);
    const svc2 = await client.resource(SERVICES).get('kube-system', 'kube-dns');
    assert.equal(svc2.spec?.ports?.[0]?.targetPort, 53);
    assert.deepEqual(await eventually(() => a('kube-dns.kube-system.svc.cluster.local')), [DNS_CLUSTER_IP]);
  });

  it('runs as system:kts-dns', async () => {
    const pki = ensureClusterPKI(api.dataDir);
    const kp = createKeyPair(
      {
        subject: { commonName: 'system:kts-dns' },
        notAfter: new Date(Date.now() + 3600_000),
        usages: ['clientAuth'],
      },
      pki.ca,
    );
    const admin = loadKubeconfig(api.server.kubeconfigPath);
    const dnsClient = new RestClient({ ...admin, certData: kp.certPem, keyData: kp.keyPem });
    const ac = new AbortController();
    let dnsPort = 0;
    const ready = new Promise<void>((resolve, reject) => {
      runClusterDNS({
        client: dnsClient,
        address: '127.0.0.1',
        port: 0,
        forwarders: [],
        signal: ac.signal,
        onReady: (s) => {
          dnsPort = s.port;
          resolve();
        },
      }).catch(reject);
      setTimeout(() => reject(new Error('system:kts-dns could not sync its caches')), 4000).unref();
    });
    try {
      await ready;
      const r = new dnsp.Resolver({ timeout: 500, tries: 2 });
      r.setServers([`127.0.0.1:${dnsPort}`]);
      assert.deepEqual(await eventually(() => r.resolve4('kube-dns.kube-system.svc.cluster.local')), [
        DNS_CLUSTER_IP,
      ]);
    } finally {
      ac.abort();
    }
  });
});
