// Controller benchmark (issue 5): a 1,000-replica Deployment on 100 hollow nodes, end to
// end. The API server (sqlite, temp data dir), the controller manager and the scheduler each
// run in a child process; this process runs the hollow nodes (which play the kubelet: a
// bound pod turns Running and Ready at once) and the driver, which observes through watches.
//
// Controllers: `deployment` and `replicaset` only. Node lifecycle is off: hollow nodes renew
// their Leases every 60 s here (100 nodes at 10 s would be steady background writes), which
// a 40 s monitor grace period would read as dead nodes; the bench lifts the not-ready taint
// admission puts on new nodes itself, as that controller would. The `default` ServiceAccount
// is created by the bench (no serviceaccount controller); the garbage collector is off as
// nothing is deleted by owner until cleanup, which simply discards the data directory.
//
// The controllers run as `kts server` runs them: each as its own kube-system ServiceAccount
// (TokenRequest tokens) with its own client rate limiter at kts's controller-manager default
// (CONTROLLER_MANAGER_CLIENT_LIMITS, burst = 2 × qps). `--kcm-qps N` measures another limit;
// `--kcm-qps 0` runs unthrottled.
//
// Measures:
//   create     Deployment created → 1,000 pods exist (created; the key figure) and → all
//              available (status.availableReplicas == 1,000 at the current generation)
//   rollout    pod template changed → status.observedGeneration current and
//              updatedReplicas == availableReplicas == replicas == spec.replicas
// Prints a table, then as the last line: {"create1000Seconds":N,"rollout1000Seconds":N}
// (null for a phase that did not finish before --timeout-s, default 180, of total run time).
// Usage: node --import tsx bench/controllers.ts [--replicas 1000] [--nodes 100]
//        [--timeout-s 180] [--kcm-qps 300]
import type { ChildProcess } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Deployment } from '../src/api/generated/types/apps-v1.js';
import type { Pod } from '../src/api/generated/types/core-v1.js';
import { SharedIndexInformer } from '../src/client/cache/shared-informer.js';
import { loadKubeconfig } from '../src/client/kubeconfig.js';
import { DEPLOYMENTS, PODS } from '../src/client/resources.js';
import { RestClient } from '../src/client/rest-client.js';
import { CONTROLLER_MANAGER_CLIENT_LIMITS } from '../src/controllers/manager.js';
import { startHollowNodes } from '../src/hollow/hollow-nodes.js';
import {
  announce,
  createNamespace,
  interruptSignal,
  numberFlag,
  printTable,
  roleArg,
  round,
  serveApi,
  spawnRole,
  stopChild,
  untaintNodes,
  untilStdinEnds,
} from './lib/harness.js';

const SELF = new URL(import.meta.url).pathname;
const NS = 'bench-deploy';
const NAME = 'web';

// ---- child roles ----------------------------------------------------------------------

async function serveControllerManager(kubeconfig: string): Promise<void> {
  const { CONTROLLER_MANAGER_CLIENT_LIMITS, ControllerManager } = await import(
    '../src/controllers/manager.js'
  );
  const { controllerRegistry } = await import('../src/controllers/registry.js');
  const { ServiceAccountClientBuilder } = await import('../src/client/controller-client-builder.js');
  const qps = numberFlag('kcm-qps', CONTROLLER_MANAGER_CLIENT_LIMITS.qps);
  const config = {
    ...loadKubeconfig(kubeconfig),
    ...(qps > 0 ? { qps, burst: qps * 2 } : { qps: Number.POSITIVE_INFINITY }),
    userAgent: 'kube-controller-manager/v1.32.0 (kts bench)',
  };
  const client = new RestClient(config);
  // Each controller as its own ServiceAccount with its own rate limiter, as `kts server` runs them.
  const builder = new ServiceAccountClientBuilder({ client, config });
  const ac = new AbortController();
  const manager = new ControllerManager({
    client,
    clientBuilder: builder,
    registry: controllerRegistry,
    controllers: ['deployment', 'replicaset'],
  });
  const running = manager.run(ac.signal);
  announce({ ready: true });
  await untilStdinEnds();
  ac.abort();
  await running;
  builder.close();
  client.close();
}

