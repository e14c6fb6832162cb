// The CronJob controller (upstream cronjob_controllerv2.go). One sync per CronJob: reconcile
// status.active with the Jobs it owns (recording finished ones), start the Job of the most
// recent missed schedule time unless suspended, too late (startingDeadlineSeconds) or
// blocked by concurrencyPolicy, trim finished Jobs beyond the history limits, and re-queue
// the key for the next schedule time. Job names are `<cronjob>-<scheduled minutes since
// the epoch>`, so a repeated sync never starts one schedule time twice.
import type { CronJob, CronJobStatus, Job } from '../../api/generated/types/batch-v1.js';
import type { ObjectReference } from '../../api/generated/types/core-v1.js';
import { type DeletedFinalStateUnknown, splitKey, unwrapTombstone } from '../../client/cache/store.js';
import type { Clock } from '../../client/clock.js';
import type { EventRecorder } from '../../client/events.js';
import type { Client } from '../../client/interface.js';
import { CRONJOBS, JOBS } from '../../client/resources.js';
import { formatTimestamp, parseTimestamp } from '../../machinery/object-meta.js';
import { getControllerOfNoCopy, newControllerRef } from '../../machinery/owner-references.js';
import { isAlreadyExists, isNotFound } from '../../machinery/status-error.js';
import { SyncLoop } from '../common/sync-loop.js';
import type { Controller, ControllerContext } from '../types.js';
import { type CronSchedule, hasTimeZonePrefix, parseSchedule } from './schedule.js';

/** CronJob's group/version/kind. */
export const CRONJOB_GVK = { group: 'batch', version: 'v1', kind: 'CronJob' };
/** Annotation with the schedule time a Job was created for. */
export const CRONJOB_SCHEDULED_TIMESTAMP = 'batch.kubernetes.io/cronjob-scheduled-timestamp';

/** The most recent schedule time not after now, and whether over 100 were missed. */
export interface MostRecent {
  scheduled?: number;
  manyMissed: boolean;
}

/** mostRecentScheduleTime: the latest activation in (earliest, now]. */
export function mostRecentScheduleTime(cj: CronJob, now: number, sched: CronSchedule): MostRecent {
  let earliest =
    parseTimestamp(cj.status?.lastScheduleTime) ?? parseTimestamp(cj.metadata?.creationTimestamp) ?? now;
  const sds = cj.spec.startingDeadlineSeconds;
  if (sds !== undefined) earliest = Math.max(earliest, now - sds * 1000);
  let t = sched.next(earliest);
  if (t === undefined || t > now) return { manyMissed: false };
  let count = 0;
  let last = t;
  while (t !== undefined && t <= now) {
    last = t;
    count++;
    // Past 100 the exact count no longer matters; jump close to now for long gaps.
    if (count > 100) {
      const t2 = sched.next(t);
      if (t2 === undefined) break;
      const step = t2 - t;
      if (step > 0 && now - t > step * 2) t += Math.floor((now - t) / step - 1) * step;
    }
    t = sched.next(t);
  }
  return { scheduled: last, manyMissed: count > 100 };
}

/** `<cronjob>-<minutes since the epoch>` (getJobName). */
export function jobNameFor(cj: CronJob, scheduled: number): string {
  return `${cj.metadata?.name ?? ''}-${Math.floor(scheduled / 60_000)}`;
}

function jobFinished(job: Job): 'Complete' | 'Failed' | undefined {
  for (const c of job.status?.conditions ?? []) {
    if (c.status !== 'True') continue;
    if (c.type === 'Complete' || c.type === 'Failed') return c.type;
  }
  return undefined;
}

function jobRef(job: Job): ObjectReference {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    name: job.metadata?.name ?? '',
    namespace: job.metadata?.namespace ?? '',
    uid: job.metadata?.uid ?? '',
    resourceVersion: job.metadata?.resourceVersion ?? '',
  };
}

/** The CronJob controller. */
export class CronJobController implements Controller {
  readonly name = 'cronjob';
  private readonly loop: SyncLoop;
  private readonly client: Client;
  private readonly clock: Clock;
  private readonly recorder: EventRecorder;
  private readonly cronjobs;
  private readonly jobs;
  private readonly workers: number;

  /** A controller over ctx's informers. */
  constructor(ctx: ControllerContext) {
    this.client = ctx.client;
    this.clock = ctx.clock;
    this.recorder = ctx.recorder('cronjob-controller');
    this.loop = new SyncLoop('cronjob', ctx.log, ctx.clock);
    this.cronjobs = ctx.informers.forResource(CRONJOBS);
    this.jobs = ctx.informers.forResource(JOBS);
    this.workers = ctx.options.workers;
  }

