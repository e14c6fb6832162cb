// Leader election on a coordination.k8s.io/v1 Lease (client-go tools/leaderelection).
//
// A candidate reads the lease; it may take it when nobody holds it, when it holds it
// already, or when the holder has not renewed for leaseDuration as measured on *our*
// clock since we last saw the record change (never by comparing the holder's renewTime
// with our clock, which would trust clock skew between machines). Writes use the lease's
// resourceVersion, so two candidates racing for an expired lease cannot both win.
// The leader renews every retryPeriod; if it cannot renew within renewDeadline it stops
// leading (its onStartedLeading signal aborts) before the lease can expire for others,
// because leaseDuration > renewDeadline. With releaseOnCancel, a leader that is asked to
// stop clears holderIdentity so a successor takes over at once instead of after expiry.
import type { Lease } from '../api/generated/types/coordination-v1.js';
import { formatMicroTimestamp } from '../machinery/object-meta.js';
import { isConflict, isNotFound } from '../machinery/status-error.js';
import { jitter } from './backoff.js';
import { type Clock, realClock } from './clock.js';
import type { Client, ResourceClient } from './interface.js';
import { errorText, type Logger, noopLogger } from './log.js';
import { LEASES } from './resources.js';

/** client-go's JitterFactor for the retry period. */
export const JITTER_FACTOR = 1.2;

// A release that races a writer is retried from a fresh read a few times.
const RELEASE_ATTEMPTS = 3;

/** What the elector tells its owner. */
export interface LeaderCallbacks {
  /** We became leader; `signal` aborts when we stop leading. */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  /** We stopped leading (or never led and run ended). */
  onStoppedLeading(): void;
  /** The observed leader changed (including to ourselves). */
  onNewLeader?(identity: string): void;
}

/** Configuration of a LeaderElector. */
export interface LeaderElectionConfig {
  client: Client;
  /** The Lease's namespace and name (e.g. kube-system/kube-controller-manager). */
  namespace: string;
  name: string;
  /** This candidate's unique identity (hostname + random suffix upstream). */
  identity: string;
  /** Default 15 s. */
  leaseDurationMs?: number;
  /** Default 10 s. */
  renewDeadlineMs?: number;
  /** Default 2 s. */
  retryPeriodMs?: number;
  /** Clear the lease when the run signal aborts while leading. */
  releaseOnCancel?: boolean;
  callbacks: LeaderCallbacks;
  clock?: Clock;
  logger?: Logger;
}

/** Campaigns for and holds a Lease. */
export class LeaderElector {
  private readonly leases: ResourceClient<Lease>;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private observed: Lease | undefined;
  private observedRaw = '';
  private observedTime = 0;
  private reportedLeader = '';

  /** Validates the timing as upstream does. */
  constructor(private readonly cfg: LeaderElectionConfig) {
    this.leaseDurationMs = cfg.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = cfg.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = cfg.retryPeriodMs ?? 2_000;
    if (this.leaseDurationMs <= this.renewDeadlineMs)
      throw new Error('leaseDuration must be greater than renewDeadline');
    if (this.renewDeadlineMs <= JITTER_FACTOR * this.retryPeriodMs) {
      throw new Error('renewDeadline must be greater than retryPeriod*JitterFactor');
    }
    if (cfg.identity === '') throw new Error('Lock identity is empty');
    this.leases = cfg.client.resource(LEASES);
    this.clock = cfg.clock ?? realClock;
    this.log = cfg.logger ?? noopLogger;
  }

  /** The identity of the leader we last observed ('' if none). */
  getLeader(): string {
    return this.observed?.spec?.holderIdentity ?? '';
  }

  /** True while the last observed record names us. */
  isLeader(): boolean {
    return this.getLeader() === this.cfg.identity;
  }

