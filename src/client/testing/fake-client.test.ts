import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConfigMap, Pod } from '../../api/generated/types/core-v1.js';
import {
  isAlreadyExists,
  isConflict,
  isNotFound,
  isResourceExpired,
  conflict,
} from '../../machinery/status-error.js';
import type { WatchEvent } from '../interface.js';
import { CONFIGMAPS, NODES, PODS } from '../resources.js';
import { FakeClient } from './fake-client.js';

describe('FakeClient', () => {
  it('tracks objects with resourceVersions, conflicts and errors like the API', async () => {
    const fake = new FakeClient();
    const cms = fake.resource(CONFIGMAPS);
    const a = await cms.create('ns', { metadata: { name: 'a' }, data: { v: '1' } });
    assert.equal(a.metadata?.resourceVersion, '1');
    assert.equal(a.kind, 'ConfigMap');
    assert.ok(a.metadata?.uid);
    await assert.rejects(cms.create('ns', { metadata: { name: 'a' } }), (e) => isAlreadyExists(e));
    const a2 = await cms.update('ns', { ...a, data: { v: '2' } });
    assert.equal(a2.metadata?.resourceVersion, '2');
    await assert.rejects(cms.update('ns', { ...a, data: { v: '3' } }), (e) => isConflict(e));
    const gen = await cms.create('ns', { metadata: { generateName: 'g-' } });
    assert.match(gen.metadata?.name ?? '', /^g-[a-z0-9]{5}$/);
    await assert.rejects(cms.get('ns', 'zzz'), (e) => isNotFound(e));
    const patched = await cms.patch('ns', 'a', 'merge', { data: { w: 'x' } });
    assert.deepEqual(patched.data, { v: '2', w: 'x' });
    const nodes = fake.resource(NODES);
    const n = await nodes.create('', { metadata: { name: 'n1', namespace: 'ignored' } });
    assert.equal(n.metadata?.namespace, undefined);
  });

  it('filters by label and field selectors and pages', async () => {
    const fake = new FakeClient();
    const pods = fake.resource(PODS);
    for (let i = 0; i < 5; i++) {
      await pods.create('ns', {
        metadata: { name: `p${i}`, labels: { even: String(i % 2 === 0) } },
        spec: { containers: [], nodeName: i < 2 ? 'n1' : 'n2' },
      } satisfies Pod);
    }
    assert.equal((await pods.list('ns', { labelSelector: 'even=true' })).items.length, 3);
    assert.equal((await pods.list('', { fieldSelector: 'spec.nodeName=n1' })).items.length, 2);
    const page = await pods.list('ns', { limit: 2 });
    assert.equal(page.items.length, 2);
    const rest = await pods.list('ns', { limit: 10, continue: page.metadata.continue ?? '' });
    assert.deepEqual(
      rest.items.map((p) => p.metadata?.name),
      ['p2', 'p3', 'p4'],
    );
  });

  it('graceful deletion with finalizers, and watch with history and 410', async () => {
    const fake = new FakeClient();
    const cms = fake.resource(CONFIGMAPS);
    await cms.create('ns', { metadata: { name: 'f', finalizers: ['x'] } });
    const ac = new AbortController();
    const seen: string[] = [];
    const done = (async () => {
      for await (const ev of cms.watch('ns', { resourceVersion: '1', signal: ac.signal })) {
        seen.push(`${ev.type} ${ev.type === 'ERROR' ? '' : ev.object.metadata?.name}`);
      }
    })();
    await cms.delete('ns', 'f');
    const f = await cms.get('ns', 'f');
    assert.ok(f.metadata?.deletionTimestamp);
    await cms.update('ns', { ...f, metadata: { ...f.metadata, finalizers: [] } });
    await assert.rejects(cms.get('ns', 'f'), (e) => isNotFound(e));
    await new Promise((r) => setImmediate(r));
    ac.abort();
    await done;
    assert.deepEqual(seen, ['MODIFIED f', 'DELETED f']);

    fake.tracker.compact();
    const evs: Array<WatchEvent<ConfigMap>> = [];
    for await (const ev of cms.watch('ns', { resourceVersion: '1' })) evs.push(ev);
    assert.ok(evs[0]?.type === 'ERROR' && isResourceExpired(evs[0].error));
  });

  it('records actions and lets reactors inject faults', async () => {
    const fake = new FakeClient();
    const cms = fake.resource(CONFIGMAPS);
    fake.prependReactor('update', 'configmaps', (a) => {
      throw conflict({ group: '', resource: 'configmaps' }, a.name ?? '', 'injected');
    });
    await cms.create('ns', { metadata: { name: 'a' } });
    await assert.rejects(cms.update('ns', { metadata: { name: 'a' } }), (e) => isConflict(e));
    assert.deepEqual(
      fake.actions().map((a) => `${a.verb} ${a.resource.resource} ${a.namespace}/${a.name}`),
      ['create configmaps ns/a', 'update configmaps ns/a'],
    );
  });
});
