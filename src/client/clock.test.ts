import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RealClock } from './clock.js';

describe('RealClock', () => {
  it('does not fire a wait longer than Node’s timer limit at once', async () => {
    const clock = new RealClock();
    let fired = false;
    const long = clock.setTimeout(() => {
      fired = true;
    }, 30 * 86_400_000);
    await clock.sleep(20);
    assert.equal(fired, false);
    long.cancel();
  });

  it('fires short waits and honours cancel', async () => {
    const clock = new RealClock();
    const seen: string[] = [];
    clock.setTimeout(() => seen.push('a'), 1);
    clock.setTimeout(() => seen.push('b'), 5).cancel();
    await clock.sleep(20);
    assert.deepEqual(seen, ['a']);
  });
});
