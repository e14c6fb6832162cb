// The TTL-after-finished controller (upstream pkg/controller/ttlafterfinished): a finished
// Job with spec.ttlSecondsAfterFinished is deleted (foreground, so its pods go first) once
// that many seconds passed since it finished; until then its key waits in the queue for
// exactly the remaining time.
import type { Job } from '../../api/generated/types/batch-v1.js';
import { splitKey } from '../../client/cache/store.js';
import type { Clock } from '../../client/clock.js';
import type { Client } from '../../client/interface.js';
import { JOBS } from '../../client/resources.js';
import { parseTimestamp } from '../../machinery/object-meta.js';
import { isConflict, isNotFound } from '../../machinery/status-error.js';
import { SyncLoop } from '../common/sync-loop.js';
import type { Controller, ControllerContext } from '../types.js';

/** When the Job finished (its Complete or Failed condition's transition time), if it did. */
export function jobFinishTime(job: Job): number | undefined {
  const c = (job.status?.conditions ?? []).find(
    (x) => (x.type === 'Complete' || x.type === 'Failed') && x.status === 'True',
  );
  if (c === undefined) return undefined;
  return parseTimestamp(c.lastTransitionTime) ?? parseTimestamp(job.status?.completionTime);
}

/** Milliseconds until the Job expires (<= 0: expired), or undefined when it never does. */
export function timeLeft(job: Job, now: number): number | undefined {
  const ttl = job.spec?.ttlSecondsAfterFinished;
  if (ttl === undefined || (job.metadata?.deletionTimestamp ?? '') !== '') return undefined;
  const finished = jobFinishTime(job);
  if (finished === undefined) return undefined;
  return finished + ttl * 1000 - now;
}

/** The TTL-after-finished controller. */
export class TTLAfterFinishedController implements Controller {
  readonly name = 'ttl-after-finished';
  private readonly loop: SyncLoop;
  private readonly client: Client;
  private readonly clock: Clock;
  private readonly jobs;
  private readonly workers: number;

  /** A controller over ctx's informers. */
  constructor(ctx: ControllerContext) {
    this.client = ctx.client;
    this.clock = ctx.clock;
    this.loop = new SyncLoop('ttl-after-finished', ctx.log, ctx.clock);
    this.jobs = ctx.informers.forResource(JOBS);
    this.workers = ctx.options.workers;
  }

  run(signal: AbortSignal): Promise<void> {
    const maybe = (j: Job): void => {
      if (j.spec?.ttlSecondsAfterFinished !== undefined && jobFinishTime(j) !== undefined)
        this.loop.enqueue(j);
    };
    this.jobs.informer.addEventHandler({ onAdd: maybe, onUpdate: (_o, j) => maybe(j) });
    return this.loop.run(signal, this.workers, (k) => this.sync(k), [this.jobs.informer]);
  }

  /** Deletes the Job when its TTL has run out, or re-queues it for then. */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const job = this.jobs.lister.namespace(namespace).tryGet(name);
    if (job === undefined) return;
    const left = timeLeft(job, this.clock.now());
    if (left === undefined) return;
    if (left > 0) {
      this.loop.queue.addAfter(key, left);
      return;
    }
    const uid = job.metadata?.uid;
    try {
      await this.client.resource(JOBS).delete(namespace, name, {
        propagationPolicy: 'Foreground',
        ...(uid !== undefined ? { preconditions: { uid } } : {}),
      });
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
  }
}
