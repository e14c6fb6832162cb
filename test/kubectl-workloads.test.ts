// A kubectl user's walk over workloads, compared with upstream 1.32: the deployment
// controller's ScalingReplicaSet wording ("from 0 to 3"), one `Created pod: <name>` event per
// DaemonSet pod, status counts left out when zero (Go's omitempty), the eviction subresource
// spending a PodDisruptionBudget's disruptions atomically (concurrent evictions cannot both
// take the last one), NoPods for a budget matching nothing, the Job pod-failure backoff counted once per failure, one Resumed event
// per resume, and a CronJob reporting (not adopting) a Job it did not create. The real kubectl
// runs against an API server, the controller manager, the scheduler and hollow nodes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Pod } from '../src/api/generated/types/core-v1.js';
import type { PodDisruptionBudget } from '../src/api/generated/types/policy-v1.js';
import { ServiceAccountClientBuilder } from '../src/client/controller-client-builder.js';
import { loadKubeconfig } from '../src/client/kubeconfig.js';
import { stderrLogger } from '../src/client/log.js';
import { NODES, PODS } from '../src/client/resources.js';
import { RestClient } from '../src/client/rest-client.js';
import { jobControllerFactory } from '../src/controllers/job/index.js';
import { ControllerManager } from '../src/controllers/manager.js';
import { controllerRegistry } from '../src/controllers/registry.js';
import { type HollowNodes, startHollowNodes } from '../src/hollow/hollow-nodes.js';
import { StatusError } from '../src/machinery/status-error.js';
import { runScheduler } from '../src/scheduler/run.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';
import { Kubectl } from './helpers/kubectl.js';
import { until } from './helpers/wait.js';

let srv: TestApiServer;
let client: RestClient;
let kubectl: Kubectl;
let hollow: HollowNodes;
let builder: ServiceAccountClientBuilder;
const ac = new AbortController();
const running: Promise<void>[] = [];
const debug = process.env.KTS_DEBUG ? { log: stderrLogger('kcm', true) } : {};
/** The Job controller's first pod-failure backoff here (upstream's is 10 s). */
const JOB_BACKOFF_MS = 1000;

