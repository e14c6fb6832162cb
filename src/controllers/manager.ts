// The kube-controller-manager: one shared informer factory and one event broadcaster for
// every controller, controllers chosen by upstream's `--controllers` syntax, optional
// leader election on the kube-system/kube-controller-manager Lease, and an ordered
// shutdown: controllers stop their workers first, then the informers, then queued events
// are flushed. With leader election a manager that loses its lease stops every controller
// and returns (upstream exits the process), so two leaders never act at once.
//
// `runWorkers` is the worker loop every controller shares: it waits for the caches, then
// pulls keys from a rate-limited queue, calls sync, forgets on success and requeues with
// backoff on failure, until the signal aborts.
import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { SharedInformerFactory } from '../client/cache/informer-factory.js';
import type { ControllerClientBuilder } from '../client/controller-client-builder.js';
import { Backoff } from '../client/backoff.js';
import { type Clock, realClock } from '../client/clock.js';
import { EventBroadcaster } from '../client/events.js';
import type { Client } from '../client/interface.js';
import { LeaderElector } from '../client/leader-election.js';
import { errorText, type Logger, noopLogger } from '../client/log.js';
import { metadataClientFor } from '../client/metadata-client.js';
import type { KeyPair } from '../pki/x509.js';
import {
  type ControllerContext,
  type ControllerFactory,
  type ControllerOptions,
  DEFAULT_CONTROLLER_OPTIONS,
} from './types.js';

/** A controller the manager can run (see registry.ts). */
export interface ControllerRegistration {
  /** The name used in `--controllers` and logs (`replicaset`, `deployment`, …). */
  name: string;
  /** Other names `--controllers` accepts (upstream's `<name>-controller` forms). */
  aliases?: string[];
  /** Off unless named explicitly (upstream's disabled-by-default set). */
  disabledByDefault?: boolean;
  /** The kube-system ServiceAccount it runs as with per-controller credentials. */
  serviceAccount?: string;
  factory: ControllerFactory;
}

/**
 * Client-side rate limits of the manager's clients and of each controller's (upstream flags
 * --kube-api-qps / --kube-api-burst, default 20 / 30 there). kts raises them: its manager
 * talks to an API server on the same machine that protects itself with priority and
 * fairness, and at 20 qps a 1,000-replica ReplicaSet would need 50 s just to be allowed to
 * create its pods. Each controller has its own bucket, so one busy controller never delays
 * another (see docs/ARCHITECTURE.md, "Controller manager client limits").
 */
export const CONTROLLER_MANAGER_CLIENT_LIMITS = { qps: 300, burst: 600 } as const;

/** Leader election timing (upstream defaults 15 s / 10 s / 2 s). */
export interface LeaderElectionOptions {
  namespace?: string;
  name?: string;
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

/** How to run a controller manager. */
export interface ControllerManagerOptions {
  /** The manager's own identity: leader election, shared informers, events, accounts. */
  client: Client;
  /**
   * Gives each controller with a `serviceAccount` its own client (upstream's
   * --use-service-account-credentials); without it every controller shares `client`.
   */
  clientBuilder?: ControllerClientBuilder;
  registry: readonly ControllerRegistration[];
  /** `--controllers` entries: `*`, `name`, `-name` (default `['*']`). */
  controllers?: readonly string[];
  leaderElect?: boolean;
  leaderElection?: LeaderElectionOptions;
  options?: Partial<ControllerOptions>;
  clock?: Clock;
  log?: Logger;
  /** Informer resync period (upstream's --min-resync-period is 12 h; 0 disables). */
  resyncMs?: number;
  /** PEM of the cluster CA, published as `kube-root-ca.crt` (upstream's --root-ca-file). */
  rootCA?: string;
  /** The CA that signs CSRs (upstream's --cluster-signing-cert-file/--cluster-signing-key-file). */
  clusterSigning?: KeyPair;
  /**
   * Start-up order: the controllers named in `first` start at once, the others once `rest`
   * settles. `kts server` uses it to keep a fresh node's critical path free of the others'
   * start-up burst: two dozen TokenRequests and informer lists.
   */
  startOrder?: { first: readonly string[]; rest: Promise<unknown> };
}

/** True when `--controllers` enables a controller (upstream IsControllerEnabled). */
export function isControllerEnabled(reg: ControllerRegistration, controllers: readonly string[]): boolean {
  const names = new Set([reg.name, ...(reg.aliases ?? [])]);
  let hasStar = false;
  for (const c of controllers) {
    if (names.has(c)) return true;
    if (c.startsWith('-') && names.has(c.slice(1))) return false;
    if (c === '*') hasStar = true;
  }
  return hasStar && reg.disabledByDefault !== true;
}

/** Names in `--controllers` that match no registered controller. */
export function unknownControllers(
  registry: readonly ControllerRegistration[],
  controllers: readonly string[],
): string[] {
  const known = new Set(registry.flatMap((r) => [r.name, ...(r.aliases ?? [])]));
  return controllers.filter((c) => c !== '*' && !known.has(c.startsWith('-') ? c.slice(1) : c));
}

/** A running controller manager. */
export class ControllerManager {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly selection: readonly string[];
  private leading = false;
  private started: string[] = [];

