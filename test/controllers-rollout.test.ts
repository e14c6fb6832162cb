// `kubectl rollout` (status, history, history --revision, undo, undo --to-revision, restart)
// for StatefulSets, DaemonSets and Deployments, with the real kubectl against an API server,
// the controller manager (each controller under its own service account), the scheduler and
// hollow nodes. kubectl reads ControllerRevisions' `data` (or ReplicaSets' templates) for
// history and undo and judges progress from the status fields the controllers maintain.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ServiceAccountClientBuilder } from '../src/client/controller-client-builder.js';
import { loadKubeconfig } from '../src/client/kubeconfig.js';
import { stderrLogger } from '../src/client/log.js';
import { NODES } from '../src/client/resources.js';
import { RestClient } from '../src/client/rest-client.js';
import { ControllerManager } from '../src/controllers/manager.js';
import { controllerRegistry } from '../src/controllers/registry.js';
import { type HollowNodes, startHollowNodes } from '../src/hollow/hollow-nodes.js';
import { runScheduler } from '../src/scheduler/run.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';
import { Kubectl } from './helpers/kubectl.js';

let srv: TestApiServer;
let client: RestClient;
let kubectl: Kubectl;
let hollow: HollowNodes;
let builder: ServiceAccountClientBuilder;
const ac = new AbortController();
const running: Promise<void>[] = [];
const debug = process.env.KTS_DEBUG ? { log: stderrLogger('kcm', true) } : {};

before(async () => {
  srv = await startTestApiServer('memory://');
  const config = { ...loadKubeconfig(srv.server.kubeconfigPath), qps: 0 };
  client = new RestClient(config);
  kubectl = new Kubectl(srv.server.kubeconfigPath);
  hollow = await startHollowNodes({
    kubeconfig: srv.server.kubeconfigPath,
    count: 2,
    namePrefix: 'ro',
    cpu: '8',
    memory: '32Gi',
    pods: 50,
    deletionDelayMs: 50,
    leaseRenewIntervalMs: 1000,
    nodeStatusIntervalMs: 5000,
  });
  // Admission taints new nodes not-ready until the node lifecycle controller (not run here) clears it.
  for (const n of (await client.resource(NODES).list('')).items) {
    await client.resource(NODES).patch('', n.metadata?.name ?? '', 'merge', { spec: { taints: null } });
  }
  builder = new ServiceAccountClientBuilder({ client, config });
  const manager = new ControllerManager({
    client,
    clientBuilder: builder,
    registry: controllerRegistry,
    controllers: ['deployment', 'replicaset', 'statefulset', 'daemonset', 'garbage-collector'],
    ...debug,
  });
  running.push(manager.run(ac.signal));
  let ready!: () => void;
  const schedulerReady = new Promise<void>((r) => {
    ready = r;
  });
  running.push(runScheduler({ client, signal: ac.signal, onReady: () => ready() }));
  await schedulerReady;
});

after(async () => {
  ac.abort();
  await Promise.all(running);
  builder.close();
  await hollow.close();
  client.close();
  kubectl.cleanup();
  await srv.stop();
});

const MANIFESTS: Record<string, string> = {
  statefulset: `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  replicas: 2
  serviceName: web
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: "busybox:1"}], terminationGracePeriodSeconds: 0}
`,
  daemonset: `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {containers: [{name: c, image: "busybox:1"}], terminationGracePeriodSeconds: 0}
`,
  deployment: `apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: c, image: "busybox:1"}], terminationGracePeriodSeconds: 0}
`,
};

const NAMES: Record<string, string> = { statefulset: 'web', daemonset: 'agent', deployment: 'api' };

async function image(ref: string): Promise<string> {
  return kubectl.ok(['get', ref, '-o', 'jsonpath={.spec.template.spec.containers[0].image}']);
}

async function status(ref: string): Promise<string> {
  return kubectl.ok(['rollout', 'status', ref, '--timeout=60s']);
}

// The REVISION column of `kubectl rollout history`.
function revisions(history: string): number[] {
  return history
    .split('\n')
    .slice(2)
    .map((l) => Number.parseInt(l.trim().split(/\s+/)[0] ?? '', 10))
    .filter((n) => Number.isFinite(n));
}

// The three kinds touch disjoint objects, so they run side by side.
describe('kubectl rollout (integration)', { concurrency: true }, () => {
  for (const kind of ['statefulset', 'daemonset', 'deployment']) {
    const ref = `${kind}/${NAMES[kind]}`;
    it(`${kind}: status, history, undo, undo --to-revision and restart`, async () => {
      await kubectl.ok(['apply', '-f', '-'], { stdin: MANIFESTS[kind] ?? '' });
      const first = await status(ref);
      // A StatefulSet defaults to a partitioned (partition 0) RollingUpdate, reported as such.
      assert.match(first, /successfully rolled out|partitioned roll out complete: 2 new pods/);

      await kubectl.ok(['set', 'image', ref, 'c=busybox:2']);
      await status(ref);
      assert.equal(await image(ref), 'busybox:2');
      const history = await kubectl.ok(['rollout', 'history', ref]);
      assert.match(history, new RegExp(`^${kind}\\.apps/${NAMES[kind]} $`, 'm'));
      assert.deepEqual(revisions(history), [1, 2]);
      const rev1 = await kubectl.ok(['rollout', 'history', ref, '--revision=1']);
      assert.match(rev1, /revision #1/);
      assert.match(rev1, /Image:\s+busybox:1/);

      // undo goes back to the previous revision, which becomes the newest one.
      const undone = await kubectl.ok(['rollout', 'undo', ref]);
      assert.match(undone, new RegExp(`${NAMES[kind]} rolled back`));
      await status(ref);
      assert.equal(await image(ref), 'busybox:1');
      assert.deepEqual(revisions(await kubectl.ok(['rollout', 'history', ref])), [2, 3]);

      await kubectl.ok(['rollout', 'undo', ref, '--to-revision=2']);
      await status(ref);
      assert.equal(await image(ref), 'busybox:2');
      assert.deepEqual(revisions(await kubectl.ok(['rollout', 'history', ref])), [3, 4]);

      const restarted = await kubectl.ok(['rollout', 'restart', ref]);
      assert.match(restarted, /restarted/);
      await status(ref);
      const at = await kubectl.ok([
        'get',
        ref,
        '-o',
        'jsonpath={.spec.template.metadata.annotations.kubectl\\.kubernetes\\.io/restartedAt}',
      ]);
      assert.notEqual(at, '');
      assert.deepEqual(revisions(await kubectl.ok(['rollout', 'history', ref])), [3, 4, 5]);

      // Status fields kubectl relies on are current.
      const st = JSON.parse(await kubectl.ok(['get', ref, '-o', 'json'])) as {
        metadata: { generation: number };
        status: Record<string, unknown>;
      };
      assert.equal(st.status.observedGeneration, st.metadata.generation);
      if (kind === 'statefulset') {
        assert.equal(st.status.updatedReplicas, 2);
        assert.equal(st.status.currentRevision, st.status.updateRevision);
      } else if (kind === 'daemonset') {
        assert.equal(st.status.updatedNumberScheduled, 2);
        assert.equal(st.status.numberAvailable, 2);
      } else {
        assert.equal(st.status.updatedReplicas, 2);
        assert.equal(st.status.availableReplicas, 2);
      }
    });
  }
});
