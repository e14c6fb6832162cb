import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CronJob } from '../../api/generated/types/batch-v1.js';
import { jobNameFor, mostRecentScheduleTime } from './controller.js';
import { parseSchedule } from './schedule.js';

const T = (s: string): number => Date.parse(s);

describe('parseSchedule', () => {
  const cases: Array<[string, string, string, string?]> = [
    ['*/5 * * * *', '2024-01-02T03:04:05Z', '2024-01-02T03:05:00Z'],
    ['0 * * * *', '2024-01-02T03:04:05Z', '2024-01-02T04:00:00Z'],
    ['@hourly', '2024-01-02T03:00:00Z', '2024-01-02T04:00:00Z'],
    ['@daily', '2024-01-02T03:00:00Z', '2024-01-03T00:00:00Z'],
    ['@midnight', '2024-01-02T03:00:00Z', '2024-01-03T00:00:00Z'],
    ['@weekly', '2024-01-02T03:00:00Z', '2024-01-07T00:00:00Z'],
    ['@monthly', '2024-01-02T03:00:00Z', '2024-02-01T00:00:00Z'],
    ['@yearly', '2024-01-02T03:00:00Z', '2025-01-01T00:00:00Z'],
    ['@annually', '2024-01-02T03:00:00Z', '2025-01-01T00:00:00Z'],
    ['30 9 * JAN-MAR MON-FRI', '2024-01-05T10:00:00Z', '2024-01-08T09:30:00Z'],
    ['0 0 1,15 * *', '2024-01-02T00:00:00Z', '2024-01-15T00:00:00Z'],
    ['0 12 * * sun', '2024-01-02T00:00:00Z', '2024-01-07T12:00:00Z'],
    ['10-20/5 * * * *', '2024-01-02T03:16:00Z', '2024-01-02T03:20:00Z'],
    ['5/20 * * * *', '2024-01-02T03:26:00Z', '2024-01-02T03:45:00Z'],
    ['0 0 29 2 *', '2024-03-01T00:00:00Z', '2028-02-29T00:00:00Z'],
    // Both day fields restricted: either matches (the 13th or any Friday).
    ['0 0 13 * 5', '2024-01-02T00:00:00Z', '2024-01-05T00:00:00Z'],
    ['0 9 * * *', '2024-01-02T00:00:00Z', '2024-01-02T08:00:00Z', 'Europe/Berlin'],
    ['TZ=America/New_York 0 9 * * *', '2024-07-02T00:00:00Z', '2024-07-02T13:00:00Z'],
  ];
  for (const [spec, after, want, tz] of cases) {
    it(`${spec}${tz ? ` (${tz})` : ''} after ${after}`, () => {
      assert.equal(
        new Date(parseSchedule(spec, tz).next(T(after)) ?? 0).toISOString(),
        new Date(T(want)).toISOString(),
      );
    });
  }

  const bad: Array<[string, RegExp]> = [
    ['* * * *', /expected exactly 5 fields, found 4/],
    ['60 * * * *', /above maximum/],
    ['*/0 * * * *', /positive number/],
    ['@every', /unrecognized descriptor/],
    ['* * * FOO *', /failed to parse int from FOO/],
    ['5-1 * * * *', /beyond end of range/],
  ];
  for (const [spec, re] of bad) it(`rejects ${spec}`, () => assert.throws(() => parseSchedule(spec), re));
  it('rejects an unknown time zone', () =>
    assert.throws(() => parseSchedule('* * * * *', 'Mars/Olympus'), /unknown time zone/));
});

describe('mostRecentScheduleTime', () => {
  const cj = (created: string, last?: string, sds?: number): CronJob => ({
    metadata: { name: 'c', creationTimestamp: created },
    spec: {
      schedule: '*/1 * * * *',
      jobTemplate: {},
      ...(sds !== undefined ? { startingDeadlineSeconds: sds } : {}),
    },
    ...(last !== undefined ? { status: { lastScheduleTime: last } } : {}),
  });
  const sched = parseSchedule('*/1 * * * *');
  it('none before the first time', () => {
    assert.equal(
      mostRecentScheduleTime(cj('2024-01-02T03:04:05Z'), T('2024-01-02T03:04:30Z'), sched).scheduled,
      undefined,
    );
  });
  it('the latest of several missed times', () => {
    const r = mostRecentScheduleTime(cj('2024-01-02T03:04:05Z'), T('2024-01-02T03:07:30Z'), sched);
    assert.equal(r.scheduled, T('2024-01-02T03:07:00Z'));
    assert.equal(r.manyMissed, false);
  });
  it('flags more than 100 missed times', () => {
    const r = mostRecentScheduleTime(cj('2024-01-02T00:00:00Z'), T('2024-01-03T00:00:30Z'), sched);
    assert.equal(r.scheduled, T('2024-01-03T00:00:00Z'));
    assert.equal(r.manyMissed, true);
  });
  it('startingDeadlineSeconds bounds the search', () => {
    const r = mostRecentScheduleTime(
      cj('2024-01-02T00:00:00Z', undefined, 90),
      T('2024-01-03T00:00:30Z'),
      sched,
    );
    assert.equal(r.manyMissed, false);
    assert.equal(r.scheduled, T('2024-01-03T00:00:00Z'));
  });
  it('names jobs by scheduled minutes', () => {
    assert.equal(
      jobNameFor(cj('2024-01-02T00:00:00Z'), T('2024-01-02T03:07:00Z')),
      `c-${T('2024-01-02T03:07:00Z') / 60000}`,
    );
  });
});
