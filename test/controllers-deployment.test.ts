// Deployments end to end: a test API server, the controller manager (in process) and
// simulated nodes, driven by the real kubectl — availability, scaling, rolling updates
// within maxUnavailable, rollout history/undo, pause/resume and Recreate.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Deployment, ReplicaSet } from '../src/api/generated/types/apps-v1.js';
import { loadKubeconfig } from '../src/client/kubeconfig.js';
import { DEPLOYMENTS, PODS, REPLICASETS } from '../src/client/resources.js';
import { stderrLogger } from '../src/client/log.js';
import { RestClient } from '../src/client/rest-client.js';
import { ServiceAccountClientBuilder } from '../src/client/controller-client-builder.js';
import { ControllerManager } from '../src/controllers/manager.js';
import { controllerRegistry } from '../src/controllers/registry.js';
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
  nodes = await SimulatedNodes.start(srv.server.kubeconfigPath);
  await ensureDefaultServiceAccount(client, 'default');
  // Each controller runs as its own kube-system ServiceAccount, as in `kts server`.
  builder = new ServiceAccountClientBuilder({ client, config: loadKubeconfig(srv.server.kubeconfigPath) });
  const manager = new ControllerManager({
    client,
    clientBuilder: builder,
    registry: controllerRegistry,
    controllers: CONTROLLERS,
    ...(process.env.KTS_DEBUG ? { log: stderrLogger('kcm', true) } : {}),
  });
  managerRun = manager.run(ac.signal);
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

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function deployment(name: string, replicas: number, image: string, extra = ''): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
      - name: c
        image: ${image}