async function serveScheduler(kubeconfig: string): Promise<void> {
  const { runScheduler } = await import('../src/scheduler/run.js');
  const ac = new AbortController();
  const running = runScheduler({ kubeconfig, signal: ac.signal, onReady: () => announce({ ready: true }) });
  await untilStdinEnds();
  ac.abort();
  await running;
}

// ---- driver ---------------------------------------------------------------------------

function deployment(replicas: number): Deployment {
  return {
    metadata: { name: NAME, namespace: NS },
    spec: {
      replicas,
      selector: { matchLabels: { app: NAME } },
      template: {
        metadata: { labels: { app: NAME } },
        spec: {
          containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }],
          terminationGracePeriodSeconds: 0,
        },
      },
    },
  };
}

/** Resolves with the time a predicate over watched state first held, or undefined on timeout. */
class Waiter {
  private pending: { check: () => boolean; resolve: (t: number | undefined) => void } | undefined;

  /** Re-evaluates the current predicate (call from every watch event). */
  poke(): void {
    const p = this.pending;
    if (p?.check()) {
      this.pending = undefined;
      p.resolve(performance.now());
    }
  }

  /** Waits until `check` holds, at most until `deadline` (performance.now() ms) or abort. */
  until(check: () => boolean, deadline: number, signal: AbortSignal): Promise<number | undefined> {
    return new Promise((resolve) => {
      const finish = (t: number | undefined): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(t);
      };
      const onAbort = (): void => {
        this.pending = undefined;
        finish(undefined);
      };
      const timer = setTimeout(onAbort, Math.max(0, deadline - performance.now()));
      signal.addEventListener('abort', onAbort, { once: true });
      this.pending = { check, resolve: finish };
      this.poke();
    });
  }
}

function rolledOut(d: Deployment | undefined, generation: number, replicas: number): boolean {
  const s = d?.status;
  return (
    s !== undefined &&
    (s.observedGeneration ?? 0) >= generation &&
    s.updatedReplicas === replicas &&
    s.availableReplicas === replicas &&
    s.replicas === replicas
  );
}

