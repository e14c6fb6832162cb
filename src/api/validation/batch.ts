// Validation of batch/v1 Jobs and CronJobs (upstream pkg/apis/batch/validation): counts are
// non-negative, the template restarts OnFailure or Never, the (generated) selector matches
// the template, completion mode, and for CronJobs the schedule as robfig/cron's standard
// parser reads it, the concurrency policy and an IANA time zone. On update the selector,
// template, completion mode and failure policy are immutable (the suspended-job exception
// for scheduling directives is not modelled).
import { labelSelectorAsSelector } from '../../machinery/labels/label-selector.js';
import { validateLabelSelector } from '../../machinery/labels/validation.js';
import type { FieldError } from '../../machinery/status-error.js';
import { nameIsDNSSubdomain } from '../../machinery/validation/names.js';
import type { CronJob, CronJobSpec, Job, JobSpec } from '../generated/types/batch-v1.js';
import { immutable, immutableSelector, invalidValue, nonNegative, notSupported, required } from './field.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './object-meta.js';
import { validatePodTemplateSpec } from './pod.js';

const MAX_PARALLELISM_FOR_INDEXED_JOB = 100000;

function validateJobSpecCommon(spec: Partial<JobSpec>, path: string): FieldError[] {
  const errs = nonNegative(spec.parallelism, `${path}.parallelism`);
  errs.push(...nonNegative(spec.completions, `${path}.completions`));
  errs.push(...nonNegative(spec.activeDeadlineSeconds, `${path}.activeDeadlineSeconds`));
  errs.push(...nonNegative(spec.backoffLimit, `${path}.backoffLimit`));
  errs.push(...nonNegative(spec.ttlSecondsAfterFinished, `${path}.ttlSecondsAfterFinished`));
  const mode = spec.completionMode;
  if (mode != null) {
    if (mode !== 'NonIndexed' && mode !== 'Indexed') {
      errs.push(notSupported(`${path}.completionMode`, mode, ['NonIndexed', 'Indexed']));
    }
    if (mode === 'Indexed') {
      if (spec.completions == null)
        errs.push(required(`${path}.completions`, 'when completion mode is Indexed'));
      if (spec.parallelism != null && spec.parallelism > MAX_PARALLELISM_FOR_INDEXED_JOB) {
        errs.push(
          invalidValue(
            `${path}.parallelism`,
            spec.parallelism,
            `must be less than or equal to ${MAX_PARALLELISM_FOR_INDEXED_JOB} when completion mode is Indexed`,
          ),
        );
      }
    }
  }
  const prp = spec.podReplacementPolicy;
  if (prp != null && prp !== 'TerminatingOrFailed' && prp !== 'Failed') {
    errs.push(notSupported(`${path}.podReplacementPolicy`, prp, ['Failed', 'TerminatingOrFailed']));
  }
  errs.push(...validatePodTemplateSpec(spec.template, `${path}.template`));
  const rp = spec.template?.spec?.restartPolicy ?? '';
  const rpPath = `${path}.template.spec.restartPolicy`;
  // Pod defaulting turns an unset policy into Always, so both mean "not chosen".
  if (rp === 'Always' || rp === '') {
    errs.push(required(rpPath, 'valid values: "OnFailure", "Never"'));
  } else if (rp !== 'OnFailure' && rp !== 'Never') {
    errs.push(notSupported(rpPath, rp, ['OnFailure', 'Never']));
  } else if (spec.podFailurePolicy != null && rp !== 'Never') {
    errs.push(invalidValue(rpPath, rp, 'only "Never" is supported when podFailurePolicy is specified'));
  }
  return errs;
}

function validateJobSpec(spec: Partial<JobSpec>, path: string): FieldError[] {
  const errs = validateJobSpecCommon(spec, path);
  if (spec.selector == null) errs.push(required(`${path}.selector`));
  else errs.push(...validateLabelSelector(spec.selector, {}, `${path}.selector`));
  if (spec.selector != null) {
    const labels = spec.template?.metadata?.labels;
    let ok = true;
    try {
      ok = labelSelectorAsSelector(spec.selector).matches(labels ?? {});
    } catch {
      ok = true;
    }
    if (!ok) {
      errs.push(
        invalidValue(
          `${path}.template.metadata.labels`,
          labels ?? {},
          '`selector` does not match template `labels`',
        ),
      );
    }
  }
  return errs;
}

/** ValidateJob (create); the Job strategy generates the selector before this runs. */
export function validateJob(job: Job): FieldError[] {
  const errs = validateObjectMeta(job.metadata, true, nameIsDNSSubdomain);
  errs.push(...validateJobSpec(job.spec ?? {}, 'spec'));
  return errs;
}

