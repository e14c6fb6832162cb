// The Job controller (upstream pkg/controller/job). One level-based sync per Job:
//   1. Track finished pods exactly once: pods carry the `batch.kubernetes.io/job-tracking`
//      finalizer; a finished pod's uid goes into status.uncountedTerminatedPods, then its
//      finalizer is removed, then the uid moves into status.succeeded/failed. A crash
//      between steps repeats a step, never double-counts.
//   2. Decide whether the Job is done: podFailurePolicy FailJob, failed > backoffLimit,
//      activeDeadlineSeconds, or enough successes. As in 1.32 the interim FailureTarget /
//      SuccessCriteriaMet condition comes first; Failed / Complete follow once no pod of
//      the Job is still running or terminating.
//   3. Otherwise keep min(parallelism, remaining) pods active, backing off exponentially
//      (10 s × 2^(n-1), at most 10 min) after consecutive failures.
import { omitZero } from '../../api/omit-empty.js';
import type { Job, JobCondition, JobStatus } from '../../api/generated/types/batch-v1.js';
import type { Pod } from '../../api/generated/types/core-v1.js';
import { type DeletedFinalStateUnknown, splitKey, unwrapTombstone } from '../../client/cache/store.js';
import type { Clock } from '../../client/clock.js';
import type { EventRecorder } from '../../client/events.js';
import { ControllerExpectations } from '../../client/expectations.js';
import type { Client } from '../../client/interface.js';
import { JOBS, PODS } from '../../client/resources.js';
import { labelSelectorAsSelector } from '../../machinery/labels/label-selector.js';
import { formatTimestamp, parseTimestamp } from '../../machinery/object-meta.js';
import { getControllerOfNoCopy, newControllerRef } from '../../machinery/owner-references.js';
import { isConflict, isNotFound } from '../../machinery/status-error.js';
import { isPodReady, isPodTerminal } from '../common/pod-state.js';
import { SyncLoop } from '../common/sync-loop.js';
import type { Controller, ControllerContext } from '../types.js';
import {
  formatIndexes,
  JOB_COMPLETION_INDEX,
  JOB_COMPLETION_INDEX_ENV,
  parseIndexes,
  podCompletionIndex,
} from './indexes.js';
import { matchPodFailurePolicy } from './pod-failure-policy.js';

/** The finalizer that keeps a Job's pods until the controller counted them. */
export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';
/** Job's group/version/kind. */
export const JOB_GVK = { group: 'batch', version: 'v1', kind: 'Job' };

/** Tunables (upstream DefaultJobPodFailureBackOff / MaxJobPodFailureBackOff). */
export interface JobControllerOptions {
  podFailureBackoffMs: number;
  maxPodFailureBackoffMs: number;
}

/** Upstream's values. */
export const DEFAULT_JOB_OPTIONS: JobControllerOptions = {
  podFailureBackoffMs: 10_000,
  maxPodFailureBackoffMs: 10 * 60_000,
};

interface BackoffRecord {
  failures: number;
  lastFailure: number;
}