async function main(): Promise<void> {
  const replicas = numberFlag('replicas', 1000);
  const nodeCount = numberFlag('nodes', 100);
  const timeoutMs = numberFlag('timeout-s', 180) * 1000;
  const kcmQps = numberFlag('kcm-qps', CONTROLLER_MANAGER_CLIENT_LIMITS.qps);
  const interrupted = interruptSignal();
  const deadline = performance.now() + timeoutMs;
  const dataDir = mkdtempSync(join(tmpdir(), 'kts-bench-ctrl-'));
  const log = (s: string): void => {
    process.stderr.write(`${s}\n`);
  };
  let api: ChildProcess | undefined;
  let kcm: ChildProcess | undefined;
  let sched: ChildProcess | undefined;
  let hollow: Awaited<ReturnType<typeof startHollowNodes>> | undefined;
  let client: RestClient | undefined;
  const watchStop = new AbortController();
  setMaxListeners(64, watchStop.signal);
  const watches: Promise<void>[] = [];
  try {
    const a = await spawnRole(SELF, 'serve-api', join(dataDir, 'server'));
    api = a.proc;
    const kubeconfig = String(a.first.kubeconfig);
    client = new RestClient({
      ...loadKubeconfig(kubeconfig),
      qps: Number.POSITIVE_INFINITY,
      userAgent: 'bench',
    });
    hollow = await startHollowNodes({
      client,
      count: nodeCount,
      pods: 110,
      zones: 3,
      leaseRenewIntervalMs: 60_000,
      leaseDurationSeconds: 240,
      nodeStatusIntervalMs: 300_000,
    });
    await untaintNodes(client, hollow.nodes);
    await createNamespace(client, NS);
    const [k, s] = await Promise.all([
      spawnRole(SELF, 'serve-kcm', kubeconfig, ['--kcm-qps', String(kcmQps)]),
      spawnRole(SELF, 'serve-scheduler', kubeconfig),
    ]);
    kcm = k.proc;
    sched = s.proc;
    log(`${nodeCount} hollow nodes, controller manager and scheduler up`);

    const waiter = new Waiter();
    let podsSeen = 0;
    const pods = new SharedIndexInformer<Pod>(client.resource(PODS), {
      namespace: NS,
      transform: (p) => ({ metadata: { name: p.metadata?.name ?? '', namespace: NS } }),
    });
    pods.addEventHandler({
      onAdd: () => {
        podsSeen++;
        waiter.poke();
      },
    });
    const deploys = new SharedIndexInformer<Deployment>(client.resource(DEPLOYMENTS), { namespace: NS });
    deploys.addEventHandler({ onAdd: () => waiter.poke(), onUpdate: () => waiter.poke() });
    watches.push(pods.run(watchStop.signal), deploys.run(watchStop.signal));
    await Promise.all([pods.waitForSync(watchStop.signal), deploys.waitForSync(watchStop.signal)]);
    const current = (): Deployment | undefined => deploys.getIndexer().getByKey(`${NS}/${NAME}`);

    // Phase 1: creation.
    const t0 = performance.now();
    const created = await client.resource(DEPLOYMENTS).create(NS, deployment(replicas));
    const gen1 = created.metadata?.generation ?? 1;
    const tCreated = await waiter.until(() => podsSeen >= replicas, deadline, interrupted);
    const tAvailable =
      tCreated === undefined
        ? undefined
        : await waiter.until(() => rolledOut(current(), gen1, replicas), deadline, interrupted);
    log(`create: ${podsSeen} pods seen; created ${fmt(tCreated, t0)} s, available ${fmt(tAvailable, t0)} s`);

    // Phase 2: rolling update (a template change: new annotation → new pod-template-hash).
    let t1 = Number.NaN;
    let tRolled: number | undefined;
    let podsBefore = podsSeen;
    if (tAvailable !== undefined) {
      podsBefore = podsSeen;
      t1 = performance.now();
      const patched = await client.resource(DEPLOYMENTS).patch(NS, NAME, 'merge', {
        spec: { template: { metadata: { annotations: { 'bench.kts.io/revision': '2' } } } },
      });
      const gen2 = patched.metadata?.generation ?? gen1 + 1;
      tRolled = await waiter.until(() => rolledOut(current(), gen2, replicas), deadline, interrupted);
      log(`rollout: ${podsSeen - podsBefore} new pods; complete ${fmt(tRolled, t1)} s`);
    }

    const createS = tCreated === undefined ? null : round((tCreated - t0) / 1000);
    const availS = tAvailable === undefined ? null : round((tAvailable - t0) / 1000);
    const rolloutS = tRolled === undefined ? null : round((tRolled - t1) / 1000);
    const show = (v: number | null): string => (v === null ? 'timeout' : String(v));
    const st = current()?.status;
    printTable([
      ['phase', 'replicas', 'nodes', 'kcm qps', 'seconds', 'goal s'],
      ['create: 1000 pods created', String(replicas), String(nodeCount), qpsText(kcmQps), show(createS), '5'],
      ['create: all available', String(replicas), String(nodeCount), qpsText(kcmQps), show(availS), '-'],
      ['rolling update complete', String(replicas), String(nodeCount), qpsText(kcmQps), show(rolloutS), '20'],
    ]);
    log(
      `final status: replicas=${st?.replicas} updated=${st?.updatedReplicas} available=${st?.availableReplicas}; ` +
        `hollow ${JSON.stringify(hollow.stats())}`,
    );
    process.stdout.write(`${JSON.stringify({ create1000Seconds: createS, rollout1000Seconds: rolloutS })}\n`);
  } finally {
    watchStop.abort();
    await Promise.allSettled(watches);
    await Promise.all([stopChild(kcm), stopChild(sched)]);
    await hollow?.close({ deleteNodes: false }).catch(() => {});
    client?.close();
    await stopChild(api);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function fmt(t: number | undefined, from: number): string {
  return t === undefined ? 'timeout' : String(round((t - from) / 1000));
}

function qpsText(q: number): string {
  return q > 0 ? String(q) : 'unlimited';
}

const apiDir = roleArg('serve-api');
const kcmKubeconfig = roleArg('serve-kcm');
const schedKubeconfig = roleArg('serve-scheduler');
if (apiDir !== undefined) await serveApi(apiDir);
else if (kcmKubeconfig !== undefined) await serveControllerManager(kcmKubeconfig);
else if (schedKubeconfig !== undefined) await serveScheduler(schedKubeconfig);
else await main();