  /** A manager; nothing runs until `run`. */
  constructor(private readonly opts: ControllerManagerOptions) {
    this.clock = opts.clock ?? realClock;
    this.log = opts.log ?? noopLogger;
    this.selection = opts.controllers ?? ['*'];
  }

  /** True while this manager runs its controllers (always, without leader election). */
  isLeading(): boolean {
    return this.leading;
  }

  /** The controllers started by the last leadership term. */
  startedControllers(): readonly string[] {
    return this.started;
  }

  /**
   * Runs until the signal aborts, or (with leader election) until leadership is lost.
   * Resolves once every controller, informer and the event writer have stopped.
   */
  async run(signal: AbortSignal): Promise<void> {
    if (this.opts.leaderElect !== true) {
      await this.runControllers(signal);
      return;
    }
    const le = this.opts.leaderElection ?? {};
    let term: Promise<void> | undefined;
    const elector = new LeaderElector({
      client: this.opts.client,
      namespace: le.namespace ?? 'kube-system',
      name: le.name ?? 'kube-controller-manager',
      identity: le.identity ?? `${hostname()}_${randomUUID()}`,
      ...(le.leaseDurationMs !== undefined ? { leaseDurationMs: le.leaseDurationMs } : {}),
      ...(le.renewDeadlineMs !== undefined ? { renewDeadlineMs: le.renewDeadlineMs } : {}),
      ...(le.retryPeriodMs !== undefined ? { retryPeriodMs: le.retryPeriodMs } : {}),
      releaseOnCancel: true,
      clock: this.clock,
      logger: this.log,
      callbacks: {
        onStartedLeading: (leadSignal) => {
          this.log.info('started leading', { component: 'controller-manager' });
          term = this.runControllers(leadSignal);
        },
        onStoppedLeading: () => {
          this.log.info('stopped leading', { component: 'controller-manager' });
        },
      },
    });
    await elector.run(signal);
    if (term !== undefined) await term;
  }