  run(signal: AbortSignal): Promise<void> {
    this.cronjobs.informer.addEventHandler({
      onAdd: (c) => this.loop.enqueue(c),
      onUpdate: (_o, c) => this.loop.enqueue(c),
      onDelete: (c) => this.loop.enqueue(c),
    });
    const onJob = (j: Job | DeletedFinalStateUnknown<Job>): void => {
      const job = unwrapTombstone(j);
      const ref = getControllerOfNoCopy(job);
      if (ref?.kind === 'CronJob') this.loop.queue.add(`${job.metadata?.namespace ?? ''}/${ref.name}`);
    };
    this.jobs.informer.addEventHandler({ onAdd: onJob, onUpdate: (_o, j) => onJob(j), onDelete: onJob });
    return this.loop.run(signal, this.workers, (k) => this.sync(k), [
      this.cronjobs.informer,
      this.jobs.informer,
    ]);
  }

  /** Reconciles one CronJob by `namespace/name` key. */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const cached = this.cronjobs.lister.namespace(namespace).tryGet(name);
    if (cached === undefined) return;
    const cj = JSON.parse(JSON.stringify(cached)) as CronJob;
    const now = this.clock.now();
    const status: CronJobStatus = cj.status ?? {};
    const original = JSON.stringify(status);
    const owned = this.jobs.lister
      .namespace(namespace)
      .list()
      .filter((j) => getControllerOfNoCopy(j)?.uid === cj.metadata?.uid);