/** True when the Job has a Complete or Failed condition with status True. */
export function isJobFinished(job: Job): boolean {
  return (job.status?.conditions ?? []).some(
    (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  );
}

function conditionOf(job: Job, type: string): JobCondition | undefined {
  return (job.status?.conditions ?? []).find((c) => c.type === type && c.status === 'True');
}

function hasFinalizer(pod: Pod): boolean {
  return (pod.metadata?.finalizers ?? []).includes(JOB_TRACKING_FINALIZER);
}

/** The Job controller. */
export class JobController implements Controller {
  readonly name = 'job';
  private readonly loop: SyncLoop;
  private readonly client: Client;
  private readonly clock: Clock;
  private readonly recorder: EventRecorder;
  private readonly expectations: ControllerExpectations;
  private readonly jobs;
  private readonly pods;
  private readonly workers: number;
  private readonly opts: JobControllerOptions;
  private readonly backoff = new Map<string, BackoffRecord>();

  /** A controller over ctx's informers. */
  constructor(ctx: ControllerContext, opts: Partial<JobControllerOptions> = {}) {
    this.client = ctx.client;
    this.clock = ctx.clock;
    this.recorder = ctx.recorder('job-controller');
    this.loop = new SyncLoop('job', ctx.log, ctx.clock);
    this.expectations = new ControllerExpectations(ctx.clock);
    this.jobs = ctx.informers.forResource(JOBS);
    this.pods = ctx.informers.forResource(PODS);
    this.workers = ctx.options.workers;
    this.opts = { ...DEFAULT_JOB_OPTIONS, ...opts };
  }

  run(signal: AbortSignal): Promise<void> {
    this.jobs.informer.addEventHandler({
      onAdd: (j) => this.loop.enqueue(j),
      onUpdate: (_o, j) => this.loop.enqueue(j),
      onDelete: (j) => {
        const job = unwrapTombstone(j);
        const key = `${job.metadata?.namespace ?? ''}/${job.metadata?.name ?? ''}`;
        this.expectations.deleteExpectations(key);
        this.backoff.delete(key);
        this.loop.enqueue(j);
      },
    });
    const ownerKey = (pod: Pod): string | undefined => {
      const ref = getControllerOfNoCopy(pod);
      return ref?.kind === 'Job' ? `${pod.metadata?.namespace ?? ''}/${ref.name}` : undefined;
    };
    this.pods.informer.addEventHandler({
      onAdd: (p) => {
        const key = ownerKey(p);
        if (key === undefined) return;
        this.expectations.creationObserved(key);
        this.loop.queue.add(key);
      },
      onUpdate: (_o, p) => {
        const key = ownerKey(p);
        if (key !== undefined) this.loop.queue.add(key);
      },
      onDelete: (p: Pod | DeletedFinalStateUnknown<Pod>) => {
        const key = ownerKey(unwrapTombstone(p));
        if (key === undefined) return;
        this.expectations.deletionObserved(key);
        this.loop.queue.add(key);
      },
    });
    return this.loop.run(signal, this.workers, (k) => this.sync(k), [this.jobs.informer, this.pods.informer]);
  }

  /** Reconciles one Job by `namespace/name` key. */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const cached = this.jobs.lister.namespace(namespace).tryGet(name);
    if (cached === undefined) {
      // The Job is gone: its pods must not stay held by our finalizer, or a garbage-collected
      // pod would never leave (upstream syncOrphanPod).
      const orphans = this.pods.lister
        .namespace(namespace)
        .list()
        .filter((p) => {
          const ref = getControllerOfNoCopy(p);
          return ref?.kind === 'Job' && ref.name === name && hasFinalizer(p);
        });
      await this.removeFinalizers(orphans);
      return;
    }
    const job = JSON.parse(JSON.stringify(cached)) as Job;
    const selector = labelSelectorAsSelector(job.spec?.selector);
    const pods = this.pods.lister
      .namespace(namespace)
      .list(selector)
      .filter((p) => getControllerOfNoCopy(p)?.uid === job.metadata?.uid);
    if (isJobFinished(job)) {
      // Finished: only make sure no pod is kept by our finalizer.
      await this.removeFinalizers(pods.filter(hasFinalizer));
      return;
    }
    const now = this.clock.now();
    const status: JobStatus = JSON.parse(JSON.stringify(job.status ?? {})) as JobStatus;
    const original = JSON.stringify(status);
    status.uncountedTerminatedPods ??= {};
    const suspended = job.spec?.suspend === true;
    if (!suspended && status.startTime === undefined) status.startTime = formatTimestamp(now);
    const suspendEvent = this.updateSuspendCondition(status, suspended, now);

    const counted = await this.trackFinishedPods(key, job, pods, status, now);
    const completions = job.spec?.completions;
    const indexed = job.spec?.completionMode === 'Indexed';
    const active = pods.filter((p) => !isPodTerminal(p) && (p.metadata?.deletionTimestamp ?? '') === '');
    const terminating = pods.filter((p) => !isPodTerminal(p) && (p.metadata?.deletionTimestamp ?? '') !== '');
    status.active = active.length;
    status.ready = active.filter(isPodReady).length;
    status.terminating = terminating.length;

    // Decide whether the Job is done.
    let target: JobCondition | undefined =
      conditionOf(job, 'FailureTarget') ?? conditionOf(job, 'SuccessCriteriaMet');
    if (target === undefined && counted.failJobMessage !== undefined) {
      target = newCondition('FailureTarget', 'PodFailurePolicy', counted.failJobMessage, now);
    }
    if (target === undefined && (status.failed ?? 0) > (job.spec?.backoffLimit ?? 6)) {
      target = newCondition(
        'FailureTarget',
        'BackoffLimitExceeded',
        'Job has reached the specified backoff limit',
        now,
      );
    }
    const deadline = job.spec?.activeDeadlineSeconds;
    const started = parseTimestamp(status.startTime);
    if (target === undefined && deadline !== undefined && !suspended && started !== undefined) {
      const remaining = started + deadline * 1000 - now;
      if (remaining <= 0) {
        target = newCondition(
          'FailureTarget',
          'DeadlineExceeded',
          'Job was active longer than specified deadline',
          now,
        );
      } else this.loop.queue.addAfter(key, remaining);
    }
    if (target === undefined) {
      const succeeded = indexed
        ? parseIndexes(status.completedIndexes, completions ?? 0).size
        : (status.succeeded ?? 0);
      const complete =
        completions === undefined
          ? (status.succeeded ?? 0) > 0 && active.length === 0
          : succeeded >= completions;
      if (complete)
        target = newCondition(
          'SuccessCriteriaMet',
          'CompletionsReached',
          'Reached expected number of succeeded pods',
          now,
        );
    }

    let finished: { type: 'Normal' | 'Warning'; reason: string; message: string } | undefined;
    if (target !== undefined) {
      if (conditionOf(job, target.type) === undefined)
        status.conditions = [...(status.conditions ?? []), target];
      // Nothing more runs once the outcome is known.
      await this.deletePods(key, job, active);
      const settled =
        active.length === 0 &&
        terminating.length === 0 &&
        (status.uncountedTerminatedPods.succeeded ?? []).length === 0 &&
        (status.uncountedTerminatedPods.failed ?? []).length === 0;
      if (settled) finished = this.finish(status, target, now);
    } else if (suspended) {
      await this.deletePods(key, job, active);
    } else if (this.expectations.satisfiedExpectations(key)) {
      await this.managePods(key, job, status, active, counted.backoff, now);
    }
    await this.writeStatus(job, status, original);
    // Failures count towards the pod backoff only once the status counting them landed: a sync
    // from a stale cache re-reads uids already counted, and its write is rejected.
    if (counted.backoff === undefined) this.backoff.delete(key);
    else this.backoff.set(key, counted.backoff);
    // Only the sync whose status write landed announces the outcome: a sync working from a
    // stale cache (its write conflicts) must not repeat Completed or BackoffLimitExceeded.
    if (suspendEvent !== undefined)
      this.recorder.event(job, 'Normal', suspendEvent.reason, suspendEvent.message);
    if (finished !== undefined) {
      this.recorder.event(job, finished.type, finished.reason, finished.message);
    }
  }

  // Counts finished pods through uncountedTerminatedPods (see the file comment).
  private async trackFinishedPods(
    key: string,
    job: Job,
    pods: Pod[],
    status: JobStatus,
    now: number,
  ): Promise<{ backoff: BackoffRecord | undefined; failJobMessage?: string }> {
    const uncounted = status.uncountedTerminatedPods ?? {};
    const succeededUIDs = new Set(uncounted.succeeded ?? []);
    const failedUIDs = new Set(uncounted.failed ?? []);
    const onlyFailedPhase =
      job.spec?.podFailurePolicy !== undefined || job.spec?.podReplacementPolicy === 'Failed';
    const completions = job.spec?.completions ?? 0;
    const indexed = job.spec?.completionMode === 'Indexed';
    const completed = parseIndexes(status.completedIndexes, completions);
    // Pods removed because the outcome is already known are not failures.
    const finishing =
      conditionOf(job, 'FailureTarget') !== undefined || conditionOf(job, 'SuccessCriteriaMet') !== undefined;
    let failJobMessage: string | undefined;
    const newlyFinished: Pod[] = [];
    const ignored: Pod[] = [];
    for (const p of pods) {
      if (!hasFinalizer(p)) continue;
      const uid = p.metadata?.uid ?? '';
      if (succeededUIDs.has(uid) || failedUIDs.has(uid)) continue;
      const phase = p.status?.phase;
      const deleted = (p.metadata?.deletionTimestamp ?? '') !== '';
      if (phase === 'Succeeded') {
        const idx = indexed ? podCompletionIndex(p.metadata, completions) : undefined;
        // A second success of an index is not counted again.
        if (indexed && (idx === undefined || completed.has(idx))) ignored.push(p);
        else {
          succeededUIDs.add(uid);
          if (idx !== undefined) completed.add(idx);
          newlyFinished.push(p);
        }
      } else if (deleted && phase !== 'Failed' && finishing) {
        ignored.push(p);
      } else if (phase === 'Failed' || (deleted && !onlyFailedPhase)) {
        const match = phase === 'Failed' ? matchPodFailurePolicy(job, p) : undefined;
        if (match?.action === 'Ignore') {
          ignored.push(p);
          continue;
        }
        if (match?.action === 'FailJob') failJobMessage ??= match.message;
        failedUIDs.add(uid);
        newlyFinished.push(p);
      }
    }
    if (indexed) status.completedIndexes = formatIndexes(completed);
    if (newlyFinished.length > 0) {
      status.uncountedTerminatedPods = { succeeded: [...succeededUIDs], failed: [...failedUIDs] };
      await this.client.resource(JOBS).updateStatus(job.metadata?.namespace ?? '', { ...job, status });
      job.metadata = { ...job.metadata, resourceVersion: undefined };
    }
    // With the uids recorded, the pods may go; then the uids become counts.
    const present = new Map(pods.map((p) => [p.metadata?.uid ?? '', p]));
    const release = [...succeededUIDs, ...failedUIDs]
      .map((u) => present.get(u))
      .filter((p): p is Pod => p !== undefined && hasFinalizer(p));
    await this.removeFinalizers([...release, ...ignored]);
    const newFailures = failedUIDs.size;
    status.succeeded = (status.succeeded ?? 0) + succeededUIDs.size;
    status.failed = (status.failed ?? 0) + newFailures;
    status.uncountedTerminatedPods = {};
    let backoff = this.backoff.get(key);
    if (newFailures > 0) {
      backoff = { failures: (backoff?.failures ?? 0) + newFailures, lastFailure: now };
    } else if (succeededUIDs.size > 0) backoff = undefined;
    return failJobMessage === undefined ? { backoff } : { backoff, failJobMessage };
  }

  private async removeFinalizers(pods: Pod[]): Promise<void> {
    await Promise.all(
      pods.map(async (p) => {
        const finalizers = (p.metadata?.finalizers ?? []).filter((f) => f !== JOB_TRACKING_FINALIZER);
        try {
          await this.client
            .resource(PODS)
            .patch(p.metadata?.namespace ?? '', p.metadata?.name ?? '', 'merge', {
              metadata: {
                finalizers: finalizers.length > 0 ? finalizers : null,
                resourceVersion: p.metadata?.resourceVersion,
              },
            });
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }),
    );
  }

  // Flips the Suspended condition; returns the event to record once the status is written.
  private updateSuspendCondition(
    status: JobStatus,
    suspended: boolean,
    now: number,
  ): { reason: string; message: string } | undefined {
    const conds = status.conditions ?? [];
    const i = conds.findIndex((c) => c.type === 'Suspended');
    const cur = conds[i];
    if (suspended && cur?.status !== 'True') {
      const c = newCondition('Suspended', 'JobSuspended', 'Job suspended', now);
      if (i >= 0) conds[i] = c;
      else conds.push(c);
      status.conditions = conds;
      return { reason: 'Suspended', message: 'Job suspended' };
    }
    if (!suspended && cur?.status === 'True') {
      conds[i] = { ...newCondition('Suspended', 'JobResumed', 'Job resumed', now), status: 'False' };
      status.conditions = conds;
      // The active deadline counts from the resume.
      status.startTime = formatTimestamp(now);
      return { reason: 'Resumed', message: 'Job resumed' };
    }
    return undefined;
  }

  // Adds the final condition; returns the event to record once the status is written.
  private finish(
    status: JobStatus,
    target: JobCondition,
    now: number,
  ): { type: 'Normal' | 'Warning'; reason: string; message: string } {
    const success = target.type === 'SuccessCriteriaMet';
    const type = success ? 'Complete' : 'Failed';
    status.conditions = [
      ...(status.conditions ?? []),
      newCondition(type, target.reason ?? '', target.message ?? '', now),
    ];
    if (success) {
      status.completionTime = formatTimestamp(now);
      return { type: 'Normal', reason: 'Completed', message: 'Job completed' };
    }
    return { type: 'Warning', reason: target.reason ?? 'Failed', message: target.message ?? '' };
  }

  private async managePods(
    key: string,
    job: Job,
    status: JobStatus,
    active: Pod[],
    rec: BackoffRecord | undefined,
    now: number,
  ): Promise<void> {
    const parallelism = job.spec?.parallelism ?? 1;
    const completions = job.spec?.completions;
    const indexed = job.spec?.completionMode === 'Indexed';
    let want = parallelism;
    let indexesToCreate: number[] = [];
    if (indexed) {
      const done = parseIndexes(status.completedIndexes, completions ?? 0);
      const running = new Set(active.map((p) => podCompletionIndex(p.metadata, completions ?? 0)));
      const pending: number[] = [];
      for (let i = 0; i < (completions ?? 0); i++) if (!done.has(i) && !running.has(i)) pending.push(i);
      want = Math.min(parallelism, active.length + pending.length);
      indexesToCreate = pending.slice(0, Math.max(0, want - active.length));
    } else if (completions !== undefined) {
      want = Math.min(parallelism, Math.max(0, completions - (status.succeeded ?? 0)));
    } else if ((status.succeeded ?? 0) > 0) {
      want = Math.min(parallelism, active.length);
    }
    if (active.length > want) {
      // Remove the youngest (not ready first) beyond what is wanted.
      const sorted = [...active].sort(
        (a, b) =>
          Number(isPodReady(a)) - Number(isPodReady(b)) ||
          (b.metadata?.creationTimestamp ?? '').localeCompare(a.metadata?.creationTimestamp ?? ''),
      );
      await this.deletePods(key, job, sorted.slice(0, active.length - want));
      status.active = want;
      return;
    }
    const diff = want - active.length;
    if (diff <= 0) return;
    if (rec !== undefined && rec.failures > 0) {
      const delay = Math.min(
        this.opts.podFailureBackoffMs * 2 ** (rec.failures - 1),
        this.opts.maxPodFailureBackoffMs,
      );
      const remaining = rec.lastFailure + delay - now;
      if (remaining > 0) {
        this.loop.queue.addAfter(key, remaining);
        return;
      }
    }
    const toCreate: Array<number | undefined> = indexed
      ? indexesToCreate
      : new Array<undefined>(diff).fill(undefined);
    this.expectations.expectCreations(key, toCreate.length);
    const ns = job.metadata?.namespace ?? '';
    const errors: unknown[] = [];
    await Promise.all(
      toCreate.map(async (idx) => {
        try {
          const pod = await this.client.resource(PODS).create(ns, newJobPod(job, idx));
          this.recorder.event(job, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata?.name ?? ''}`);
        } catch (err) {
          this.expectations.creationObserved(key);
          errors.push(err);
          this.recorder.event(job, 'Warning', 'FailedCreate', `Error creating: ${(err as Error).message}`);
        }
      }),
    );
    status.active = active.length + toCreate.length - errors.length;
    if (errors.length > 0) throw errors[0];
  }

  private async deletePods(key: string, job: Job, pods: Pod[]): Promise<void> {
    if (pods.length === 0) return;
    this.expectations.expectDeletions(key, pods.length);
    await Promise.all(
      pods.map(async (p) => {
        try {
          const uid = p.metadata?.uid;
          await this.client
            .resource(PODS)
            .delete(
              p.metadata?.namespace ?? '',
              p.metadata?.name ?? '',
              uid !== undefined ? { preconditions: { uid } } : {},
            );
          this.recorder.event(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata?.name ?? ''}`);
        } catch (err) {
          this.expectations.deletionObserved(key);
          if (!isNotFound(err) && !isConflict(err)) throw err;
        }
      }),
    );
  }

  private async writeStatus(job: Job, status: JobStatus, original: string): Promise<void> {
    // ready and terminating are pointers upstream (a 0 is shown); these three are omitempty.
    omitZero(status, ['active', 'succeeded', 'failed']);
    if (JSON.stringify(status) === original) return;
    try {
      await this.client.resource(JOBS).updateStatus(job.metadata?.namespace ?? '', { ...job, status });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

function newCondition(type: string, reason: string, message: string, now: number): JobCondition {
  const t = formatTimestamp(now);
  return { type, status: 'True', reason, message, lastProbeTime: t, lastTransitionTime: t };
}

/** The pod a Job runs (with its completion index when Indexed). */
export function newJobPod(job: Job, index: number | undefined): Pod {
  const t = JSON.parse(JSON.stringify(job.spec?.template ?? {})) as NonNullable<Job['spec']>['template'];
  const meta = t.metadata ?? {};
  delete meta.creationTimestamp;
  const jobName = job.metadata?.name ?? '';
  const spec = t.spec ?? { containers: [] };
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...meta,
      generateName: index === undefined ? `${jobName}-` : `${jobName}-${index}-`,
      namespace: job.metadata?.namespace ?? '',
      finalizers: [...(meta.finalizers ?? []), JOB_TRACKING_FINALIZER],
      ownerReferences: [newControllerRef(job, JOB_GVK)],
    },
    spec,
  };
  if (index !== undefined && pod.metadata !== undefined) {
    pod.metadata.annotations = { ...(meta.annotations ?? {}), [JOB_COMPLETION_INDEX]: String(index) };
    pod.metadata.labels = { ...(meta.labels ?? {}), [JOB_COMPLETION_INDEX]: String(index) };
    if ((spec.hostname ?? '') === '') spec.hostname = `${jobName}-${index}`;
    const env = {
      name: JOB_COMPLETION_INDEX_ENV,
      valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${JOB_COMPLETION_INDEX}']` } },
    };
    for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
      c.env = [...(c.env ?? []).filter((e) => e.name !== JOB_COMPLETION_INDEX_ENV), env];
    }
  }
  return pod;
}