/** ValidateJobUpdate. */
export function validateJobUpdate(job: Job, old: Job): FieldError[] {
  const errs = validateObjectMetaUpdate(job.metadata, old.metadata);
  const ns: Partial<JobSpec> = job.spec ?? {};
  const os: Partial<JobSpec> = old.spec ?? {};
  errs.push(...validateJobSpec(ns, 'spec'));
  // Indexed jobs may scale completions together with parallelism (elastic indexed jobs).
  const elastic = ns.completionMode === 'Indexed' && ns.completions === ns.parallelism;
  if (!elastic) errs.push(...immutable(ns.completions, os.completions, 'spec.completions'));
  errs.push(...immutableSelector(ns.selector, os.selector, 'spec.selector'));
  errs.push(...immutable(ns.template, os.template, 'spec.template'));
  errs.push(...immutable(ns.completionMode, os.completionMode, 'spec.completionMode'));
  errs.push(...immutable(ns.podFailurePolicy, os.podFailurePolicy, 'spec.podFailurePolicy'));
  errs.push(...immutable(ns.backoffLimitPerIndex, os.backoffLimitPerIndex, 'spec.backoffLimitPerIndex'));
  errs.push(...immutable(ns.managedBy, os.managedBy, 'spec.managedBy'));
  errs.push(...immutable(ns.successPolicy, os.successPolicy, 'spec.successPolicy'));
  return errs;
}

function validateCronJobSpec(
  spec: Partial<CronJobSpec>,
  old: Partial<CronJobSpec> | undefined,
): FieldError[] {
  const errs: FieldError[] = [];
  const schedule = spec.schedule ?? '';
  if (schedule === '') {
    errs.push(required('spec.schedule'));
  } else {
    const allowTZ = old !== undefined && (old.schedule ?? '').includes('TZ');
    const err = cronScheduleError(schedule);
    if (err !== undefined) errs.push(invalidValue('spec.schedule', schedule, err));
    if (allowTZ && schedule.includes('TZ') && spec.timeZone != null) {
      errs.push(
        invalidValue(
          'spec.schedule',
          schedule,
          'cannot use both timeZone field and TZ or CRON_TZ in schedule',
        ),
      );
    } else if (!allowTZ && schedule.includes('TZ')) {
      errs.push(
        invalidValue(
          'spec.schedule',
          schedule,
          'cannot use TZ or CRON_TZ in schedule, use timeZone field instead',
        ),
      );
    }
  }
  errs.push(...nonNegative(spec.startingDeadlineSeconds, 'spec.startingDeadlineSeconds'));
  if (old === undefined || old.timeZone !== spec.timeZone) errs.push(...validateTimeZone(spec.timeZone));
  const cp = spec.concurrencyPolicy ?? '';
  if (cp === '') errs.push(required('spec.concurrencyPolicy'));
  else if (cp !== 'Allow' && cp !== 'Forbid' && cp !== 'Replace') {
    errs.push(notSupported('spec.concurrencyPolicy', cp, ['Allow', 'Forbid', 'Replace']));
  }
  const jt = spec.jobTemplate;
  errs.push(...validateJobSpecCommon(jt?.spec ?? {}, 'spec.jobTemplate.spec'));
  errs.push(...nonNegative(spec.successfulJobsHistoryLimit, 'spec.successfulJobsHistoryLimit'));
  errs.push(...nonNegative(spec.failedJobsHistoryLimit, 'spec.failedJobsHistoryLimit'));
  return errs;
}

/** ValidateCronJobCreate. */
export function validateCronJob(cj: CronJob): FieldError[] {
  const errs = validateObjectMeta(cj.metadata, true, nameIsDNSSubdomain);
  errs.push(...validateCronJobSpec(cj.spec ?? {}, undefined));
  const name = cj.metadata?.name ?? '';
  // The controller appends an 11-character suffix and Job names must stay within 63.
  if (name.length > 52) errs.push(invalidValue('metadata.name', name, 'must be no more than 52 characters'));
  return errs;
}

/** ValidateCronJobUpdate. */
export function validateCronJobUpdate(cj: CronJob, old: CronJob): FieldError[] {
  const errs = validateObjectMetaUpdate(cj.metadata, old.metadata);
  errs.push(...validateCronJobSpec(cj.spec ?? {}, old.spec ?? {}));
  return errs;
}

const TZ_PART = /^[A-Za-z.\-_0-9+]{1,14}$/;

