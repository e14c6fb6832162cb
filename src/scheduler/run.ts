// Runs the scheduler against an API server (upstream's cmd/kube-scheduler app.Run): builds
// the Scheduler from the configuration, feeds it from informers (pods, nodes and the
// secondary objects plugins read), waits for the caches to sync, and then schedules —
// at once, or once elected leader on the kube-system/kube-scheduler Lease. Informers run
// before and regardless of leadership, as upstream, so a standby's cache is warm when it
// takes over.

import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import type {
  Namespace,
  Node,
  PersistentVolume,
  PersistentVolumeClaim,
  Pod,
  ReplicationController,
  Service,
} from '../api/generated/types/core-v1.js';
import type { ReplicaSet, StatefulSet } from '../api/generated/types/apps-v1.js';
import type { PodDisruptionBudget } from '../api/generated/types/policy-v1.js';
import type { StorageClass } from '../api/generated/types/storage-v1.js';
import { SharedInformerFactory } from '../client/cache/informer-factory.js';
import { SharedIndexInformer } from '../client/cache/shared-informer.js';
import { DeletedFinalStateUnknown } from '../client/cache/store.js';
import { EventBroadcaster } from '../client/events.js';
import { type Client, gvr, type KubeObject, type TypedGVR } from '../client/interface.js';
import { loadKubeconfig } from '../client/kubeconfig.js';
import { LeaderElector } from '../client/leader-election.js';
import { type Logger, noopLogger } from '../client/log.js';
import {
  NAMESPACES,
  NODES,
  PERSISTENTVOLUMECLAIMS,
  PERSISTENTVOLUMES,
  PODS,
  REPLICASETS,
  REPLICATIONCONTROLLERS,
  SERVICES,
  STATEFULSETS,
} from '../client/resources.js';
import { RestClient } from '../client/rest-client.js';
import { ApiSchedulerClient } from './api-client.js';
import { defaultSchedulerConfig, loadSchedulerConfig, type SchedulerConfig } from './config.js';
import type { ListerKind, MetaObject } from './framework/listers.js';
import { Scheduler } from './scheduler.js';

const STORAGECLASSES = gvr<StorageClass>('storage.k8s.io', 'v1', 'storageclasses');
const PODDISRUPTIONBUDGETS = gvr<PodDisruptionBudget>('policy', 'v1', 'poddisruptionbudgets');

/** Where the scheduler's leader-election Lease lives. */
export const SCHEDULER_LEASE = { namespace: 'kube-system', name: 'kube-scheduler' } as const;

/** Options of runScheduler. */
export interface RunSchedulerOptions {
  /** A kubeconfig path (the scheduler then owns its REST client) … */
  kubeconfig?: string;
  /** … or a client to use. */
  client?: Client;
  /** A KubeSchedulerConfiguration file (YAML or JSON). */
  configFile?: string;
  /** An already resolved configuration (tests); `configFile` wins. */
  config?: SchedulerConfig;
  /**
   * Campaign for the Lease before scheduling. Unset: as the configuration file says (upstream
   * defaults it to true), or no election when there is no file.
   */
  leaderElect?: boolean;
  /** Leader-election timing (defaults 15 s / 10 s / 2 s as upstream). */
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Client-side rate limit of an owned REST client (default: none; writes are bounded in flight). */
  qps?: number;
  burst?: number;
  /** Stops everything. */
  signal: AbortSignal;
  /** Called once caches have synced and scheduling is about to start (after election). */
  onReady?: (scheduler: Scheduler) => void;
  logger?: Logger;
}

/** The leader lost its Lease: upstream's scheduler exits then, and so does `kts scheduler`. */
export class LeaderElectionLostError extends Error {
  constructor() {
    super('leaderelection lost');
    this.name = 'LeaderElectionLostError';
  }
}

/**
 * Runs the scheduler until `signal` aborts (resolves) or leadership is lost (rejects with
 * LeaderElectionLostError).
 */
