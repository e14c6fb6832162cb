import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../client/testing/fake-clock.js';
import { ObjectCache, Semaphore } from './object-cache.js';

describe('ObjectCache', () => {
  const counting = (values: Map<string, string>) => {
    const calls: string[] = [];
    const fetch = async (ns: string, name: string): Promise<string | undefined> => {
      calls.push(`${ns}/${name}`);
      await new Promise((r) => setImmediate(r));
      return values.get(`${ns}/${name}`);
    };
    return { calls, fetch };
  };

  it('shares one fetch between concurrent reads and serves fresh entries from the cache', async () => {
    const clock = new FakeClock();
    const { calls, fetch } = counting(new Map([['ns/a', 'A1']]));
    const cache = new ObjectCache(fetch, clock, 1000);
    const got = await Promise.all(Array.from({ length: 10 }, () => cache.get('ns', 'a')));
    assert.deepEqual(new Set(got), new Set(['A1']));
    assert.equal(calls.length, 1);
    clock.step(999);
    assert.equal(await cache.get('ns', 'a'), 'A1');
    assert.equal(calls.length, 1);
  });

  it('fetches again once an entry is older than the TTL', async () => {
    const clock = new FakeClock();
    const values = new Map([['ns/a', 'A1']]);
    const { calls, fetch } = counting(values);
    const cache = new ObjectCache(fetch, clock, 1000);
    assert.equal(await cache.get('ns', 'a'), 'A1');
    values.set('ns/a', 'A2');
    clock.step(1000);
    assert.equal(await cache.get('ns', 'a'), 'A2');
    assert.equal(calls.length, 2);
  });

  it('never caches a missing object, and clear drops a namespace', async () => {
    const clock = new FakeClock();
    const values = new Map<string, string>();
    const { calls, fetch } = counting(values);
    const cache = new ObjectCache(fetch, clock, 60_000);
    assert.equal(await cache.get('ns', 'b'), undefined);
    values.set('ns/b', 'B');
    assert.equal(await cache.get('ns', 'b'), 'B');
    values.set('ns/b', 'B2');
    cache.clear('ns');
    assert.equal(await cache.get('ns', 'b'), 'B2');
    assert.equal(calls.length, 3);
  });

  it('does not cache a failed fetch', async () => {
    let fail = true;
    const cache = new ObjectCache(async () => {
      if (fail) throw new Error('boom');
      return 'ok';
    }, new FakeClock());
    await assert.rejects(cache.get('ns', 'x'), /boom/);
    fail = false;
    assert.equal(await cache.get('ns', 'x'), 'ok');
  });
});

describe('Semaphore', () => {
  it('runs at most `limit` at once, in order, and frees slots on failure', async () => {
    const sem = new Semaphore(2);
    let active = 0;
    let peak = 0;
    const order: number[] = [];
    const task = (i: number) =>
      sem.run(async () => {
        active++;
        peak = Math.max(peak, active);
        order.push(i);
        await new Promise((r) => setTimeout(r, 5));
        active--;
        if (i === 1) throw new Error('task failed');
        return i;
      });
    const results = await Promise.allSettled([0, 1, 2, 3, 4, 5].map(task));
    assert.equal(peak, 2);
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5]);
    assert.equal(results[1]?.status, 'rejected');
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 5);
    assert.equal(await sem.run(async () => 'free'), 'free');
  });

  it('says when it is idle: at once, when the last holder leaves, or after the bound', async () => {
    const sem = new Semaphore(1);
    await sem.idle(10_000);
    let release: () => void = () => {};
    const held = sem.run(() => new Promise<void>((r) => (release = r)));
    const queued = sem.run(async () => {});
    let idle = false;
    const waiting = sem.idle(10_000).then(() => (idle = true));
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(idle, false);
    release();
    await Promise.all([held, queued, waiting]);
    assert.equal(idle, true);
    const start = Date.now();
    const stuck = sem.run(() => new Promise<void>((r) => setTimeout(r, 200)));
    await sem.idle(20);
    assert.ok(Date.now() - start < 150, 'the bound ends the wait');
    await stuck;
  });
});
