// Garbage collection and namespace deletion end to end: `kubectl delete
// --cascade=foreground|background|orphan` of a Deployment, and deleting a namespace
// removes everything in it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadKubeconfig } from '../src/client/kubeconfig.js';
import { CONFIGMAPS, DEPLOYMENTS, NAMESPACES, PODS, REPLICASETS } from '../src/client/resources.js';
import { RestClient } from '../src/client/rest-client.js';
import { MetadataClient } from '../src/client/metadata-client.js';
import { gvr } from '../src/client/interface.js';
import { ServiceAccountClientBuilder } from '../src/client/controller-client-builder.js';
import { ControllerManager } from '../src/controllers/manager.js';
import { controllerRegistry } from '../src/controllers/registry.js';
import { isNotFound } from '../src/machinery/status-error.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';
import { Kubectl } from './helpers/kubectl.js';
import { CONTROLLERS, ensureDefaultServiceAccount, SimulatedNodes } from './helpers/simulated-nodes.js';

let srv: TestApiServer;
let client: RestClient;
let kubectl: Kubectl;
let nodes: SimulatedNodes;
const ac = new AbortController();
let managerRun: Promise<void>;
let builder: ServiceAccountClientBuilder;

before(async () => {
  srv = await startTestApiServer('memory://');
  client = new RestClient(loadKubeconfig(srv.server.kubeconfigPath));
  kubectl = new Kubectl(srv.server.kubeconfigPath);
  await ensureDefaultServiceAccount(client, 'default');
  nodes = await SimulatedNodes.start(srv.server.kubeconfigPath);
  // Each controller runs as its own kube-system ServiceAccount, as in `kts server`.
  builder = new ServiceAccountClientBuilder({ client, config: loadKubeconfig(srv.server.kubeconfigPath) });
  managerRun = new ControllerManager({
    client,
    clientBuilder: builder,
    registry: controllerRegistry,
    controllers: CONTROLLERS,
  }).run(ac.signal);
});

after(async () => {
  ac.abort();
  await managerRun;
  builder.close();
  await nodes.stop();
  client.close();
  kubectl.cleanup();
  await srv.stop();
});

async function until(what: string, cond: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function deploy(name: string, ns = 'default'): Promise<void> {
  await kubectl.ok(['create', 'deployment', name, '--image=nginx', '--replicas=2', '-n', ns]);
  await kubectl.ok(['rollout', 'status', `deployment/${name}`, '-n', ns, '--timeout=30s']);
}

async function counts(
  name: string,
  ns = 'default',
): Promise<{ rs: number; pods: number; ownedPods: number }> {
  const rs = await client.resource(REPLICASETS).list(ns, { labelSelector: `app=${name}` });
  const pods = await client.resource(PODS).list(ns, { labelSelector: `app=${name}` });
  return {
    rs: rs.items.length,
    pods: pods.items.length,
    ownedPods: pods.items.filter((p) => (p.metadata?.ownerReferences ?? []).length > 0).length,
  };
}

async function gone(get: () => Promise<unknown>): Promise<boolean> {
  try {
    await get();
    return false;
  } catch (err) {
    if (isNotFound(err)) return true;
    throw err;
  }
}

describe('garbage collector and namespace controller (integration)', () => {
  it('background deletion removes the ReplicaSets and pods after the Deployment', async () => {
    await deploy('bg');
    await kubectl.ok(['delete', 'deployment/bg', '--cascade=background']);
    await until('dependents gone', async () => {
      const c = await counts('bg');
      return c.rs === 0 && c.pods === 0;
    });
  });

  it('foreground deletion removes dependents before the Deployment', async () => {
    await deploy('fg');
    await kubectl.ok(['delete', 'deployment/fg', '--cascade=foreground', '--wait=false']);
    // While dependents exist the Deployment is held by the foregroundDeletion finalizer.
    const d = await client
      .resource(DEPLOYMENTS)
      .get('default', 'fg')
      .catch(() => undefined);
    if (d !== undefined) {
      assert.ok(d.metadata?.deletionTimestamp !== undefined);
      assert.ok((d.metadata?.finalizers ?? []).includes('foregroundDeletion'));
    }
    await until('deployment gone', () => gone(() => client.resource(DEPLOYMENTS).get('default', 'fg')));
    const c = await counts('fg');
    assert.equal(c.rs, 0);
    assert.equal(c.pods, 0);
  });

  it('orphan deletion keeps the ReplicaSet and pods without the owner reference', async () => {
    await deploy('or');
    await kubectl.ok(['delete', 'deployment/or', '--cascade=orphan']);
    await until('deployment gone', () => gone(() => client.resource(DEPLOYMENTS).get('default', 'or')));
    const rs = await client.resource(REPLICASETS).list('default', { labelSelector: 'app=or' });
    assert.equal(rs.items.length, 1);
    assert.deepEqual(rs.items[0]?.metadata?.ownerReferences ?? [], []);
    const c = await counts('or');
    assert.equal(c.pods, 2);
    assert.equal(c.ownedPods, 2, 'pods still belong to the orphaned ReplicaSet');
  });

  it('deleting a namespace removes everything in it', async () => {
    await kubectl.ok(['create', 'namespace', 'doomed']);
    await ensureDefaultServiceAccount(client, 'doomed');
    await deploy('app', 'doomed');
    await kubectl.ok(['create', 'configmap', 'cfg', '-n', 'doomed', '--from-literal=a=b']);
    await kubectl.ok(['delete', 'namespace', 'doomed', '--wait=false']);
    await until('namespace gone', () => gone(() => client.resource(NAMESPACES).get('', 'doomed')), 30_000);
    const pods = await client.resource(PODS).list('doomed');
    assert.equal(pods.items.length, 0);
  });

  it('the metadata client lists, gets and watches PartialObjectMetadata', async () => {
    const meta = new MetadataClient(client);
    const cms = meta.resource(gvr('', 'v1', 'configmaps'));
    await client.resource(CONFIGMAPS).create('default', {
      metadata: { name: 'meta', labels: { m: '1' } },
      data: { big: 'x'.repeat(1000) },
    });
    const list = await cms.list('default', { labelSelector: 'm=1' });
    assert.equal(list.kind, 'PartialObjectMetadataList');
    assert.equal(list.apiVersion, 'meta.k8s.io/v1');
    assert.equal(list.items.length, 1);
    assert.equal(list.items[0]?.kind, 'PartialObjectMetadata');
    assert.equal(list.items[0]?.metadata?.name, 'meta');
    assert.equal((list.items[0] as Record<string, unknown>).data, undefined);
    const one = await cms.get('default', 'meta');
    assert.deepEqual(
      [one.kind, one.apiVersion, one.metadata?.labels],
      ['PartialObjectMetadata', 'meta.k8s.io/v1', { m: '1' }],
    );
    const wac = new AbortController();
    const events: string[] = [];
    const watching = (async () => {
      for await (const ev of cms.watch('default', {
        resourceVersion: list.metadata.resourceVersion,
        allowWatchBookmarks: true,
        signal: wac.signal,
      })) {
        if (ev.type === 'ERROR') throw ev.error;
        events.push(`${ev.type} ${ev.object.kind} ${ev.object.metadata?.name ?? ''}`);
        if (ev.type === 'DELETED') break;
      }
    })();
    await client.resource(CONFIGMAPS).delete('default', 'meta');
    await watching;
    wac.abort();
    assert.deepEqual(events, ['DELETED PartialObjectMetadata meta']);
  });
});
