// Two in-process API servers on one etcd (issue #9, HA) allocate ClusterIPs and NodePorts
// through the allocation keys in the datastore: Services created at the same time through
// both get distinct values; a value taken through one server is refused through the other
// with upstream's message (checked with the real kubectl); a deleted Service's values can be
// taken through the other server; a Service stored without keys (a cluster from before the
// keys, written into etcd before the servers start) gets them at start. etcd and both
// servers are stopped and their temp dirs removed.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { KObject } from '../src/apiserver/registry/object.js';
import { RANGES_PREFIX } from '../src/apiserver/registry/service-allocator.js';
import type { WriteOptions } from '../src/apiserver/registry/store.js';
import { type ApiServer, startApiServer } from '../src/apiserver/server.js';
import { type EtcdProcess, startEtcd } from '../src/storage/etcd-server.js';
import { openStorage } from '../src/storage/factory.js';
import { Kubectl } from './helpers/kubectl.js';

const wo = (): WriteOptions => ({ dryRun: false, fieldManager: 'test', subresource: '', warnings: [] });

function svc(name: string, spec: Record<string, unknown> = {}): KObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { ports: [{ port: 80 }], ...spec } };
}

function spec(o: KObject): { clusterIP?: string; ports?: { nodePort?: number }[] } {
  return (o.spec ?? {}) as { clusterIP?: string; ports?: { nodePort?: number }[] };
}

describe('Service allocation across two API servers on one etcd', () => {
  let etcd: EtcdProcess;
  const dirs: string[] = [];
  const servers: ApiServer[] = [];
  const kubectls: Kubectl[] = [];

  async function start(): Promise<ApiServer> {
    const dataDir = mkdtempSync(join(tmpdir(), 'kts-alloc-ha-'));
    dirs.push(dataDir);
    const s = await startApiServer({
      dataDir,
      httpsPort: 0,
      bindAddress: '127.0.0.1',
      datastoreEndpoint: etcd.endpoint,
      serviceCIDR: '10.43.0.0/24',
      nodePortRange: [30000, 30199],
    });
    servers.push(s);
    return s;
  }

  before(async () => {
    etcd = await startEtcd();
    // A Service from a cluster made before allocation keys existed.
    const raw = await openStorage(etcd.endpoint);
    const legacy = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'legacy',
        namespace: 'default',
        uid: 'legacy-uid',
        creationTimestamp: '2026-01-01T00:00:00Z',
      },
      spec: {
        type: 'ClusterIP',
        clusterIP: '10.43.0.12',
        clusterIPs: ['10.43.0.12'],
        ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }],
      },
    };
    await raw.create(
      '/registry/core/services/default/legacy',
      new TextEncoder().encode(JSON.stringify(legacy)),
    );
    await raw.close();
  });

  after(async () => {
    for (const k of kubectls) k.cleanup();
    for (const s of servers) await s.close().catch(() => {});
    await etcd?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('hands out each ClusterIP and NodePort once, refuses taken ones, frees deleted ones', async () => {
    const a = await start();
    const b = await start();
    const sa = a.stores.byName('', 'services');
    const sb = b.stores.byName('', 'services');
    // 120 Services in a /24 (253 free addresses) and 200 node ports: the two servers' views
    // collide often, and only the datastore keeps them apart.
    const made = await Promise.all(
      Array.from({ length: 120 }, (_, i) =>
        (i % 2 === 0 ? sa : sb).create(
          'default',
          svc(`s${i}`, i % 3 === 0 ? { type: 'NodePort' } : {}),
          wo(),
        ),
      ),
    );
    const ips = made.map((o) => spec(o).clusterIP);
    assert.equal(new Set(ips).size, 120);
    assert.ok(!ips.includes('10.43.0.1'), 'the kubernetes Service keeps its address');
    const ports = made
      .flatMap((o) => (spec(o).ports ?? []).map((p) => p.nodePort))
      .filter((p) => p !== undefined);
    assert.equal(ports.length, 40);
    assert.equal(new Set(ports).size, 40);
    // Every value has its key: 120 IPs + 40 ports + the kubernetes and legacy Services' IPs.
    assert.equal(await a.storage.count(RANGES_PREFIX), 162);

    const ka = new Kubectl(a.kubeconfigPath);
    const kb = new Kubectl(b.kubeconfigPath);
    kubectls.push(ka, kb);
    await ka.ok(['create', 'service', 'nodeport', 'taken', '--tcp=80:80', '--node-port=30008']);
    const ip = (await ka.ok(['get', 'service', 'taken', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    const r1 = await kb.run(['create', 'service', 'clusterip', 'other', '--tcp=80:80', `--clusterip=${ip}`]);
    assert.notEqual(r1.code, 0);
    assert.equal(
      r1.stderr.trim(),
      `error: failed to create ClusterIP service: Service "other" is invalid: spec.clusterIPs: Invalid value: []string{"${ip}"}: failed to allocate IP ${ip}: provided IP is already allocated`,
    );
    const r2 = await kb.run(['create', 'service', 'nodeport', 'other', '--tcp=80:80', '--node-port=30008']);
    assert.notEqual(r2.code, 0);
    assert.equal(
      r2.stderr.trim(),
      'error: failed to create NodePort service: Service "other" is invalid: spec.ports[0].nodePort: Invalid value: 30008: provided port is already allocated',
    );
    await ka.ok(['delete', 'service', 'taken']);
    // The release follows the delete's response; the keys are gone soon after.
    let out = '';
    for (let i = 0; i < 50; i++) {
      const r = await kb.run(['create', 'service', 'nodeport', 'other', '--tcp=80:80', '--node-port=30008']);
      out = r.stdout + r.stderr;
      if (r.code === 0) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.match(out, /service\/other created/);
  });

  it('gave a key to the Service stored before the keys existed when the servers started', async () => {
    const [a, b] = servers;
    assert.ok(a && b);
    const kv = await a.storage.get(`${RANGES_PREFIX}serviceips/10.43.0.12`);
    assert.ok(kv, 'the starting server created the key');
    await assert.rejects(
      b.stores.byName('', 'services').create('default', svc('clash', { clusterIP: '10.43.0.12' }), wo()),
      /provided IP is already allocated/,
    );
  });
});