export async function runScheduler(opts: RunSchedulerOptions): Promise<void> {
  const log = opts.logger ?? noopLogger;
  let config = opts.config ?? defaultSchedulerConfig();
  if (opts.configFile !== undefined) config = loadSchedulerConfig(await readFile(opts.configFile, 'utf8'));
  const leaderElect = opts.leaderElect ?? (opts.configFile !== undefined && config.leaderElect);

  let client: Client;
  let owned: RestClient | undefined;
  if (opts.client !== undefined) client = opts.client;
  else if (opts.kubeconfig !== undefined) {
    const rc = loadKubeconfig(opts.kubeconfig);
    // Bindings, status patches and events share one HTTP/2 session (client-go's default
    // transport too): per request it costs both ends far less than HTTP/1.1 over 64
    // keep-alive TLS connections. Informers' watches stay on HTTP/1.1.
    owned = new RestClient(
      {
        ...rc,
        qps: opts.qps ?? Number.POSITIVE_INFINITY,
        burst: opts.burst ?? 1000,
        userAgent: 'kts-scheduler',
      },
      { http2: true },
    );
    client = owned;
  } else throw new Error('runScheduler needs a client or a kubeconfig');

  const identity = `${hostname()}_${randomUUID()}`;
  const broadcaster = new EventBroadcaster({ client, logger: log });
  const schedClient = new ApiSchedulerClient({ client, broadcaster, instance: identity, logger: log });
  const scheduler = new Scheduler({
    client: schedClient,
    config,
    logger: (level, msg, fields) => (level === 'error' ? log.error(msg, fields) : log.info(msg, fields)),
  });

  const stop = new AbortController();
  // Every informer and the loop listen on this signal: more than the default 10 listeners.
  setMaxListeners(64, stop.signal);
  const onAbort = (): void => stop.abort(opts.signal.reason);
  if (opts.signal.aborted) stop.abort();
  else opts.signal.addEventListener('abort', onAbort, { once: true });
  const informers = wireInformers(client, scheduler, log);
  try {
    informers.start(stop.signal);
    if (!(await informers.waitForSync(stop.signal))) return;
    log.info('scheduler caches synced', { profiles: [...scheduler.profiles.keys()] });
    if (!leaderElect) {
      opts.onReady?.(scheduler);
      await scheduler.run(stop.signal);
      return;
    }
    let lost = false;
    let scheduling: Promise<void> | undefined;
    const elector = new LeaderElector({
      client,
      namespace: SCHEDULER_LEASE.namespace,
      name: SCHEDULER_LEASE.name,
      identity,
      ...(opts.leaseDurationMs !== undefined ? { leaseDurationMs: opts.leaseDurationMs } : {}),
      ...(opts.renewDeadlineMs !== undefined ? { renewDeadlineMs: opts.renewDeadlineMs } : {}),
      ...(opts.retryPeriodMs !== undefined ? { retryPeriodMs: opts.retryPeriodMs } : {}),
      releaseOnCancel: true,
      logger: log,
      callbacks: {
        onStartedLeading: async (leading) => {
          log.info('became leader', {
            lease: `${SCHEDULER_LEASE.namespace}/${SCHEDULER_LEASE.name}`,
            identity,
          });
          opts.onReady?.(scheduler);
          scheduling = scheduler.run(leading);
          await scheduling;
        },
        onStoppedLeading: () => {
          if (!stop.signal.aborted) lost = true;
        },
      },
    });
    await elector.run(stop.signal);
    // The loop stops with the leading signal; let its in-flight bindings settle.
    await scheduling;
    if (lost) throw new LeaderElectionLostError();
  } finally {
    stop.abort();
    opts.signal.removeEventListener('abort', onAbort);
    await informers.shutdown();
    // Queued events are written if the server answers soon; a gone server must not hold
    // shutdown hostage to retries of up to a thousand of them.
    await Promise.race([schedClient.close(), new Promise<void>((r) => setTimeout(r, 5000).unref())]);
    owned?.close();
  }
}

interface Informers {
  start(signal: AbortSignal): void;
  waitForSync(signal: AbortSignal): Promise<boolean>;
  shutdown(): Promise<void>;
}

function unwrap<T>(obj: T | DeletedFinalStateUnknown<T>): T {
  return obj instanceof DeletedFinalStateUnknown ? obj.obj : obj;
}

/** Connects every informer the scheduler needs to its entry points. */
function wireInformers(client: Client, s: Scheduler, log: Logger): Informers {
  const factory = new SharedInformerFactory(client, { logger: log });
  // Terminal pods hold no resources and will never be scheduled: like upstream, the pod
  // informer leaves them out (a pod turning terminal arrives as a delete).
  const pods = new SharedIndexInformer<Pod>(client.resource(PODS), {
    fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed',
    logger: log,
    transform: (p) => {
      if (p.metadata?.managedFields !== undefined) delete p.metadata.managedFields;
      return p;
    },
  });
  pods.addEventHandler({
    onAdd: (p) => s.addPod(p),
    onUpdate: (o, p) => s.updatePod(o, p),
    onDelete: (p) => s.deletePod(unwrap(p)),
  });
  factory.forResource<Node>(NODES).informer.addEventHandler({
    onAdd: (n) => s.addNode(n),
    onUpdate: (o, n) => s.updateNode(o, n),
    onDelete: (n) => s.deleteNode(unwrap(n)),
  });
  const secondary = <T extends KubeObject>(kind: ListerKind, r: TypedGVR<T>): void => {
    factory.forResource<T>(r).informer.addEventHandler({
      onAdd: (o) => s.upsertObject(kind, o as MetaObject, true),
      onUpdate: (_old, o) => s.upsertObject(kind, o as MetaObject),
      onDelete: (o) => s.deleteObject(kind, unwrap(o) as MetaObject),
    });
  };
  secondary<Namespace>('Namespace', NAMESPACES);
  secondary<PersistentVolumeClaim>('PersistentVolumeClaim', PERSISTENTVOLUMECLAIMS);
  secondary<PersistentVolume>('PersistentVolume', PERSISTENTVOLUMES);
  secondary<StorageClass>('StorageClass', STORAGECLASSES);
  secondary<PodDisruptionBudget>('PodDisruptionBudget', PODDISRUPTIONBUDGETS);
  secondary<Service>('Service', SERVICES);
  secondary<ReplicationController>('ReplicationController', REPLICATIONCONTROLLERS);
  secondary<ReplicaSet>('ReplicaSet', REPLICASETS);
  secondary<StatefulSet>('StatefulSet', STATEFULSETS);
  let podsRun: Promise<void> | undefined;
  return {
    start(signal) {
      factory.start(signal);
      podsRun = pods.run(signal);
    },
    async waitForSync(signal) {
      const [synced, podsSynced] = await Promise.all([
        factory.waitForCacheSync(signal),
        pods.waitForSync(signal),
      ]);
      return podsSynced && Object.values(synced).every((x) => x);
    },
    async shutdown() {
      await Promise.all([factory.shutdown(), podsRun]);
    },
  };
}
