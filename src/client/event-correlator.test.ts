import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Event } from '../api/generated/types/core-v1.js';
import { EVENT_WINDOW_MS, EventCorrelator, MAX_SIMILAR_EVENTS, SPAM_BURST } from './event-correlator.js';
import { FakeClock } from './testing/fake-clock.js';

let n = 0;
const ev = (name: string, reason: string, message: string, uid = 'u1'): Event => ({
  metadata: { name: `${name}.${n++}`, namespace: 'default' },
  involvedObject: { kind: 'Pod', namespace: 'default', name, uid, apiVersion: 'v1' },
  reason,
  message,
  type: 'Normal',
  source: { component: 'test' },
  count: 1,
});

describe('EventCorrelator', () => {
  it('counts identical events within the window', () => {
    const clock = new FakeClock();
    const c = new EventCorrelator(clock, (b) => `${b}.agg`);
    const first = c.correlate(ev('p', 'Started', 'hi'));
    assert.equal(first.patch, undefined);
    c.written({ ...first.event, metadata: { ...first.event.metadata, resourceVersion: '7' } }, first.key);
    const second = c.correlate(ev('p', 'Started', 'hi'));
    assert.deepEqual(second.patch?.count, 2);
    assert.equal(second.event.metadata.name, first.event.metadata.name);
    assert.equal(second.event.metadata.resourceVersion, '7');
    clock.step(EVENT_WINDOW_MS + 1);
    assert.equal(c.correlate(ev('p', 'Started', 'hi')).patch, undefined, 'a new Event after the window');
  });

  it('aggregates similar events from the 10th distinct message', () => {
    const c = new EventCorrelator(new FakeClock(), (b) => `${b}.agg`);
    const results = Array.from({ length: MAX_SIMILAR_EVENTS + 1 }, (_, i) =>
      c.correlate(ev('q', 'Failed', `m${i}`, 'u2')),
    );
    assert.equal(results[MAX_SIMILAR_EVENTS - 2]?.event.message, 'm8');
    const tenth = results[MAX_SIMILAR_EVENTS - 1];
    assert.equal(tenth?.event.message, '(combined from similar events): m9');
    assert.equal(tenth?.patch, undefined);
    const eleventh = results[MAX_SIMILAR_EVENTS];
    assert.equal(eleventh?.event.message, '(combined from similar events): m10');
    assert.equal(eleventh?.patch?.count, 2);
  });

  it('drops spam beyond the per-object burst', () => {
    const c = new EventCorrelator(new FakeClock(), (b) => b);
    const skipped = Array.from(
      { length: SPAM_BURST + 2 },
      (_, i) => c.correlate(ev('s', `R${i}`, 'x', 'u3')).skip,
    );
    assert.equal(skipped.filter((s) => s).length, 2);
  });
});
