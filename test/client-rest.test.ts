// The client library against a real in-process API server: verbs and errors, paging,
// informers over list+watch, a watch resumed after a forced 410, and sync speed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConfigMap, Pod } from '../src/api/generated/types/core-v1.js';
import { SharedIndexInformer } from '../src/client/cache/shared-informer.js';
import { DeletedFinalStateUnknown } from '../src/client/cache/store.js';
import type { ListOptions, ResourceClient, WatchEvent } from '../src/client/interface.js';
import { loadKubeconfig } from '../src/client/kubeconfig.js';
import { CONFIGMAPS, PODS } from '../src/client/resources.js';
import { RestClient } from '../src/client/rest-client.js';
import {
  isAlreadyExists,
  isConflict,
  isInvalid,
  isNotFound,
  isResourceExpired,
} from '../src/machinery/status-error.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';

let srv: TestApiServer;
let client: RestClient;
let cms: ResourceClient<ConfigMap>;

before(async () => {
  srv = await startTestApiServer('memory://');
  client = new RestClient({ ...loadKubeconfig(srv.server.kubeconfigPath), qps: 0 });
  cms = client.resource(CONFIGMAPS);
});
after(async () => {
  client.close();
  await srv.stop();
});

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const cm = (name: string, ns: string, v = name): ConfigMap => ({
  metadata: { name, namespace: ns },
  data: { v },
});

async function namespace(name: string): Promise<void> {
  await client
    .resource({ group: '', version: 'v1', resource: 'namespaces' })
    .create('', { metadata: { name } });
}

