import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../testing/fake-clock.js';
import { TokenBucket } from '../token-bucket.js';
import {
  BucketRateLimiter,
  defaultControllerRateLimiter,
  ItemExponentialFailureRateLimiter,
  ItemFastSlowRateLimiter,
  MaxOfRateLimiter,
} from './rate-limiter.js';

describe('rate limiters', () => {
  it('exponential per item: 5ms doubling, capped, independent per item', () => {
    const l = new ItemExponentialFailureRateLimiter<string>(5, 1000 * 1000);
    const got = Array.from({ length: 5 }, () => l.when('a'));
    assert.deepEqual(got, [5, 10, 20, 40, 80]);
    assert.equal(l.when('b'), 5);
    assert.equal(l.numRequeues('a'), 5);
    for (let i = 0; i < 40; i++) l.when('a');
    assert.equal(l.when('a'), 1000 * 1000);
    l.forget('a');
    assert.equal(l.numRequeues('a'), 0);
    assert.equal(l.when('a'), 5);
  });

  it('fast then slow', () => {
    const l = new ItemFastSlowRateLimiter<string>(5, 10_000, 2);
    assert.deepEqual([l.when('a'), l.when('a'), l.when('a')], [5, 5, 10_000]);
  });

  it('bucket: burst free, then 1/qps apart; refills with time', () => {
    const clock = new FakeClock();
    const l = new BucketRateLimiter<string>(new TokenBucket(10, 3, clock));
    assert.deepEqual([l.when('a'), l.when('b'), l.when('c')], [0, 0, 0]);
    assert.equal(l.when('d'), 100);
    assert.equal(l.when('e'), 200);
    clock.step(1000);
    assert.equal(l.when('f'), 0);
  });

  it('max-of and the default controller limiter', () => {
    const clock = new FakeClock();
    const m = new MaxOfRateLimiter<string>(
      new ItemExponentialFailureRateLimiter(5, 1000),
      new ItemFastSlowRateLimiter(50, 60, 1),
    );
    assert.equal(m.when('a'), 50);
    assert.equal(m.when('a'), 60);
    assert.equal(m.numRequeues('a'), 2);
    m.forget('a');
    assert.equal(m.numRequeues('a'), 0);

    const d = defaultControllerRateLimiter<string>(clock);
    // 100 burst tokens: the first 100 distinct items get only their per-item 5ms.
    for (let i = 0; i < 100; i++) assert.equal(d.when(`k${i}`), 5);
    // Then the overall 10 qps bucket dominates.
    assert.equal(d.when('k100'), 100);
  });

  it('token bucket wait honours abort', async () => {
    const clock = new FakeClock();
    const b = new TokenBucket(1, 1, clock);
    await b.wait();
    const ac = new AbortController();
    const p = b.wait(ac.signal);
    ac.abort();
    await assert.rejects(p);
    assert.equal(b.tryAccept(), false);
    clock.step(1000);
    assert.equal(b.tryAccept(), true);
  });
});
