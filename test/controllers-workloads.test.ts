// StatefulSet, DaemonSet, Job and CronJob controllers against a real API server. Nodes are
// simulated by a small local helper (the shared test/helpers/simulated-nodes.ts did not
// exist yet): it registers Ready nodes, binds unscheduled pods (DaemonSet pods to the node
// their affinity pins), marks bound pods Running and Ready, finishes Job pods (Failed when
// labelled sim/fail=true) and completes pod deletions.
import assert from 'node:assert/strict';
import { setMaxListeners } from 'node:events';
import { after, before, describe, it } from 'node:test';
import type { DaemonSet, StatefulSet } from '../src/api/generated/types/apps-v1.js';
import type { CronJob, Job } from '../src/api/generated/types/batch-v1.js';
import type { Node, Pod } from '../src/api/generated/types/core-v1.js';
import { SharedInformerFactory } from '../src/client/cache/informer-factory.js';
import { type Clock, realClock, sleepOn, type TimerHandle } from '../src/client/clock.js';
import { EventBroadcaster } from '../src/client/events.js';
import { loadKubeconfig } from '../src/client/kubeconfig.js';
import { noopLogger, stderrLogger } from '../src/client/log.js';
import { CRONJOBS, DAEMONSETS, EVENTS, JOBS, NODES, PODS, STATEFULSETS } from '../src/client/resources.js';
import { RestClient } from '../src/client/rest-client.js';
import { ServiceAccountClientBuilder } from '../src/client/controller-client-builder.js';
import { newCronJobController } from '../src/controllers/cronjob/index.js';
import { newDaemonSetController, targetNodeName } from '../src/controllers/daemonset/index.js';
import { jobControllerFactory } from '../src/controllers/job/index.js';
import { newStatefulSetController } from '../src/controllers/statefulset/index.js';
import {
  type ControllerContext,
  type ControllerFactory,
  DEFAULT_CONTROLLER_OPTIONS,
} from '../src/controllers/types.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';

let srv: TestApiServer;
let client: RestClient;
const ac = new AbortController();
setMaxListeners(100, ac.signal);
const running: Promise<void>[] = [];
let broadcaster: EventBroadcaster;
let builder: ServiceAccountClientBuilder;

// A clock running 60× faster than real time, so `*/1` CronJobs fire every real second.
class FastClock implements Clock {
  private readonly start = Date.now();
  now(): number {
    return this.start + (Date.now() - this.start) * 60;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t = setTimeout(fn, Math.max(0, ms / 60));
    return { cancel: () => clearTimeout(t) };
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal);
  }
}

// Each controller runs with its own kube-system ServiceAccount's client (as in `kts server`).
async function startControllers(
  factories: Array<[ControllerFactory, string]>,
  clock: Clock = realClock,
): Promise<void> {
  const informers = new SharedInformerFactory(client, { clock });
  const ctx: ControllerContext = {
    client,
    informers,
    recorder: (component) => broadcaster.newRecorder({ component }),
    clock,
    log: process.env.KTS_TEST_LOG ? stderrLogger('ctrl') : noopLogger,
    options: { ...DEFAULT_CONTROLLER_OPTIONS, workers: 2 },
  };
  for (const [f, account] of factories) {
    const own = await builder.clientFor(account);
    running.push(f({ ...ctx, client: own }).run(ac.signal));
  }
  informers.start(ac.signal);
}