    await this.reconcileActive(cj, status, owned);
    if ((cj.metadata?.deletionTimestamp ?? '') === '') {
      const next = await this.maybeStartJob(cj, status, owned, now);
      await this.cleanupFinishedJobs(cj, owned);
      if (next !== undefined) this.loop.queue.addAfter(key, Math.max(0, next - now) + 100);
    }
    if (JSON.stringify(status) !== original) {
      try {
        await this.client.resource(CRONJOBS).updateStatus(namespace, { ...cj, status });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }

  private async reconcileActive(cj: CronJob, status: CronJobStatus, owned: Job[]): Promise<void> {
    const byUID = new Map(owned.map((j) => [j.metadata?.uid ?? '', j]));
    const active = (status.active ?? []).filter((r) => {
      const job = byUID.get(r.uid ?? '');
      if (job === undefined) return false;
      const done = jobFinished(job);
      if (done === undefined) return true;
      this.recorder.event(
        cj,
        'Normal',
        'SawCompletedJob',
        `Saw completed job: ${job.metadata?.name ?? ''}, condition: ${done}`,
      );
      return false;
    });
    const known = new Set(active.map((r) => r.uid));
    let fresh: CronJob | undefined;
    for (const job of owned) {
      const done = jobFinished(job);
      if (done === undefined && !known.has(job.metadata?.uid)) {
        // Our cache may predate the status write that listed a Job we just created, so the
        // live object decides. A running Job we never listed (one made by `kubectl create
        // job --from=cronjob/...`, say) is reported and left out of active, as upstream does.
        fresh ??= await this.client
          .resource(CRONJOBS)
          .get(cj.metadata?.namespace ?? '', cj.metadata?.name ?? '');
        if ((fresh.status?.active ?? []).some((r) => r.uid === job.metadata?.uid)) active.push(jobRef(job));
        else
          this.recorder.event(
            cj,
            'Warning',
            'UnexpectedJob',
            `Saw a job that the controller did not create or forgot: ${job.metadata?.name ?? ''}`,
          );
      }
      if (done === 'Complete') {
        const t = parseTimestamp(job.status?.completionTime);
        const last = parseTimestamp(status.lastSuccessfulTime);
        if (t !== undefined && (last === undefined || t > last))
          status.lastSuccessfulTime = formatTimestamp(t);
      }
    }
    if (active.length > 0) status.active = active;
    else delete status.active;
  }

  // Starts the Job of the most recent schedule time when allowed; returns the next time to look.
  private async maybeStartJob(
    cj: CronJob,
    status: CronJobStatus,
    owned: Job[],
    now: number,
  ): Promise<number | undefined> {
    if (hasTimeZonePrefix(cj.spec.schedule)) {
      this.recorder.event(
        cj,
        'Warning',
        'UnsupportedSchedule',
        `CRON_TZ or TZ used in schedule "${cj.spec.schedule}" is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details`,
      );
    }
    let sched: CronSchedule;
    try {
      sched = parseSchedule(cj.spec.schedule, cj.spec.timeZone);
    } catch (err) {
      if (cj.spec.timeZone !== undefined && (err as Error).message.startsWith('unknown time zone')) {
        this.recorder.event(
          cj,
          'Warning',
          'UnknownTimeZone',
          `invalid timeZone: "${cj.spec.timeZone}": ${(err as Error).message}`,
        );
      } else {
        this.recorder.event(
          cj,
          'Warning',
          'UnparseableSchedule',
          `unparseable schedule: "${cj.spec.schedule}" : ${(err as Error).message}`,
        );
      }
      return undefined;
    }
    if (cj.spec.suspend === true) return undefined;
    const { scheduled, manyMissed } = mostRecentScheduleTime(cj, now, sched);
    const next = sched.next(now);
    if (scheduled === undefined) return next;
    if (manyMissed) {
      this.recorder.event(
        cj,
        'Warning',
        'TooManyMissedTimes',
        'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew',
      );
    }
    const sds = cj.spec.startingDeadlineSeconds;
    if (sds !== undefined && scheduled + sds * 1000 < now) {
      this.recorder.event(
        cj,
        'Warning',
        'MissSchedule',
        `Missed scheduled time to start a job: ${new Date(scheduled).toUTCString()}`,
      );
      return next;
    }
    const jobName = jobNameFor(cj, scheduled);
    if (
      owned.some((j) => j.metadata?.name === jobName) ||
      (status.active ?? []).some((r) => r.name === jobName)
    )
      return next;
    const policy = cj.spec.concurrencyPolicy ?? 'Allow';
    const active = status.active ?? [];
    if (policy === 'Forbid' && active.length > 0) {
      this.recorder.event(
        cj,
        'Normal',
        'JobAlreadyActive',
        'Not starting job because prior execution is running and concurrency policy is Forbid',
      );
      return next;
    }
    if (policy === 'Replace') {
      for (const r of active) {
        await this.deleteJob(cj, r.name ?? '', r.uid);
      }
      status.active = [];
    }
    const job = this.newJob(cj, scheduled, jobName);
    let created: Job;
    try {
      created = await this.client.resource(JOBS).create(cj.metadata?.namespace ?? '', job);
      this.recorder.event(cj, 'Normal', 'SuccessfulCreate', `Created job ${jobName}`);
    } catch (err) {
      if (!isAlreadyExists(err)) {
        this.recorder.event(cj, 'Warning', 'FailedCreate', `Error creating job: ${(err as Error).message}`);
        throw err;
      }
      // Created by an earlier sync whose status write was lost.
      created = await this.client.resource(JOBS).get(cj.metadata?.namespace ?? '', jobName);
      if (getControllerOfNoCopy(created)?.uid !== cj.metadata?.uid) return next;
    }
    status.active = [
      ...(status.active ?? []).filter((r) => r.uid !== created.metadata?.uid),
      jobRef(created),
    ];
    status.lastScheduleTime = formatTimestamp(scheduled);
    return next;
  }

  /** The Job of one schedule time (getJobFromTemplate2). */
  newJob(cj: CronJob, scheduled: number, name: string): Job {
    const tpl = JSON.parse(JSON.stringify(cj.spec.jobTemplate)) as CronJob['spec']['jobTemplate'];
    const meta = tpl.metadata ?? {};
    delete meta.creationTimestamp;
    return {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        ...meta,
        name,
        namespace: cj.metadata?.namespace ?? '',
        annotations: {
          ...(meta.annotations ?? {}),
          [CRONJOB_SCHEDULED_TIMESTAMP]: new Date(scheduled).toISOString().replace('.000Z', 'Z'),
        },
        ownerReferences: [newControllerRef(cj, CRONJOB_GVK)],
      },
      ...(tpl.spec !== undefined ? { spec: tpl.spec } : {}),
    };
  }

  private async deleteJob(cj: CronJob, name: string, uid: string | undefined): Promise<void> {
    try {
      await this.client.resource(JOBS).delete(cj.metadata?.namespace ?? '', name, {
        propagationPolicy: 'Background',
        ...(uid !== undefined ? { preconditions: { uid } } : {}),
      });
      this.recorder.event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${name}`);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  // Keeps the newest successfulJobsHistoryLimit / failedJobsHistoryLimit finished Jobs.
  private async cleanupFinishedJobs(cj: CronJob, owned: Job[]): Promise<void> {
    const startOf = (j: Job): number =>
      parseTimestamp(j.status?.startTime) ?? parseTimestamp(j.metadata?.creationTimestamp) ?? 0;
    for (const [kind, limit] of [
      ['Complete', cj.spec.successfulJobsHistoryLimit ?? 3],
      ['Failed', cj.spec.failedJobsHistoryLimit ?? 1],
    ] as const) {
      const finished = owned
        .filter((j) => jobFinished(j) === kind && (j.metadata?.deletionTimestamp ?? '') === '')
        .sort((a, b) => startOf(a) - startOf(b));
      for (let i = 0; i < finished.length - limit; i++) {
        const j = finished[i] as Job;
        await this.deleteJob(cj, j.metadata?.name ?? '', j.metadata?.uid);
      }
    }
  }
}