before(async () => {
  srv = await startTestApiServer('memory://');
  const config = { ...loadKubeconfig(srv.server.kubeconfigPath), qps: 0 };
  client = new RestClient(config);
  kubectl = new Kubectl(srv.server.kubeconfigPath);
  hollow = await startHollowNodes({
    kubeconfig: srv.server.kubeconfigPath,
    count: 2,
    namePrefix: 'wl',
    cpu: '8',
    memory: '32Gi',
    pods: 50,
    // Job pods keep running until a test fails them.
    jobCompletionDelayMs: 120_000,
    deletionDelayMs: 300,
    leaseRenewIntervalMs: 1000,
    nodeStatusIntervalMs: 5000,
  });
  // Admission taints new nodes not-ready until the node lifecycle controller (not run here) clears it.
  for (const n of (await client.resource(NODES).list('')).items) {
    await client.resource(NODES).patch('', n.metadata?.name ?? '', 'merge', { spec: { taints: null } });
  }
  builder = new ServiceAccountClientBuilder({ client, config });
  const registry = controllerRegistry.map((r) =>
    r.name === 'job' ? { ...r, factory: jobControllerFactory({ podFailureBackoffMs: JOB_BACKOFF_MS }) } : r,
  );
  const manager = new ControllerManager({
    client,
    clientBuilder: builder,
    registry,
    controllers: [
      'deployment',
      'replicaset',
      'daemonset',
      'job',
      'cronjob',
      'disruption',
      'garbage-collector',
    ],
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

interface EventLite {
  reason: string;
  message: string;
  count?: number;
  type: string;
}

async function eventsFor(name: string): Promise<EventLite[]> {
  const out = await kubectl.ok([
    'get',
    'events',
    '--field-selector',
    `involvedObject.name=${name}`,
    '-o',
    'json',
  ]);
  return (JSON.parse(out) as { items: EventLite[] }).items;
}

async function getJSON<T>(ref: string): Promise<T> {
  return JSON.parse(await kubectl.ok(['get', ref, '-o', 'json'])) as T;
}

function podsOf(label: string): Promise<Pod[]> {
  return client
    .resource(PODS)
    .list('default', { labelSelector: label })
    .then((l) => l.items);
}

async function evict(name: string, bodyName = name): Promise<{ code: number; message: string }> {
  try {
    await client.request({
      method: 'POST',
      path: `/api/v1/namespaces/default/pods/${name}/eviction`,
      body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: bodyName, namespace: 'default' } },
      noRetry: true,
    });
    return { code: 201, message: '' };
  } catch (e) {
    if (e instanceof StatusError) return { code: e.code, message: e.status.message ?? '' };
    throw e;
  }
}

// A kubelet's report of a container that exited with `code`.
async function failPod(pod: Pod, code: number): Promise<void> {
  const at = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const name = pod.spec?.containers[0]?.name ?? 'c';
  await client.resource(PODS).updateStatus('default', {
    ...pod,
    status: {
      ...pod.status,
      phase: 'Failed',
      conditions: (pod.status?.conditions ?? []).map((c) =>
        c.type === 'Ready' || c.type === 'ContainersReady' ? { ...c, status: 'False' } : c,
      ),
      containerStatuses: [
        {
          name,
          image: pod.spec?.containers[0]?.image ?? '',
          imageID: '',
          ready: false,
          restartCount: 0,
          state: { terminated: { exitCode: code, reason: 'Error', startedAt: at, finishedAt: at } },
        },
      ],
    },
  });
}

describe('kubectl workloads walk (integration)', { concurrency: true }, () => {
  it('Deployment: ScalingReplicaSet events read "from N to M"; zero status counts are omitted', async () => {
    await kubectl.ok(['create', 'deployment', 'scaler', '--image=busybox:1', '--replicas=3']);
    await kubectl.ok(['rollout', 'status', 'deployment/scaler', '--timeout=60s']);
    const rs = await until('the ReplicaSet', async () => {
      const out = await kubectl.ok([
        'get',
        'rs',
        '-l',
        'app=scaler',
        '-o',
        'jsonpath={.items[0].metadata.name}',
      ]);
      return out === '' ? undefined : out;
    });
    await kubectl.ok(['scale', 'deployment/scaler', '--replicas=1']);
    const events = await until('the scale-down event', async () => {
      const evs = await eventsFor('scaler');
      return evs.some((e) => e.message.startsWith('Scaled down')) ? evs : undefined;
    });
    const messages = events.map((e) => e.message);
    assert.ok(messages.includes(`Scaled up replica set ${rs} from 0 to 3`), messages.join('\n'));
    assert.ok(messages.includes(`Scaled down replica set ${rs} from 3 to 1`), messages.join('\n'));
    const described = await kubectl.ok(['describe', 'deployment', 'scaler']);
    assert.match(described, new RegExp(`ScalingReplicaSet .*Scaled up replica set ${rs} from 0 to 3`));

    await kubectl.ok(['rollout', 'status', 'deployment/scaler', '--timeout=60s']);
    const d = await getJSON<{ status: Record<string, unknown> }>('deployment/scaler');
    assert.equal(d.status.availableReplicas, 1);
    assert.equal('unavailableReplicas' in d.status, false, JSON.stringify(d.status));
    assert.equal(
      await kubectl.ok(['get', 'deployment/scaler', '-o', 'jsonpath={.status.unavailableReplicas}']),
      '',
    );
  });

  it('DaemonSet: one "Created pod: <name>" event per pod', async () => {
    await kubectl.ok(['apply', '-f', '-'], {
      stdin: `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {containers: [{name: c, image: "busybox:1"}], terminationGracePeriodSeconds: 0}
`,
    });
    const rollout = await kubectl.ok(['rollout', 'status', 'daemonset/agent', '--timeout=60s']);
    assert.match(rollout, /daemon set "agent" successfully rolled out/);
    const pods = (await podsOf('app=agent')).map((p) => p.metadata?.name ?? '').sort();
    assert.equal(pods.length, 2);
    const created = await until('both SuccessfulCreate events', async () => {
      const msgs = (await eventsFor('agent'))
        .filter((e) => e.reason === 'SuccessfulCreate')
        .map((e) => e.message);
      return msgs.length >= 2 ? msgs.sort() : undefined;
    });
    assert.deepEqual(
      created,
      pods.map((p) => `Created pod: ${p}`),
    );
    const ds = await getJSON<{ status: Record<string, unknown> }>('daemonset/agent');
    assert.equal(ds.status.numberMisscheduled, 0, 'a count without omitempty stays');
    assert.equal('numberUnavailable' in ds.status, false, JSON.stringify(ds.status));
  });

  it('eviction: concurrent evictions spend a PodDisruptionBudget one disruption at a time', async () => {
    await kubectl.ok(['create', 'deployment', 'guarded', '--image=busybox:1', '--replicas=3']);
    await kubectl.ok(['rollout', 'status', 'deployment/guarded', '--timeout=60s']);
    await kubectl.ok(['create', 'pdb', 'guarded', '--selector=app=guarded', '--max-unavailable=1']);
    await until('one allowed disruption', async () => {
      const pdb = await getJSON<PodDisruptionBudget>('pdb/guarded');
      return pdb.status?.disruptionsAllowed === 1 ? true : undefined;
    });
    const table = await kubectl.ok(['get', 'pdb', 'guarded']);
    assert.match(table, /^guarded\s+N\/A\s+1\s+1\s+/m);

    const pods = (await podsOf('app=guarded')).map((p) => p.metadata?.name ?? '');
    const mismatch = await kubectl.run([
      'create',
      '--raw',
      `/api/v1/namespaces/default/pods/${pods[0]}/eviction`,
      '-f',
      kubectl.file(
        'eviction.json',
        JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'other' } }),
      ),
    ]);
    assert.equal(mismatch.code, 1);
    assert.match(
      mismatch.stderr,
      /Error from server \(BadRequest\): name in URL does not match name in Eviction object/,
    );

    const results = await Promise.all(pods.map((p) => evict(p)));
    const evicted = pods.filter((_p, i) => results[i]?.code === 201);
    assert.equal(evicted.length, 1, JSON.stringify(results));
    for (const r of results.filter((x) => x.code !== 201)) {
      assert.equal(r.code, 429);
      assert.equal(r.message, "Cannot evict pod as it would violate the pod's disruption budget.");
    }
    const victim = evicted[0] ?? '';
    // The evicted pod is marked as upstream's eviction marks it before deleting it (unless it is gone already).
    const gone = await client
      .resource(PODS)
      .get('default', victim)
      .catch(() => undefined);
    if (gone !== undefined) {
      assert.notEqual(gone.metadata?.deletionTimestamp, undefined);
      const cond = gone.status?.conditions?.find((c) => c.type === 'DisruptionTarget');
      assert.equal(cond?.reason, 'EvictionByEvictionAPI');
      assert.equal(cond?.message, 'Eviction API: evicting');
    }

    // kubectl drain's view of a refused eviction, while the victim's replacement is not ready yet.
    const other = pods.find((p) => p !== victim) ?? '';
    const again = await kubectl.run([
      'create',
      '--raw',
      `/api/v1/namespaces/default/pods/${other}/eviction`,
      '-f',
      kubectl.file(
        'eviction2.json',
        JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: other } }),
      ),
    ]);
    if (again.code !== 0) {
      assert.match(
        again.stderr,
        /Error from server \(TooManyRequests\): Cannot evict pod as it would violate the pod's disruption budget\./,
      );
    }
  });

  it('PodDisruptionBudget: one matching no pods is reported with NoPods by controllermanager', async () => {
    await kubectl.ok(['create', 'pdb', 'lonely', '--selector=app=nobody', '--min-available=1']);
    const ev = await until('the NoPods event', async () =>
      (await eventsFor('lonely')).find((e) => e.reason === 'NoPods'),
    );
    assert.equal(ev.message, 'No matching pods found');
    assert.equal(
      (ev as EventLite & { source?: { component?: string } }).source?.component,
      'controllermanager',
    );
    assert.match(await kubectl.ok(['get', 'pdb', 'lonely']), /^lonely\s+1\s+N\/A\s+0\s+/m);
  });

  it('Job: a failed pod delays its replacement by the backoff once; zero counts omitted', async () => {
    await kubectl.ok(['apply', '-f', '-'], {
      stdin: `apiVersion: batch/v1
kind: Job
metadata: {name: flaky}
spec:
  backoffLimit: 4
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: "busybox:1"}]
`,
    });
    const byCreation = async (): Promise<Pod[]> =>
      (await podsOf('batch.kubernetes.io/job-name=flaky')).sort((a, b) =>
        (a.metadata?.creationTimestamp ?? '').localeCompare(b.metadata?.creationTimestamp ?? ''),
      );
    const running = async (n: number): Promise<Pod> =>
      until(`pod ${n} running`, async () => {
        const ps = await byCreation();
        const p = ps.find((x) => !ps.slice(0, n - 1).includes(x) && x.status?.phase === 'Running');
        return ps.length >= n ? p : undefined;
      });
    const first = await running(1);
    const job = await getJSON<{ status: Record<string, unknown> }>('job/flaky');
    assert.equal('succeeded' in job.status, false, JSON.stringify(job.status));
    assert.equal('failed' in job.status, false, JSON.stringify(job.status));
    assert.equal(job.status.terminating, 0, 'terminating is a pointer upstream: its 0 is shown');

    // Two failures in a row: the replacements wait 1x and 2x the backoff, never more.
    let failedAt = Date.now();
    await failPod(first, 1);
    await until('the second pod', async () => ((await byCreation()).length >= 2 ? true : undefined), 10_000);
    const gap1 = Date.now() - failedAt;
    const second = await running(2);
    failedAt = Date.now();
    await failPod(second, 1);
    await until('the third pod', async () => ((await byCreation()).length >= 3 ? true : undefined), 15_000);
    const gap2 = Date.now() - failedAt;
    assert.ok(gap1 >= JOB_BACKOFF_MS * 0.8 && gap1 < JOB_BACKOFF_MS * 1.9, `first backoff ${gap1} ms`);
    assert.ok(gap2 >= JOB_BACKOFF_MS * 1.6 && gap2 < JOB_BACKOFF_MS * 3.9, `second backoff ${gap2} ms`);
    const status = (await getJSON<{ status: Record<string, unknown> }>('job/flaky')).status;
    assert.equal(status.failed, 2);
  });

  it('Job: suspend and resume record one Suspended and one Resumed event', async () => {
    await kubectl.ok(['apply', '-f', '-'], {
      stdin: `apiVersion: batch/v1
kind: Job
metadata: {name: paused}
spec:
  suspend: true
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: "busybox:1"}]
`,
    });
    await until('Suspended', async () =>
      (await eventsFor('paused')).some((e) => e.reason === 'Suspended') ? true : undefined,
    );
    assert.match(await kubectl.ok(['get', 'job', 'paused']), /^paused\s+Suspended\s+0\/1/m);
    await kubectl.ok(['patch', 'job', 'paused', '-p', '{"spec":{"suspend":false}}']);
    await until('the pod', async () =>
      (await podsOf('batch.kubernetes.io/job-name=paused')).length > 0 ? true : undefined,
    );
    // Give a sync from a stale cache the time to (wrongly) repeat the event.
    await new Promise((r) => setTimeout(r, 1000));
    const events = await eventsFor('paused');
    const count = (reason: string): number =>
      events.filter((e) => e.reason === reason).reduce((n, e) => n + (e.count ?? 1), 0);
    assert.equal(count('Suspended'), 1, JSON.stringify(events));
    assert.equal(count('Resumed'), 1, JSON.stringify(events));
  });

  it('CronJob: a Job made with `create job --from=cronjob/` is reported, not listed as active', async () => {
    await kubectl.ok(['create', 'cronjob', 'nightly', '--image=busybox:1', '--schedule=0 0 1 1 *']);
    const created = await kubectl.ok(['create', 'job', 'by-hand', '--from=cronjob/nightly']);
    assert.equal(created.trim(), 'job.batch/by-hand created');
    const owner = await kubectl.ok([
      'get',
      'job',
      'by-hand',
      '-o',
      'jsonpath={.metadata.ownerReferences[0].kind}',
    ]);
    assert.equal(owner, 'CronJob');
    const unexpected = await until('the UnexpectedJob event', async () =>
      (await eventsFor('nightly')).find((e) => e.reason === 'UnexpectedJob'),
    );
    assert.equal(unexpected.type, 'Warning');
    assert.equal(unexpected.message, 'Saw a job that the controller did not create or forgot: by-hand');
    assert.equal(await kubectl.ok(['get', 'cronjob', 'nightly', '-o', 'jsonpath={.status.active}']), '');
    assert.match(
      await kubectl.ok(['get', 'cronjob', 'nightly']),
      /^nightly\s+0 0 1 1 \*\s+<none>\s+False\s+0\s+<none>/m,
    );
  });
});