describe('REST client', () => {
  it('does CRUD and decodes Status errors', async () => {
    await namespace('crud');
    const created = await cms.create('crud', cm('a', 'crud'));
    assert.equal(created.metadata?.namespace, 'crud');
    await assert.rejects(cms.create('crud', cm('a', 'crud')), (e) => isAlreadyExists(e));
    await assert.rejects(
      cms.get('crud', 'missing'),
      (e: Error) => isNotFound(e) && e.message === 'configmaps "missing" not found',
    );
    const stale = { ...created, data: { v: 'x' } };
    await cms.update('crud', stale);
    await assert.rejects(cms.update('crud', stale), (e) => isConflict(e));
    await assert.rejects(cms.create('crud', { metadata: { name: 'Bad_Name' } }), (e) => isInvalid(e));
    const merged = await cms.patch('crud', 'a', 'merge', { data: { m: '1' } });
    assert.deepEqual(merged.data, { v: 'x', m: '1' });
    const json = await cms.patch('crud', 'a', 'json', [{ op: 'remove', path: '/data/m' }]);
    assert.deepEqual(json.data, { v: 'x' });
    const smp = await cms.patch('crud', 'a', 'strategic', { metadata: { labels: { l: '1' } } });
    assert.equal(smp.metadata?.labels?.l, '1');
    const applied = await cms.patch(
      'crud',
      'b',
      'apply',
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b' }, data: { k: 'v' } },
      { fieldManager: 'test', force: true },
    );
    assert.deepEqual(applied.data, { k: 'v' });
    const dry = await cms.create('crud', cm('c', 'crud'), { dryRun: true });
    assert.equal(dry.metadata?.name, 'c');
    await assert.rejects(cms.get('crud', 'c'), (e) => isNotFound(e));
    await cms.delete('crud', 'a');
    await cms.deleteCollection('crud', {});
    assert.equal((await cms.list('crud')).items.length, 0);
  });

  it('pages lists with limit and continue', async () => {
    await namespace('paging');
    await Promise.all(Array.from({ length: 7 }, (_, i) => cms.create('paging', cm(`p${i}`, 'paging'))));
    const names: string[] = [];
    let opts: ListOptions = { limit: 3 };
    let pages = 0;
    for (;;) {
      const page = await cms.list('paging', opts);
      pages++;
      names.push(...page.items.map((i) => i.metadata?.name ?? ''));
      if (!page.metadata.continue) break;
      opts = { limit: 3, continue: page.metadata.continue };
    }
    assert.equal(pages, 3);
    assert.deepEqual(names.sort(), ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6']);
  });

  it('an informer sees adds, updates and deletes in order', async () => {
    await namespace('watch');
    await cms.create('watch', cm('pre', 'watch'));
    const inf = new SharedIndexInformer(cms, { namespace: 'watch' });
    const log: string[] = [];
    inf.addEventHandler({
      onAdd: (o, initial) => log.push(`add ${o.metadata?.name}${initial ? ' initial' : ''}`),
      onUpdate: (a, b) => log.push(`update ${a.data?.v}->${b.data?.v}`),
      onDelete: (o) => log.push(`delete ${o instanceof DeletedFinalStateUnknown ? o.key : o.metadata?.name}`),
    });
    const ac = new AbortController();
    const run = inf.run(ac.signal);
    assert.equal(await inf.waitForSync(), true);
    await cms.create('watch', cm('a', 'watch'));
    await cms.patch('watch', 'a', 'merge', { data: { v: 'a2' } });
    await cms.patch('watch', 'a', 'merge', { data: { v: 'a3' } });
    await cms.delete('watch', 'a');
    await cms.create('paging', cm('elsewhere', 'paging')); // another namespace: not seen
    await until(() => log.length === 5);
    assert.deepEqual(log, ['add pre initial', 'add a', 'update a->a2', 'update a2->a3', 'delete a']);
    ac.abort();
    await run;
  });

  it('a watch from a compacted resourceVersion fails with 410 Expired; the informer relists and resumes', async () => {
    await namespace('expire');
    await cms.create('expire', cm('a', 'expire'));
    const storage = srv.server.storage;
    await storage.compact(await storage.currentRevision());
    // Raw watch: the ERROR event surfaces as a StatusError.
    const events: Array<WatchEvent<ConfigMap>> = [];
    for await (const ev of cms.watch('expire', { resourceVersion: '1' })) events.push(ev);
    assert.equal(events.length, 1);
    const first = events[0];
    assert.ok(first?.type === 'ERROR' && isResourceExpired(first.error));

    // Force the informer's first watch to start from the compacted revision.
    let forced = false;
    const wrapped: ResourceClient<ConfigMap> = Object.create(cms, {
      watch: {
        value: (ns: string, opts: ListOptions) => {
          if (!forced) {
            forced = true;
            return cms.watch(ns, { ...opts, resourceVersion: '1' });
          }
          return cms.watch(ns, opts);
        },
      },
    });
    const inf = new SharedIndexInformer(wrapped, {
      namespace: 'expire',
      backoff: { initialMs: 10, maxMs: 50 },
    });
    const ac = new AbortController();
    const run = inf.run(ac.signal);
    await inf.waitForSync();
    await until(() => inf.getReflector().lists() === 2);
    await cms.create('expire', cm('b', 'expire'));
    await until(() => inf.getIndexer().getByKey('expire/b') !== undefined);
    assert.equal(inf.getIndexer().size(), 2);
    ac.abort();
    await run;
  });

  it('syncs an informer over 10,000 pods quickly', async (t) => {
    const store = srv.server.stores.byName('', 'pods');
    const writes: Array<Promise<unknown>> = [];
    // Seed through the server's store: 10k HTTP creates would dominate the test's time.
    for (let n = 0; n < 10_000; n++) {
      const pod: Pod = {
        metadata: { name: `p${n}`, namespace: 'default' },
        spec: { containers: [{ name: 'c', image: 'nginx' }] },
      };
      writes.push(
        store.create('default', pod as never, {
          dryRun: false,
          fieldManager: 'test',
          subresource: '',
          warnings: [],
        }),
      );
    }
    await Promise.all(writes);
    const pods = client.resource(PODS);
    const times: number[] = [];
    for (let i = 0; i < 2; i++) {
      const inf = new SharedIndexInformer(pods);
      const ac = new AbortController();
      const start = performance.now();
      const run = inf.run(ac.signal);
      await inf.waitForSync();
      times.push(performance.now() - start);
      assert.equal(inf.getIndexer().size(), 10_000);
      ac.abort();
      await run;
    }
    t.diagnostic(`informer sync of 10,000 pods: ${times.map((x) => `${Math.round(x)} ms`).join(', ')}`);
    // Sync speed is reported above; the benchmarks own speed targets.
  });
});
