import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConfigMap } from '../../api/generated/types/core-v1.js';
import { resourceExpired } from '../../machinery/status-error.js';
import { CONFIGMAPS } from '../resources.js';
import { FakeClient } from '../testing/fake-client.js';
import { Reflector, type ReflectorSink } from './reflector.js';

class RecordingSink implements ReflectorSink<ConfigMap> {
  log: string[] = [];
  replace(items: ConfigMap[], rv: string): void {
    this.log.push(`replace(${items.map((i) => i.metadata?.name).join(',')})@${rv}`);
  }
  add(o: ConfigMap): void {
    this.log.push(`add ${o.metadata?.name}`);
  }
  update(o: ConfigMap): void {
    this.log.push(`update ${o.metadata?.name}`);
  }
  delete(o: ConfigMap): void {
    this.log.push(`delete ${o.metadata?.name}`);
  }
}

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
}

const cm = (name: string, ns = 'default'): ConfigMap => ({
  metadata: { name, namespace: ns },
  data: { v: name },
});
const fastBackoff = { initialMs: 1, maxMs: 5 };

describe('Reflector', () => {
  it('lists in pages, then streams watch events in order', async () => {
    const fake = new FakeClient();
    const client = fake.resource(CONFIGMAPS);
    for (const n of ['a', 'b', 'c']) await client.create('default', cm(n));
    const sink = new RecordingSink();
    const r = new Reflector(client, sink, { pageSize: 2, backoff: fastBackoff });
    const ac = new AbortController();
    const run = r.run(ac.signal);
    await until(() => sink.log.length === 1);
    assert.equal(sink.log[0], 'replace(a,b,c)@3');
    const lists = fake.actions().filter((a) => a.verb === 'list');
    assert.equal(lists.length, 2, 'two pages');
    await until(() => fake.tracker.watcherCount(CONFIGMAPS) === 1);
    await client.create('default', cm('d'));
    const d = await client.get('default', 'd');
    await client.update('default', { ...d, data: { v: 'x' } });
    await client.delete('default', 'a');
    await until(() => sink.log.length === 4);
    assert.deepEqual(sink.log.slice(1), ['add d', 'update d', 'delete a']);
    assert.equal(r.lastSyncResourceVersion(), String(fake.tracker.currentRV()));
    ac.abort();
    await run;
  });

  it('relists after a 410 Expired watch error and resumes', async () => {
    const fake = new FakeClient();
    const client = fake.resource(CONFIGMAPS);
    await client.create('default', cm('a'));
    const sink = new RecordingSink();
    const r = new Reflector(client, sink, { backoff: fastBackoff });
    const ac = new AbortController();
    const run = r.run(ac.signal);
    await until(() => fake.tracker.watcherCount(CONFIGMAPS) === 1);
    // History is gone and the open watch is told so: the reflector must relist.
    await client.create('default', cm('b'));
    await until(() => sink.log.includes('add b'));
    fake.tracker.compact();
    fake.tracker.expireWatches();
    await until(() => r.lists() === 2);
    const relist = fake
      .actions()
      .filter((a) => a.verb === 'list')
      .at(-1);
    assert.equal(
      (relist?.options as { resourceVersion?: string } | undefined)?.resourceVersion,
      '',
      'consistent relist',
    );
    assert.equal(sink.log.at(-1), 'replace(a,b)@2');
    await until(() => fake.tracker.watcherCount(CONFIGMAPS) === 1);
    await client.create('default', cm('c'));
    await until(() => sink.log.at(-1) === 'add c');
    ac.abort();
    await run;
  });

  it('retries a list that fails with 410 as a consistent list and backs off on other errors', async () => {
    const fake = new FakeClient();
    const client = fake.resource(CONFIGMAPS);
    let failures = 0;
    fake.prependReactor('list', 'configmaps', (a) => {
      const rv = (a.options as { resourceVersion?: string }).resourceVersion;
      if (failures++ === 0) throw new Error('connection refused');
      if (rv === '0') throw resourceExpired('too old resource version: 0 (5)');
      return undefined;
    });
    const sink = new RecordingSink();
    const r = new Reflector(client, sink, { backoff: fastBackoff });
    const ac = new AbortController();
    const run = r.run(ac.signal);
    await until(() => sink.log.length === 1);
    const rvs = fake
      .actions()
      .filter((a) => a.verb === 'list')
      .map((a) => (a.options as { resourceVersion?: string }).resourceVersion);
    assert.deepEqual(rvs, ['0', '0', '']);
    ac.abort();
    await run;
  });

  it('bookmarks advance the resourceVersion without events', async () => {
    const fake = new FakeClient();
    const client = fake.resource(CONFIGMAPS);
    let watches = 0;
    fake.prependWatchReactor('configmaps', () => {
      watches++;
      if (watches > 1) return undefined;
      return (async function* () {
        yield { type: 'BOOKMARK' as const, object: { metadata: { resourceVersion: '42' } } };
      })();
    });
    const sink = new RecordingSink();
    const r = new Reflector(client, sink, { backoff: fastBackoff });
    const ac = new AbortController();
    const run = r.run(ac.signal);
    await until(() => watches >= 2);
    assert.equal(r.lastSyncResourceVersion(), '42');
    const w = fake.actions().filter((a) => a.verb === 'watch');
    assert.equal((w[1]?.options as { resourceVersion?: string } | undefined)?.resourceVersion, '42');
    assert.equal((w[0]?.options as { allowWatchBookmarks?: boolean } | undefined)?.allowWatchBookmarks, true);
    assert.deepEqual(sink.log, ['replace()@0']);
    ac.abort();
    await run;
  });
});
