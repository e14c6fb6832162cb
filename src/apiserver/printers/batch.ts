// Jobs and CronJobs: what a job came to, how much of it is done and how long it ran.
import type { CronJob, Job } from '../../api/generated/types/batch-v1.js';
import { humanDuration } from '../../machinery/duration.js';
import {
  AGE_COLUMN,
  NAME_COLUMN,
  age,
  boolPtrCell,
  column,
  conditionTrue,
  containerCells,
  int,
  nameOf,
  parseTime,
  selectorCell,
  since,
} from './format.js';
import type { ResourcePrinter } from './table.js';

const CONTAINERS_COLUMN = column('Containers', 'string', 'Container names of the pod template.', {
  wide: true,
});
const IMAGES_COLUMN = column('Images', 'string', 'Container images of the pod template.', { wide: true });
const SELECTOR_COLUMN = column('Selector', 'string', 'The label selector of the pods.', { wide: true });

/** The STATUS cell of a Job (upstream's order: a finished job wins over a deleting one). */
export function jobStatus(job: Job): string {
  const conditions = job.status?.conditions;
  if (conditionTrue(conditions, 'Complete')) return 'Complete';
  if (conditionTrue(conditions, 'Failed')) return 'Failed';
  if (job.metadata?.deletionTimestamp) return 'Terminating';
  if (conditionTrue(conditions, 'Suspended')) return 'Suspended';
  if (conditionTrue(conditions, 'FailureTarget')) return 'FailureTarget';
  return 'Running';
}

function completionsCell(job: Job): string {
  const succeeded = int(job.status?.succeeded);
  const completions = job.spec?.completions;
  if (typeof completions === 'number') return `${succeeded}/${completions}`;
  const parallelism = int(job.spec?.parallelism);
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

function durationCell(job: Job, nowMs: number): string {
  const start = parseTime(job.status?.startTime);
  if (start === undefined) return '';
  const end = parseTime(job.status?.completionTime);
  return humanDuration((end ?? nowMs) - start);
}

/** Jobs. */
export const JOBS: ResourcePrinter = {
  columns: [
    NAME_COLUMN,
    column('Status', 'string', 'What the job came to, or Running.'),
    column('Completions', 'string', 'Succeeded pods out of the completions wanted.'),
    column('Duration', 'string', 'How long the job ran, or has been running.'),
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
    SELECTOR_COLUMN,
  ],
  cells(obj, ctx) {
    const job = obj as unknown as Job;
    const [names, images] = containerCells(job.spec?.template?.spec?.containers);
    return [
      nameOf(obj),
      jobStatus(job),
      completionsCell(job),
      durationCell(job, ctx.nowMs),
      age(obj, ctx.nowMs),
      names,
      images,
      selectorCell(job.spec?.selector),
    ];
  },
};

/** CronJobs. */
export const CRON_JOBS: ResourcePrinter = {
  columns: [
    NAME_COLUMN,
    column('Schedule', 'string', 'The cron schedule.'),
    column('Timezone', 'string', 'The time zone of the schedule.'),
    column('Suspend', 'boolean', 'Whether new runs are suspended.'),
    column('Active', 'integer', 'Jobs running now.'),
    column('Last Schedule', 'string', 'Time since a job was last scheduled.'),
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
    SELECTOR_COLUMN,
  ],
  cells(obj, ctx) {
    const cj = obj as unknown as CronJob;
    const jobSpec = cj.spec?.jobTemplate?.spec;
    const [names, images] = containerCells(jobSpec?.template?.spec?.containers);
    const last = cj.status?.lastScheduleTime;
    return [
      nameOf(obj),
      cj.spec?.schedule ?? '',
      cj.spec?.timeZone ?? '<none>',
      boolPtrCell(cj.spec?.suspend),
      Array.isArray(cj.status?.active) ? cj.status.active.length : 0,
      last === undefined || last === null ? '<none>' : since(last, ctx.nowMs),
      age(obj, ctx.nowMs),
      names,
      images,
      selectorCell(jobSpec?.selector),
    ];
  },
};