async function startSimulatedNodes(names: string[], taints: Record<string, boolean>): Promise<void> {
  for (const name of names) {
    const node: Node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, labels: { 'kubernetes.io/hostname': name } },
      spec: taints[name] ? { taints: [{ key: 'dedicated', value: 'special', effect: 'NoSchedule' }] } : {},
    };
    const created = await client.resource(NODES).create('', node);
    await client.resource(NODES).updateStatus('', {
      ...created,
      status: {
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'simulated' }],
      },
    });
    // New nodes carry the not-ready taint (TaintNodesByCondition admission) until the node
    // lifecycle controller sees them Ready; do its part here.
    const cur = await client.resource(NODES).get('', name);
    const kept = (cur.spec?.taints ?? []).filter((t) => t.key !== 'node.kubernetes.io/not-ready');
    await client
      .resource(NODES)
      .patch('', name, 'merge', { spec: { taints: kept.length > 0 ? kept : null } });
  }
  const schedulable = names.filter((n) => !taints[n]);
  let rr = 0;
  const informers = new SharedInformerFactory(client);
  const { informer } = informers.forResource(PODS);
  const busy = new Set<string>();
  const handle = async (pod: Pod): Promise<void> => {
    const ns = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    if ((pod.metadata?.deletionTimestamp ?? '') !== '') {
      if ((pod.metadata?.finalizers ?? []).length === 0)
        await client.resource(PODS).delete(ns, name, { gracePeriodSeconds: 0 });
      return;
    }
    if ((pod.spec?.nodeName ?? '') === '') {
      const target = targetNodeName(pod) ?? schedulable[rr++ % schedulable.length] ?? '';
      try {
        await client.resource(PODS).create(
          ns,
          {
            apiVersion: 'v1',
            kind: 'Binding',
            metadata: { name },
            target: { kind: 'Node', name: target },
          } as never,
          {
            subresource: 'binding',
          },
        );
        return;
      } catch {
        // The API server's binding subresource currently rejects every binding (it validates
        // the nodeName change as a pod update); run the pod unbound so the controllers can
        // still be exercised. DaemonSet pods are mapped to nodes by their pinned affinity.
      }
    }
    const phase = pod.status?.phase ?? 'Pending';
    if (phase !== 'Pending') return;
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    // Job pods finish at once, unless labelled sim/stay=true (then they run like any pod).
    const isJob =
      (pod.metadata?.ownerReferences ?? []).some((r) => r.kind === 'Job') &&
      pod.metadata?.labels?.['sim/stay'] !== 'true';
    const fail = pod.metadata?.labels?.['sim/fail'] === 'true';
    const status: Pod['status'] = isJob
      ? {
          phase: fail ? 'Failed' : 'Succeeded',
          containerStatuses: (pod.spec?.containers ?? []).map((c) => ({
            name: c.name,
            image: c.image ?? '',
            imageID: '',
            ready: false,
            restartCount: 0,
            state: {
              terminated: { exitCode: fail ? 1 : 0, reason: fail ? 'Error' : 'Completed', finishedAt: now },
            },
          })),
        }
      : {
          phase: 'Running',
          conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }],
        };
    await client.resource(PODS).patch(ns, name, 'merge', { status }, { subresource: 'status' });
  };
  const enqueue = (pod: Pod): void => {
    const key = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
    if (busy.has(key)) return;
    busy.add(key);
    // A short delay makes ordering visible (a pod is not Ready the instant it is created).
    setTimeout(() => {
      handle(pod)
        .catch((err: unknown) => {
          if (process.env.KTS_TEST_LOG) process.stderr.write(`sim: ${String(err)}\n`);
        })
        .finally(() => {
          busy.delete(key);
          const cur = informer.getIndexer().getByKey(key);
          if (cur !== undefined && cur.metadata?.resourceVersion !== pod.metadata?.resourceVersion)
            enqueue(cur);
        });
    }, 30);
  };
  informer.addEventHandler({ onAdd: enqueue, onUpdate: (_o, p) => enqueue(p) });
  informers.start(ac.signal);
  await informers.waitForCacheSync(ac.signal);
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const podNames = async (selector: string): Promise<string[]> =>
  (await client.resource(PODS).list('default', { labelSelector: selector })).items
    .filter((p) => (p.metadata?.deletionTimestamp ?? '') === '')
    .map((p) => p.metadata?.name ?? '')
    .sort();