function validateTimeZone(tz: string | undefined | null): FieldError[] {
  if (tz == null) return [];
  const path = 'spec.timeZone';
  if (tz === '') return [invalidValue(path, tz, 'timeZone must be nil or non-empty string')];
  for (const part of tz.split('/')) {
    if (part === '.' || part === '..' || part.startsWith('-') || !TZ_PART.test(part)) {
      return [invalidValue(path, tz, `unknown time zone ${tz}`)];
    }
  }
  if (tz.toLowerCase() === 'local') {
    return [
      invalidValue(
        path,
        tz,
        'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones',
      ),
    ];
  }
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    return [invalidValue(path, tz, `unknown time zone ${tz}`)];
  }
  return [];
}

interface CronBounds {
  min: number;
  max: number;
  names?: readonly string[];
}

const CRON_FIELDS: readonly CronBounds[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  {
    min: 1,
    max: 12,
    names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'],
  },
  { min: 0, max: 6, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
];

const DESCRIPTORS = new Set([
  '@yearly',
  '@annually',
  '@monthly',
  '@weekly',
  '@daily',
  '@midnight',
  '@hourly',
]);

/** The error robfig/cron's ParseStandard gives for a schedule, or undefined when it parses. */
export function cronScheduleError(spec: string): string | undefined {
  let s = spec.trim();
  if (s.length === 0) return 'empty spec string';
  if (s.startsWith('TZ=') || s.startsWith('CRON_TZ=')) {
    const i = s.indexOf(' ');
    const tz = s.slice(s.indexOf('=') + 1, i < 0 ? undefined : i);
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
    } catch {
      return `provided bad location ${tz}: unknown time zone ${tz}`;
    }
    s = i < 0 ? '' : s.slice(i).trim();
  }
  if (s.startsWith('@')) {
    if (DESCRIPTORS.has(s)) return undefined;
    if (s.startsWith('@every ')) {
      return /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(s.slice(7).trim())
        ? undefined
        : `failed to parse duration ${s}: time: invalid duration "${s.slice(7).trim()}"`;
    }
    return `unrecognized descriptor: ${s}`;
  }
  const fields = s.split(/\s+/).filter((f) => f !== '');
  if (fields.length !== 5) return `expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`;
  for (let i = 0; i < 5; i++) {
    for (const expr of (fields[i] ?? '').split(',')) {
      const err = cronRangeError(expr, CRON_FIELDS[i] as CronBounds);
      if (err !== undefined) return err;
    }
  }
  return undefined;
}

function cronNumber(s: string, b: CronBounds): number | string {
  const named = b.names?.indexOf(s.toLowerCase()) ?? -1;
  if (named >= 0) return named + (b.min === 1 ? 1 : 0);
  if (!/^[+-]?\d+$/.test(s))
    return `failed to parse int from ${s}: strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`;
  const n = Number(s);
  if (n < 0) return `negative number (${n}) not allowed: ${s}`;
  return n;
}

function cronRangeError(expr: string, b: CronBounds): string | undefined {
  const rangeAndStep = expr.split('/');
  const lowAndHigh = (rangeAndStep[0] ?? '').split('-');
  const singleDigit = lowAndHigh.length === 1;
  let start: number;
  let end: number;
  if (lowAndHigh[0] === '*' || lowAndHigh[0] === '?') {
    start = b.min;
    end = b.max;
  } else {
    const lo = cronNumber(lowAndHigh[0] ?? '', b);
    if (typeof lo === 'string') return lo;
    start = lo;
    end = lo;
    if (lowAndHigh.length === 2) {
      const hi = cronNumber(lowAndHigh[1] ?? '', b);
      if (typeof hi === 'string') return hi;
      end = hi;
    } else if (lowAndHigh.length > 2) {
      return `too many hyphens: ${expr}`;
    }
  }
  if (rangeAndStep.length === 2) {
    const step = cronNumber(rangeAndStep[1] ?? '', b);
    if (typeof step === 'string') return step;
    if (singleDigit) end = b.max;
    if (step <= 0) return `step of range should be a positive number: ${expr}`;
  } else if (rangeAndStep.length > 2) {
    return `too many slashes: ${expr}`;
  }
  if (start < b.min) return `beginning of range (${start}) below minimum (${b.min}): ${expr}`;
  if (end > b.max) return `end of range (${end}) above maximum (${b.max}): ${expr}`;
  if (start > end) return `beginning of range (${start}) beyond end of range (${end}): ${expr}`;
  return undefined;
}
