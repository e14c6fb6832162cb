import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConfigMap } from '../../api/generated/types/core-v1.js';
import { CONFIGMAPS } from '../resources.js';
import { FakeClient } from '../testing/fake-client.js';
import { FakeClock } from '../testing/fake-clock.js';
import { SharedInformerFactory } from './informer-factory.js';
import { type ResourceEventHandler, SharedIndexInformer } from './shared-informer.js';
import { DeletedFinalStateUnknown } from './store.js';

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
}

const cm = (name: string, v = name): ConfigMap => ({ metadata: { name, namespace: 'default' }, data: { v } });

function recorder(log: string[], tag = ''): ResourceEventHandler<ConfigMap> {
  return {
    onAdd: (o, initial) => log.push(`${tag}add ${o.metadata?.name}${initial ? ' (initial)' : ''}`),
    onUpdate: (a, b) => log.push(`${tag}update ${a.data?.v}->${b.data?.v}`),
    onDelete: (o) =>
      log.push(
        o instanceof DeletedFinalStateUnknown
          ? `${tag}tombstone ${o.key}`
          : `${tag}delete ${o.metadata?.name}`,
      ),
  };
}

describe('SharedIndexInformer', () => {
  it('delivers adds, updates and deletes after the cache is updated', async () => {
    const fake = new FakeClient();
    const client = fake.resource(CONFIGMAPS);
    await client.create('default', cm('a'));
    const inf = new SharedIndexInformer(client, { backoff: { initialMs: 1, maxMs: 5 } });
    const log: string[] = [];
    const reg = inf.addEventHandler({
      ...recorder(log),
      onUpdate: (a, b) => {
        // The cache already holds the new object when a handler runs.
        assert.equal(inf.getIndexer().getByKey('default/b')?.data?.v, b.data?.v);
        log.push(`update ${a.data?.v}->${b.data?.v}`);
      },
    });
    const ac = new AbortController();
    const run = inf.run(ac.signal);
    assert.equal(await inf.waitForSync(ac.signal), true);
    assert.equal(inf.hasSynced(), true);
    assert.equal(reg.hasSynced(), true);
    await until(() => fake.tracker.watcherCount(CONFIGMAPS) === 1);
    await client.create('default', cm('b'));
    await client.patch('default', 'b', 'merge', { data: { v: 'b2' } });
    await client.delete('default', 'a');
    await until(() => log.length === 4);
    assert.deepEqual(log, ['add a (initial)', 'add b', 'update b->b2', 'delete a']);
    ac.abort();
    await run;
    assert.equal(inf.isStopped(), true);
  });

  it('turns deletions missed during a broken watch into tombstones on relist', async () => {
    const fake = new FakeClient();
    const client = fake.resource(CONFIGMAPS);
    await client.create('default', cm('a'));
    await client.create('default', cm('b'));
    const inf = new SharedIndexInformer(client, { backoff: { initialMs: 1, maxMs: 5 } });
    const log: string[] = [];
    inf.addEventHandler(recorder(log));
    const ac = new AbortController();
    const run = inf.run(ac.signal);
    await until(() => fake.tracker.watcherCount(CONFIGMAPS) === 1);
    // Make the watch miss the deletion: block watches, delete, then expire the open one.
    let blocked = true;
    fake.prependWatchReactor('configmaps', () =>
      blocked
        ? (async function* () {
            await new Promise((r) => setTimeout(r, 5));
          })()
        : undefined,
    );
    fake.tracker.expireWatches();
    await until(() => inf.getReflector().lists() === 2);
    const before = log.length;
    blocked = false;
    await client.delete('default', 'a');
    fake.tracker.compact();
    fake.tracker.expireWatches();
    await until(() => log.includes('tombstone default/a'));
    assert.ok(log.slice(before).includes('update b->b'), 'a relist reports survivors as updates');
    assert.equal(inf.getIndexer().getByKey('default/a'), undefined);
    ac.abort();
    await run;
  });

  it('replays the cache to late handlers and resyncs on the clock', async () => {
    const fake = new FakeClient();
    const client = fake.resource(CONFIGMAPS);
    await client.create('default', cm('a'));
    const clock = new FakeClock();
    const inf = new SharedIndexInformer(client, { clock, backoff: { initialMs: 1, maxMs: 5 } });
    const ac = new AbortController();
    const run = inf.run(ac.signal);
    await inf.waitForSync();
    const log: string[] = [];
    const reg = inf.addEventHandler(recorder(log, 'late:'), 30_000);
    assert.deepEqual(log, ['late:add a (initial)']);
    assert.equal(reg.hasSynced(), true);
    clock.step(30_000);
    assert.deepEqual(log, ['late:add a (initial)', 'late:update a->a']);
    reg.remove();
    clock.step(30_000);
    assert.equal(log.length, 2);
    ac.abort();
    await run;
  });

  it('isolates a throwing handler', async () => {
    const fake = new FakeClient();
    const client = fake.resource(CONFIGMAPS);
    await client.create('default', cm('a'));
    const inf = new SharedIndexInformer(client);
    const log: string[] = [];
    inf.addEventHandler({
      onAdd: () => {
        throw new Error('boom');
      },
    });
    inf.addEventHandler(recorder(log));
    const ac = new AbortController();
    const run = inf.run(ac.signal);
    await inf.waitForSync();
    assert.deepEqual(log, ['add a (initial)']);
    ac.abort();
    await run;
  });
});

describe('SharedInformerFactory', () => {
  it('shares one informer per resource and waits for sync', async () => {
    const fake = new FakeClient();
    await fake.resource(CONFIGMAPS).create('default', cm('a'));
    const f = new SharedInformerFactory(fake);
    const h1 = f.forResource(CONFIGMAPS);
    const h2 = f.forResource(CONFIGMAPS, { byValue: (o) => [o.data?.v ?? ''] });
    assert.equal(h1.informer, h2.informer);
    const ac = new AbortController();
    f.start(ac.signal);
    f.start(ac.signal);
    assert.deepEqual(await f.waitForCacheSync(), { '/v1/configmaps': true });
    assert.equal(fake.actions().filter((a) => a.verb === 'list').length, 1);
    assert.equal(h2.lister.byIndex('byValue', 'a').length, 1);
    assert.equal(h1.lister.namespace('default').get('a').data?.v, 'a');
    ac.abort();
    await f.shutdown();
  });
});