${extra}`;
}

async function rsOf(name: string): Promise<ReplicaSet[]> {
  const list = await client.resource(REPLICASETS).list('default', { labelSelector: `app=${name}` });
  return list.items;
}

async function activePods(name: string): Promise<number> {
  const list = await client.resource(PODS).list('default', { labelSelector: `app=${name}` });
  return list.items.filter((p) => p.metadata?.deletionTimestamp === undefined).length;
}

describe('deployment controller (integration)', () => {
  it('makes a 3-replica Deployment available (kubectl rollout status)', async () => {
    await kubectl.ok(['apply', '-f', '-'], { stdin: deployment('web', 3, 'nginx:1') });
    const out = await kubectl.ok(['rollout', 'status', 'deployment/web', '--timeout=30s']);
    assert.match(out, /successfully rolled out/);
    const d: Deployment = await client.resource(DEPLOYMENTS).get('default', 'web');
    assert.equal(d.status?.replicas, 3);
    assert.equal(d.status?.updatedReplicas, 3);
    assert.equal(d.status?.readyReplicas, 3);
    assert.equal(d.status?.availableReplicas, 3);
    assert.equal(d.status?.observedGeneration, d.metadata?.generation);
    assert.equal(d.metadata?.annotations?.['deployment.kubernetes.io/revision'], '1');
    const conds = Object.fromEntries((d.status?.conditions ?? []).map((c) => [c.type, c.reason]));
    assert.deepEqual(conds, { Available: 'MinimumReplicasAvailable', Progressing: 'NewReplicaSetAvailable' });
    const rss = await rsOf('web');
    assert.equal(rss.length, 1);
    const hash = rss[0]?.metadata?.labels?.['pod-template-hash'] ?? '';
    assert.equal(rss[0]?.metadata?.name, `web-${hash}`);
    const events = await kubectl.ok([
      'get',
      'events',
      '--field-selector',
      'involvedObject.name=web',
      '-o',
      'jsonpath={.items[*].message}',
    ]);
    assert.match(events, new RegExp(`Scaled up replica set web-${hash} from 0 to 3`));
  });

  it('scales up and down', async () => {
    await kubectl.ok(['scale', 'deployment/web', '--replicas=5']);
    await kubectl.ok(['rollout', 'status', 'deployment/web', '--timeout=30s']);
    await until('5 pods', async () => ((await activePods('web')) === 5 ? true : undefined));
    await kubectl.ok(['scale', 'deployment/web', '--replicas=2']);
    await kubectl.ok(['rollout', 'status', 'deployment/web', '--timeout=30s']);
    await until('2 pods', async () => ((await activePods('web')) === 2 ? true : undefined));
  });

  it('rolls a template change out keeping replicas - maxUnavailable available', async () => {
    await kubectl.ok(['apply', '-f', '-'], {
      stdin: deployment(
        'roll',
        4,
        'nginx:1',
        '  strategy:\n    type: RollingUpdate\n    rollingUpdate: {maxSurge: 1, maxUnavailable: 1}\n',
      ),
    });
    await kubectl.ok(['rollout', 'status', 'deployment/roll', '--timeout=30s']);
    let minAvailable = Number.POSITIVE_INFINITY;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const rss = await rsOf('roll');
        const available = rss.reduce((n, rs) => n + (rs.status?.availableReplicas ?? 0), 0);
        minAvailable = Math.min(minAvailable, available);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    await kubectl.ok(['set', 'image', 'deployment/roll', 'c=nginx:2']);
    await kubectl.ok(['rollout', 'status', 'deployment/roll', '--timeout=30s']);
    watching = false;
    await watcher;
    assert.ok(minAvailable >= 3, `availability dropped to ${minAvailable}`);
    const rss = await rsOf('roll');
    assert.equal(rss.length, 2);
    const byRev = Object.fromEntries(
      rss.map((rs) => [rs.metadata?.annotations?.['deployment.kubernetes.io/revision'], rs.spec?.replicas]),
    );
    assert.deepEqual(byRev, { '1': 0, '2': 4 });
  });

  it('keeps rollout history and undoes a rollout', async () => {
    const history = await kubectl.ok(['rollout', 'history', 'deployment/roll']);
    assert.match(history, /REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);
    await kubectl.ok(['rollout', 'undo', 'deployment/roll']);
    await until('undo observed', async () => {
      const d = await client.resource(DEPLOYMENTS).get('default', 'roll');
      return d.spec?.template.spec?.containers[0]?.image === 'nginx:1' ? true : undefined;
    });
    await kubectl.ok(['rollout', 'status', 'deployment/roll', '--timeout=30s']);
    const d = await client.resource(DEPLOYMENTS).get('default', 'roll');
    assert.equal(d.metadata?.annotations?.['deployment.kubernetes.io/revision'], '3');
    const after = await kubectl.ok(['rollout', 'history', 'deployment/roll']);
    assert.match(after, /\n2\s+<none>\n3\s+<none>/);
    const rev1 = (await rsOf('roll')).find(
      (rs) => rs.spec?.template?.spec?.containers[0]?.image === 'nginx:1',
    );
    assert.equal(rev1?.metadata?.annotations?.['deployment.kubernetes.io/revision-history'], '1');
  });

  it('makes no rollout progress while paused, and resumes', async () => {
    await kubectl.ok(['rollout', 'pause', 'deployment/web']);
    await kubectl.ok(['set', 'image', 'deployment/web', 'c=nginx:3']);
    await until('paused condition', async () => {
      const d = await client.resource(DEPLOYMENTS).get('default', 'web');
      const c = d.status?.conditions?.find((x) => x.type === 'Progressing');
      return c?.reason === 'DeploymentPaused' && d.status?.observedGeneration === d.metadata?.generation
        ? true
        : undefined;
    });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await rsOf('web')).length, 1, 'no new ReplicaSet while paused');
    await kubectl.ok(['rollout', 'resume', 'deployment/web']);
    await kubectl.ok(['rollout', 'status', 'deployment/web', '--timeout=30s']);
    const rss = await rsOf('web');
    assert.equal(rss.length, 2);
  });

  it('rolls out with Recreate: old pods are gone before new ones start', async () => {
    await kubectl.ok(['apply', '-f', '-'], {
      stdin: deployment('rec', 2, 'nginx:1', '  strategy:\n    type: Recreate\n'),
    });
    await kubectl.ok(['rollout', 'status', 'deployment/rec', '--timeout=30s']);
    let overlap = false;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const list = await client.resource(PODS).list('default', { labelSelector: 'app=rec' });
        const images = new Set(list.items.map((p) => p.spec?.containers[0]?.image));
        if (images.size > 1) overlap = true;
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    await kubectl.ok(['set', 'image', 'deployment/rec', 'c=nginx:2']);
    await kubectl.ok(['rollout', 'status', 'deployment/rec', '--timeout=30s']);
    watching = false;
    await watcher;
    assert.equal(overlap, false, 'old and new pods overlapped');
    assert.equal(await activePods('rec'), 2);
  });
});