  /**
   * Campaigns until elected, leads until renewal fails or the signal aborts, then returns
   * (a process normally exits then, as upstream's components do).
   */
  async run(signal: AbortSignal): Promise<void> {
    try {
      if (!(await this.acquire(signal))) return;
      const leading = new AbortController();
      const onAbort = (): void => leading.abort(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      void Promise.resolve()
        .then(() => this.cfg.callbacks.onStartedLeading(leading.signal))
        .catch((err: unknown) =>
          this.log.error('onStartedLeading failed', { lease: this.leaseName(), error: errorText(err) }),
        );
      await this.renew(signal);
      signal.removeEventListener('abort', onAbort);
      leading.abort(new Error('leader election lost'));
      if (signal.aborted && this.cfg.releaseOnCancel) await this.release();
    } finally {
      this.cfg.callbacks.onStoppedLeading();
    }
  }

  /**
   * Gives the lease up if we hold it; true when released. The lease is read afresh: the
   * record we observed may be stale (a renewal aborted by the same cancellation may still
   * have reached the server), and an update from a stale resourceVersion would fail and
   * leave the standby waiting for the whole lease duration.
   */
  async release(): Promise<boolean> {
    if (!this.isLeader()) return true;
    for (let attempt = 0; attempt < RELEASE_ATTEMPTS; attempt++) {
      try {
        const current = await this.leases.get(this.cfg.namespace, this.cfg.name);
        if ((current.spec?.holderIdentity ?? '') !== this.cfg.identity) {
          this.setObserved(current);
          return true;
        }
        const now = formatMicroTimestamp(this.clock.now());
        const lease: Lease = {
          ...current,
          spec: {
            holderIdentity: '',
            leaseDurationSeconds: 1,
            acquireTime: now,
            renewTime: now,
            leaseTransitions: current.spec?.leaseTransitions ?? 0,
          },
        };
        this.setObserved(await this.leases.update(this.cfg.namespace, lease));
        return true;
      } catch (err) {
        if (isConflict(err) && attempt + 1 < RELEASE_ATTEMPTS) continue;
        this.log.error('failed to release lock', { lease: this.leaseName(), error: errorText(err) });
        return false;
      }
    }
    return false;
  }

  // Retries every retryPeriod (jittered) until elected; false when aborted.
  private async acquire(signal: AbortSignal): Promise<boolean> {
    this.log.info('attempting to acquire leader lease', { lease: this.leaseName() });
    while (!signal.aborted) {
      if (await this.tryAcquireOrRenew(signal)) {
        this.log.info('successfully acquired lease', { lease: this.leaseName() });
        return true;
      }
      try {
        await this.clock.sleep(jitter(this.retryPeriodMs, JITTER_FACTOR), signal);
      } catch {
        return false;
      }
    }
    return false;
  }

  // Renews every retryPeriod; returns when a renewal could not succeed within
  // renewDeadline, or when the signal aborts.
  private async renew(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const deadline = this.clock.now() + this.renewDeadlineMs;
      let renewed = false;
      while (!signal.aborted && this.clock.now() < deadline) {
        if (await this.tryAcquireOrRenew(signal, deadline)) {
          renewed = true;
          break;
        }
        const wait = Math.min(this.retryPeriodMs, deadline - this.clock.now());
        if (wait <= 0) break;
        try {
          await this.clock.sleep(wait, signal);
        } catch {
          return;
        }
      }
      if (!renewed) {
        if (!signal.aborted) this.log.error('failed to renew lease', { lease: this.leaseName() });
        return;
      }
      try {
        await this.clock.sleep(this.retryPeriodMs, signal);
      } catch {
        return;
      }
    }
  }

  private async tryAcquireOrRenew(signal: AbortSignal, deadline?: number): Promise<boolean> {
    const ac = new AbortController();
    const onAbort = (): void => ac.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    // A renewal that hangs past the deadline counts as failed.
    const timer =
      deadline !== undefined
        ? this.clock.setTimeout(() => ac.abort(new Error('renew deadline')), deadline - this.clock.now())
        : undefined;
    try {
      return await this.attempt(ac.signal);
    } catch (err) {
      if (!signal.aborted)
        this.log.error('error retrieving or updating lease', {
          lease: this.leaseName(),
          error: errorText(err),
        });
      return false;
    } finally {
      timer?.cancel();
      signal.removeEventListener('abort', onAbort);
    }
  }

  private async attempt(signal: AbortSignal): Promise<boolean> {
    const nowMs = this.clock.now();
    const now = formatMicroTimestamp(nowMs);
    const me = this.cfg.identity;
    const spec = {
      holderIdentity: me,
      leaseDurationSeconds: Math.round(this.leaseDurationMs / 1000),
      acquireTime: now,
      renewTime: now,
      leaseTransitions: 0,
    };
    let current: Lease;
    try {
      current = await this.leases.get(this.cfg.namespace, this.cfg.name, { signal });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      const created = await this.leases.create(
        this.cfg.namespace,
        {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: this.cfg.name, namespace: this.cfg.namespace },
          spec,
        },
        { signal },
      );
      this.setObserved(created);
      return true;
    }
    this.setObserved(current);
    const held = current.spec?.holderIdentity ?? '';
    const expired = this.observedTime + (current.spec?.leaseDurationSeconds ?? 0) * 1000 <= nowMs;
    if (held !== '' && held !== me && !expired) return false;
    if (held === me) {
      spec.acquireTime = current.spec?.acquireTime ?? now;
      spec.leaseTransitions = current.spec?.leaseTransitions ?? 0;
    } else {
      spec.leaseTransitions = (current.spec?.leaseTransitions ?? 0) + 1;
    }
    const updated = await this.leases.update(
      this.cfg.namespace,
      { ...current, spec: { ...current.spec, ...spec } },
      { signal },
    );
    this.setObserved(updated);
    return true;
  }

  // observedTime moves only when the record changes: expiry is measured on our clock.
  private setObserved(lease: Lease): void {
    const raw = JSON.stringify(lease.spec ?? {});
    if (raw !== this.observedRaw) {
      this.observedRaw = raw;
      this.observedTime = this.clock.now();
    }
    this.observed = lease;
    const leader = lease.spec?.holderIdentity ?? '';
    if (leader !== this.reportedLeader) {
      this.reportedLeader = leader;
      if (leader !== '') {
        try {
          this.cfg.callbacks.onNewLeader?.(leader);
        } catch (err) {
          this.log.error('onNewLeader failed', { lease: this.leaseName(), error: errorText(err) });
        }
      }
    }
  }

  private leaseName(): string {
    return `${this.cfg.namespace}/${this.cfg.name}`;
  }
}
