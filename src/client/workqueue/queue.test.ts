import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock, flushMicrotasks } from '../testing/fake-clock.js';
import { DelayingQueue } from './delaying-queue.js';
import { Queue } from './queue.js';
import { ItemExponentialFailureRateLimiter } from './rate-limiter.js';
import { RateLimitingQueue } from './rate-limiting-queue.js';

// Steps: add X | get (expects X) | done X | len N
type Step = ['add', string] | ['get', string] | ['done', string] | ['len', number];

const cases: Array<{ name: string; steps: Step[] }> = [
  {
    name: 'FIFO order',
    steps: [
      ['add', 'a'],
      ['add', 'b'],
      ['add', 'c'],
      ['get', 'a'],
      ['get', 'b'],
      ['get', 'c'],
      ['len', 0],
    ],
  },
  {
    name: 'duplicate adds before processing collapse',
    steps: [
      ['add', 'a'],
      ['add', 'b'],
      ['add', 'a'],
      ['len', 2],
      ['get', 'a'],
      ['get', 'b'],
      ['len', 0],
    ],
  },
  {
    name: 're-add while processing is held until done',
    steps: [
      ['add', 'a'],
      ['get', 'a'],
      ['add', 'a'],
      ['len', 0],
      ['done', 'a'],
      ['len', 1],
      ['get', 'a'],
    ],
  },
  {
    name: 'many re-adds while processing requeue once',
    steps: [
      ['add', 'a'],
      ['get', 'a'],
      ['add', 'a'],
      ['add', 'a'],
      ['add', 'b'],
      ['done', 'a'],
      ['len', 2],
      ['get', 'b'],
      ['get', 'a'],
    ],
  },
  {
    name: 'done without re-add drops the item',
    steps: [
      ['add', 'a'],
      ['get', 'a'],
      ['done', 'a'],
      ['len', 0],
    ],
  },
];

describe('Queue contract', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const q = new Queue<string>();
      for (const s of c.steps) {
        if (s[0] === 'add') q.add(s[1]);
        else if (s[0] === 'done') q.done(s[1]);
        else if (s[0] === 'len') assert.equal(q.len(), s[1]);
        else {
          const r = await q.get();
          assert.equal(r.shutdown, false);
          assert.equal(r.item, s[1]);
        }
      }
    });
  }

  it('never hands one item to two workers', async () => {
    const q = new Queue<string>();
    const w1 = q.get();
    const w2 = q.get();
    q.add('a');
    q.add('a');
    assert.deepEqual(await w1, { item: 'a', shutdown: false });
    let w2done = false;
    void w2.then(() => {
      w2done = true;
    });
    await flushMicrotasks();
    assert.equal(w2done, false, 'second worker must wait while a is processing');
    q.done('a');
    assert.deepEqual(await w2, { item: 'a', shutdown: false });
  });

  it('waiting getters are served in order', async () => {
    const q = new Queue<string>();
    const got: string[] = [];
    const ws = [q.get(), q.get()].map((p, i) => p.then((r) => got.push(`${i}:${r.item}`)));
    q.add('x');
    q.add('y');
    await Promise.all(ws);
    assert.deepEqual(got, ['0:x', '1:y']);
  });

  it('shutDown wakes getters, drains queued items first, ignores adds', async () => {
    const q = new Queue<string>();
    q.add('a');
    q.shutDown();
    q.add('b');
    assert.deepEqual(await q.get(), { item: 'a', shutdown: false });
    assert.equal((await q.get()).shutdown, true);
    const q2 = new Queue<string>();
    const w = q2.get();
    q2.shutDown();
    assert.equal((await w).shutdown, true);
    assert.equal(q2.shuttingDown(), true);
  });

  it('shutDownWithDrain waits for processing items', async () => {
    const q = new Queue<string>();
    q.add('a');
    await q.get();
    let drained = false;
    const p = q.shutDownWithDrain().then(() => {
      drained = true;
    });
    await flushMicrotasks();
    assert.equal(drained, false);
    q.done('a');
    await p;
    assert.equal(drained, true);
    assert.equal(await Promise.race([new Queue<string>().shutDownWithDrain().then(() => 'ok')]), 'ok');
  });
});

describe('DelayingQueue', () => {
  it('adds after the delay, earliest first, keeping the earlier time for duplicates', async () => {
    const clock = new FakeClock();
    const q = new DelayingQueue<string>(clock);
    q.addAfter('slow', 1000);
    q.addAfter('fast', 100);
    q.addAfter('fast', 500); // later time ignored
    q.addAfter('now', 0);
    assert.equal(q.len(), 1);
    clock.step(99);
    assert.equal(q.len(), 1);
    clock.step(1);
    assert.equal(q.len(), 2);
    assert.equal((await q.get()).item, 'now');
    assert.equal((await q.get()).item, 'fast');
    q.addAfter('slow', 50); // earlier than the pending 1000 ms
    clock.step(50);
    assert.equal((await q.get()).item, 'slow');
    assert.equal(q.waitingLen(), 0);
  });

  it('shutDown cancels waiting items', () => {
    const clock = new FakeClock();
    const q = new DelayingQueue<string>(clock);
    q.addAfter('a', 10);
    q.shutDown();
    clock.step(20);
    assert.equal(q.len(), 0);
    assert.equal(clock.waiters(), 0);
  });
});

describe('RateLimitingQueue', () => {
  it('backs off per item and forgets', async () => {
    const clock = new FakeClock();
    const q = new RateLimitingQueue<string>({
      clock,
      rateLimiter: new ItemExponentialFailureRateLimiter(5, 1000),
    });
    q.addRateLimited('a'); // 5ms
    assert.equal(q.numRequeues('a'), 1);
    clock.step(4);
    assert.equal(q.len(), 0);
    clock.step(1);
    assert.equal(q.len(), 1);
    assert.equal((await q.get()).item, 'a');
    q.done('a');
    q.addRateLimited('a'); // 10ms
    clock.step(9);
    assert.equal(q.len(), 0);
    clock.step(1);
    assert.equal(q.len(), 1);
    q.forget('a');
    assert.equal(q.numRequeues('a'), 0);
  });
});
