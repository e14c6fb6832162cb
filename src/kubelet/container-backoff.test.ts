import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ContainerBackoff, crashLoopMessage } from './container-backoff.js';

function clockAt(start: number): { now(): number; t: number } & { setTimeout: never; sleep: never } {
  const c = { t: start, now: () => c.t } as { now(): number; t: number } & {
    setTimeout: never;
    sleep: never;
  };
  return c;
}

describe('ContainerBackoff', () => {
  it('is immediate first, then 10s doubling to 5m, and forgets after 10m', () => {
    const clock = clockAt(1_000_000);
    const b = new ContainerBackoff(clock);
    assert.equal(b.isInBackOffSince('k', clock.t), false);
    const seen: number[] = [];
    for (let i = 0; i < 7; i++) {
      b.next('k', clock.t);
      seen.push(b.get('k'));
    }
    assert.deepEqual(seen, [10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
    assert.equal(b.isInBackOffSince('k', clock.t - 1000), true);
    clock.t += 601_000;
    assert.equal(b.isInBackOffSince('k', clock.t), false);
    b.next('k', clock.t);
    assert.equal(b.get('k'), 10_000);
  });

  it('formats the CrashLoopBackOff message as upstream', () => {
    assert.equal(
      crashLoopMessage(160_000, 'c', 'p', 'ns', 'u'),
      'back-off 2m40s restarting failed container=c pod=p_ns(u)',
    );
  });
});