before(async () => {
  srv = await startTestApiServer('memory://');
  client = new RestClient({ ...loadKubeconfig(srv.server.kubeconfigPath), qps: 0 });
  broadcaster = new EventBroadcaster({ client });
  await startSimulatedNodes(['node-1', 'node-2', 'node-3'], { 'node-3': true });
  builder = new ServiceAccountClientBuilder({ client, config: loadKubeconfig(srv.server.kubeconfigPath) });
  await startControllers([
    [newStatefulSetController, 'statefulset-controller'],
    [newDaemonSetController, 'daemon-set-controller'],
    [jobControllerFactory({ podFailureBackoffMs: 100, maxPodFailureBackoffMs: 400 }), 'job-controller'],
  ]);
  await startControllers([[newCronJobController, 'cronjob-controller']], new FastClock());
});

after(async () => {
  ac.abort();
  await Promise.all(running);
  await broadcaster.shutdown();
  builder.close();
  client.close();
  await srv.stop();
});

const container = { name: 'c', image: 'busybox' };

describe('workload controllers (integration)', () => {
  it('StatefulSet: ordered creation and scale-down from the highest ordinal', async () => {
    const set: StatefulSet = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'web' },
      spec: {
        replicas: 3,
        serviceName: 'web',
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [container] } },
      },
    };
    await client.resource(STATEFULSETS).create('default', set);
    // Creation order: the pod set only ever grows as a prefix web-0, web-0..1, web-0..2.
    const seen: string[] = [];
    await waitFor('3 ready replicas', async () => {
      const names = await podNames('app=web');
      const key = names.join(',');
      if (seen[seen.length - 1] !== key) seen.push(key);
      const s = await client.resource(STATEFULSETS).get('default', 'web');
      return s.status?.readyReplicas === 3 ? true : undefined;
    });
    for (const k of seen) {
      const names = k === '' ? [] : k.split(',');
      assert.deepEqual(
        names,
        names.map((_n, i) => `web-${i}`),
        `prefix order, saw ${seen.join(' | ')}`,
      );
    }
    await client.resource(STATEFULSETS).patch('default', 'web', 'merge', { spec: { replicas: 1 } });
    const during: string[] = [];
    await waitFor('scale down to 1', async () => {
      const names = await podNames('app=web');
      during.push(names.join(','));
      return names.length === 1 ? names : undefined;
    });
    assert.ok(!during.includes('web-0,web-2'), 'web-2 goes before web-1');
    assert.deepEqual(await podNames('app=web'), ['web-0']);
  });

  it('DaemonSet: one pod per eligible node (tainted node skipped)', async () => {
    const ds: DaemonSet = {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent' },
      spec: {
        selector: { matchLabels: { app: 'agent' } },
        template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [container] } },
      },
    };
    await client.resource(DAEMONSETS).create('default', ds);
    const got = await waitFor('2 available daemon pods', async () => {
      const d = await client.resource(DAEMONSETS).get('default', 'agent');
      if (d.status?.numberAvailable === 2) return d;
      throw new Error(`status ${JSON.stringify(d.status)}`);
    });
    assert.equal(got.status?.desiredNumberScheduled, 2);
    assert.equal(got.status?.updatedNumberScheduled, 2);
    const pods = (await client.resource(PODS).list('default', { labelSelector: 'app=agent' })).items;
    assert.deepEqual(pods.map((p) => targetNodeName(p)).sort(), ['node-1', 'node-2']);
    assert.ok(pods[0]?.spec?.tolerations?.some((t) => t.key === 'node.kubernetes.io/unreachable'));
  });

  it('Job: completions=5 parallelism=2 reaches Complete', async () => {
    const job: Job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'pi' },
      spec: {
        completions: 5,
        parallelism: 2,
        template: { spec: { restartPolicy: 'Never', containers: [container] } },
      },
    };
    await client.resource(JOBS).create('default', job);
    let maxActive = 0;
    const done = await waitFor('Complete', async () => {
      const j = await client.resource(JOBS).get('default', 'pi');
      maxActive = Math.max(maxActive, j.status?.active ?? 0);
      return j.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True') ? j : undefined;
    });
    assert.equal(done.status?.succeeded, 5);
    assert.ok(maxActive <= 2, `at most 2 active, saw ${maxActive}`);
    assert.ok(done.status?.completionTime !== undefined);
    assert.deepEqual(
      done.status?.conditions?.map((c) => c.type),
      ['SuccessCriteriaMet', 'Complete'],
    );
  });

  it('Job: failing pods reach Failed at backoffLimit', async () => {
    const job: Job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'fails' },
      spec: {
        backoffLimit: 2,
        template: {
          metadata: { labels: { 'sim/fail': 'true' } },
          spec: { restartPolicy: 'Never', containers: [container] },
        },
      },
    };
    await client.resource(JOBS).create('default', job);
    const failed = await waitFor('Failed', async () => {
      const j = await client.resource(JOBS).get('default', 'fails');
      return j.status?.conditions?.some((c) => c.type === 'Failed' && c.status === 'True') ? j : undefined;
    });
    assert.equal(failed.status?.failed, 3);
    const cond = failed.status?.conditions?.find((c) => c.type === 'Failed');
    assert.equal(cond?.reason, 'BackoffLimitExceeded');
    assert.equal(cond?.message, 'Job has reached the specified backoff limit');
    // Announced once, by the sync whose status write landed (upstream records it after the write).
    const events = await waitFor('BackoffLimitExceeded event', async () => {
      const list = await client.resource(EVENTS).list('default');
      const mine = list.items.filter(
        (e) => e.involvedObject.name === 'fails' && e.reason === 'BackoffLimitExceeded',
      );
      return mine.length > 0 ? mine : undefined;
    });
    await new Promise((r) => setTimeout(r, 300));
    const again = (await client.resource(EVENTS).list('default')).items.filter(
      (e) => e.involvedObject.name === 'fails' && e.reason === 'BackoffLimitExceeded',
    );
    assert.equal(events.length, 1);
    assert.deepEqual(
      again.map((e) => e.count ?? 1),
      [1],
    );
  });

  it('Job: deleting a Job releases its pods from the tracking finalizer', async () => {
    const job: Job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'gone' },
      spec: {
        parallelism: 2,
        template: {
          metadata: { labels: { 'sim/stay': 'true' } },
          spec: { restartPolicy: 'Never', containers: [container] },
        },
      },
    };
    await client.resource(JOBS).create('default', job);
    const ofJob = async () =>
      (await client.resource(PODS).list('default', { labelSelector: 'job-name=gone' })).items;
    await waitFor('2 pods with the finalizer', async () => {
      const pods = await ofJob();
      return pods.length === 2 &&
        pods.every((p) => p.metadata?.finalizers?.includes('batch.kubernetes.io/job-tracking'))
        ? pods
        : undefined;
    });
    // No garbage collector runs here: the pods stay, and only the finalizer must go.
    await client.resource(JOBS).delete('default', 'gone', { propagationPolicy: 'Background' });
    await waitFor('finalizers removed', async () => {
      const pods = await ofJob();
      return pods.length === 2 && pods.every((p) => (p.metadata?.finalizers ?? []).length === 0)
        ? pods
        : undefined;
    });
  });

  it('CronJob: creates Jobs on schedule and trims history', async () => {
    const cj: CronJob = {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'tick' },
      spec: {
        schedule: '*/1 * * * *',
        successfulJobsHistoryLimit: 2,
        jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [container] } } } },
      },
    };
    await client.resource(CRONJOBS).create('default', cj);
    const created = new Set<string>();
    await waitFor(
      '4 jobs created, 2 kept',
      async () => {
        const jobs = (await client.resource(JOBS).list('default')).items.filter((j) =>
          (j.metadata?.name ?? '').startsWith('tick-'),
        );
        for (const j of jobs) created.add(j.metadata?.name ?? '');
        const live = jobs.filter((j) => (j.metadata?.deletionTimestamp ?? '') === '');
        const done = live.filter((j) => j.status?.conditions?.some((c) => c.type === 'Complete'));
        return created.size >= 4 && done.length <= 2 && live.length <= 3 ? true : undefined;
      },
      30_000,
    );
    const c = await client.resource(CRONJOBS).get('default', 'tick');
    assert.ok(c.status?.lastScheduleTime !== undefined);
    for (const n of created) assert.match(n, /^tick-\d+$/);
  });
});