  private async runControllers(outer: AbortSignal): Promise<void> {
    // Every informer and worker pool listens on this signal: far more than node's default of
    // 10 listeners, which is not a leak here.
    const inner = new AbortController();
    setMaxListeners(0, inner.signal);
    const forward = (): void => inner.abort(outer.reason);
    if (outer.aborted) forward();
    else outer.addEventListener('abort', forward, { once: true });
    const signal = inner.signal;
    const informers = new SharedInformerFactory(this.opts.client, {
      clock: this.clock,
      logger: this.log,
      defaultResyncMs: this.opts.resyncMs ?? 0,
    });
    // Metadata-only informers are shared too; only the resources someone asked for run.
    const metadataInformers = new SharedInformerFactory(metadataClientFor(this.opts.client), {
      clock: this.clock,
      logger: this.log,
      defaultResyncMs: this.opts.resyncMs ?? 0,
    });
    const broadcaster = new EventBroadcaster({
      client: this.opts.client,
      clock: this.clock,
      logger: this.log,
    });
    const base: ControllerContext = {
      client: this.opts.client,
      informers,
      metadataInformers,
      recorder: (component) => broadcaster.newRecorder({ component }),
      clock: this.clock,
      log: this.log,
      options: { ...DEFAULT_CONTROLLER_OPTIONS, ...this.opts.options },
      ...(this.opts.rootCA !== undefined ? { rootCA: this.opts.rootCA } : {}),
      ...(this.opts.clusterSigning !== undefined ? { clusterSigning: this.opts.clusterSigning } : {}),
    };
    const enabled = this.opts.registry.filter((reg) => {
      const on = isControllerEnabled(reg, this.selection);
      if (!on) this.log.debug('controller disabled', { controller: reg.name });
      return on;
    });
    // Each controller starts as soon as its own credentials are ready (not after all of
    // them): the node-ipam controller's PodCIDR gates the first node's network, so waiting
    // for two dozen TokenRequests would delay every fresh cluster's first Ready node.
    // Informers requested by a later controller start with it; handlers added to a running
    // informer are replayed its objects.
    const runs: Promise<void>[] = [];
    this.started = [];
    this.leading = true;
    const startOne = (reg: ControllerRegistration, client: Client): void => {
      if (signal.aborted) return;
      const c = reg.factory({ ...base, client, metadataClient: metadataClientFor(client) });
      this.started.push(c.name);
      // run() registers its handlers synchronously, before its informers start.
      runs.push(
        c.run(signal).catch((err: unknown) => {
          this.log.error('controller failed', { controller: c.name, error: errorText(err) });
        }),
      );
      informers.start(signal);
      metadataInformers.start(signal);
    };
    const allStarted = await this.controllerClients(enabled, signal, startOne);
    if (allStarted) this.log.info('started controllers', { controllers: this.started });
    await Promise.all(runs);
    this.leading = false;
    await informers.shutdown();
    await metadataInformers.shutdown();
    await broadcaster.shutdown();
    outer.removeEventListener('abort', forward);
  }

  // Hands each controller its client as soon as it has one (upstream's ClientOrDie: retried
  // until it works); false when the signal aborted first.
  private async controllerClients(
    enabled: readonly ControllerRegistration[],
    signal: AbortSignal,
    ready: (reg: ControllerRegistration, client: Client) => void,
  ): Promise<boolean> {
    const builder = this.opts.clientBuilder;
    const order = this.opts.startOrder;
    const later = (reg: ControllerRegistration): boolean =>
      order !== undefined && !order.first.includes(reg.name);
    await Promise.all(
      enabled.map(async (reg) => {
        if (later(reg)) {
          await Promise.race([order?.rest.catch(() => {}), abortPromise(signal)]);
          if (signal.aborted) return;
        }
        const account = reg.serviceAccount;
        if (builder === undefined || account === undefined) {
          ready(reg, this.opts.client);
          return;
        }
        const backoff = new Backoff({ initialMs: 200, maxMs: 10_000 }, this.clock);
        while (!signal.aborted) {
          try {
            const client = await builder.clientFor(account, signal);
            if (!signal.aborted) ready(reg, client);
            return;
          } catch (err) {
            if (signal.aborted) return;
            this.log.error('getting controller credentials failed', {
              controller: reg.name,
              serviceAccount: `kube-system/${account}`,
              error: errorText(err),
            });
            await this.clock.sleep(backoff.next(), signal).catch(() => {});
          }
        }
      }),
    );
    return !signal.aborted;
  }
}

/** Resolves when the signal aborts (never rejects). */
function abortPromise(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

export { runWorkers, type WorkerOptions } from './common/workers.js';
