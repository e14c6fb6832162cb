// Two controller managers with leader election against one API server: only the leader
// runs controllers; when it stops, the other takes over well within 20 s.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadKubeconfig } from '../src/client/kubeconfig.js';
import { LEASES, REPLICASETS } from '../src/client/resources.js';
import { RestClient } from '../src/client/rest-client.js';
import { ControllerManager } from '../src/controllers/manager.js';
import { controllerRegistry } from '../src/controllers/registry.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';
import { CONTROLLERS, ensureDefaultServiceAccount, SimulatedNodes } from './helpers/simulated-nodes.js';

let srv: TestApiServer;
let client: RestClient;
let nodes: SimulatedNodes;

before(async () => {
  srv = await startTestApiServer('memory://');
  client = new RestClient(loadKubeconfig(srv.server.kubeconfigPath));
  await ensureDefaultServiceAccount(client, 'default');
  nodes = await SimulatedNodes.start(srv.server.kubeconfigPath);
});

after(async () => {
  await nodes.stop();
  client.close();
  await srv.stop();
});

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function candidate(identity: string): { m: ControllerManager; ac: AbortController; run: Promise<void> } {
  const m = new ControllerManager({
    client,
    registry: controllerRegistry,
    controllers: CONTROLLERS,
    leaderElect: true,
    // A 2 s lease could lapse on a loaded CI machine and briefly leave no or two leaders.
    leaderElection: { identity, leaseDurationMs: 4000, renewDeadlineMs: 3000, retryPeriodMs: 200 },
  });
  const ac = new AbortController();
  return { m, ac, run: m.run(ac.signal) };
}

async function readyReplicas(name: string): Promise<number> {
  const rs = await client.resource(REPLICASETS).get('default', name);
  return rs.status?.readyReplicas ?? 0;
}

function replicaSet(name: string): Parameters<ReturnType<RestClient['resource']>['create']>[1] {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'c', image: 'nginx' }] },
      },
    },
  } as never;
}

describe('controller manager leader election', () => {
  it('runs controllers only in the leader and fails over', async () => {
    const a = candidate('kcm-a');
    const b = candidate('kcm-b');
    // Both candidates stop whatever happens: a failed assertion must not leave them running.
    try {
      await until('a leader', () => a.m.isLeading() || b.m.isLeading());
      await new Promise((r) => setTimeout(r, 300));
      assert.notEqual(a.m.isLeading(), b.m.isLeading(), 'exactly one leader');
      const [leader, follower] = a.m.isLeading() ? [a, b] : [b, a];
      assert.deepEqual(follower.m.startedControllers(), []);
      const lease = await client.resource(LEASES).get('kube-system', 'kube-controller-manager');
      assert.equal(lease.spec?.holderIdentity, leader === a ? 'kcm-a' : 'kcm-b');

      await client.resource(REPLICASETS).create('default', replicaSet('one'));
      await until('leader acts', async () => (await readyReplicas('one')) === 2);

      const t0 = Date.now();
      leader.ac.abort();
      await leader.run;
      await until('follower takes over', () => follower.m.isLeading(), 20_000);
      assert.ok(Date.now() - t0 < 20_000);
      await client.resource(REPLICASETS).create('default', replicaSet('two'));
      await until('new leader acts', async () => (await readyReplicas('two')) === 2);
      follower.ac.abort();
      await follower.run;
    } finally {
      a.ac.abort();
      b.ac.abort();
      await Promise.allSettled([a.run, b.run]);
    }
  });
});
