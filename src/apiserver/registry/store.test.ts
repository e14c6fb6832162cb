import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { resourceFor } from '../../api/registry.js';
import {
  isAlreadyExists,
  isConflict,
  isInvalid,
  isNotFound,
  StatusError,
} from '../../machinery/status-error.js';
import { MemoryStorage } from '../../storage/memory.js';
import { defaultHooks } from '../hooks.js';
import { parseListQuery } from './list-options.js';
import { type KObject, renderedJSON } from './object.js';
import { Store, type WriteOptions } from './store.js';
import { strategyFor } from './strategies.js';

const wo = (): WriteOptions => ({ dryRun: false, fieldManager: 'test', subresource: '', warnings: [] });
const q = (s = '') => parseListQuery(new URLSearchParams(s), false);

function cm(name: string, data: Record<string, string> = {}, labels?: Record<string, string>): KObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...(labels ? { labels } : {}) }, data };
}

describe('generic Store', () => {
  const storage = new MemoryStorage();
  const cms = new Store(strategyFor(resourceFor('', 'v1', 'configmaps')!), storage, defaultHooks());
  const pods = new Store(strategyFor(resourceFor('', 'v1', 'pods')!), storage, defaultHooks());
  const deploys = new Store(strategyFor(resourceFor('apps', 'v1', 'deployments')!), storage, defaultHooks());

  before(async () => {
    await cms.start();
  });
  after(async () => {
    cms.cache.close();
    pods.cache.close();
    deploys.cache.close();
    await storage.close();
  });

  it('creates with server-set metadata and refuses duplicates', async () => {
    const o = await cms.create('ns1', cm('a', { k: 'v' }), wo());
    assert.equal(o.metadata?.namespace, 'ns1');
    assert.match(o.metadata?.uid ?? '', /^[0-9a-f-]{36}$/);
    assert.match(o.metadata?.creationTimestamp ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(Number(o.metadata?.resourceVersion) > 0);
    await assert.rejects(cms.create('ns1', cm('a'), wo()), (e: unknown) => isAlreadyExists(e));
  });

  it('hands written objects to the watch cache with their rendered JSON', async () => {
    const o = await cms.create('ns1', cm('handoff', { k: 'v' }), wo());
    const json = renderedJSON(o);
    assert.ok(json !== undefined);
    assert.deepEqual(JSON.parse(json), o);
    const rv = Number(o.metadata?.resourceVersion);
    assert.ok(await cms.cache.waitFor(rv));
    const e = cms.cache.get(cms.key('ns1', 'handoff'));
    assert.equal(e?.rv, rv);
    assert.deepEqual(JSON.parse(e?.json ?? ''), o);
    assert.deepEqual(e?.obj, o);
  });

  it('generates names from generateName', async () => {
    const o = await cms.create(
      'ns1',
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'gen-' } },
      wo(),
    );
    assert.match(o.metadata?.name ?? '', /^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  it('rejects a stale resourceVersion with 409 and skips no-op writes', async () => {
    const a = await cms.get('ns1', 'a');
    const r1 = await cms.update('ns1', 'a', { ...a, data: { k: 'v2' } }, wo());
    assert.notEqual(r1.obj.metadata?.resourceVersion, a.metadata?.resourceVersion);
    await assert.rejects(cms.update('ns1', 'a', { ...a, data: { k: 'v3' } }, wo()), (e: unknown) =>
      isConflict(e),
    );
    const same = await cms.update('ns1', 'a', r1.obj, wo());
    assert.equal(same.obj.metadata?.resourceVersion, r1.obj.metadata?.resourceVersion);
  });

  it('keeps status on spec updates and bumps generation only for spec changes', async () => {
    const d = await deploys.create(
      'ns1',
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'd' },
        spec: {
          selector: { matchLabels: { a: 'b' } },
          template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
        },
        status: { replicas: 9 },
      },
      wo(),
    );
    assert.deepEqual(d.status, {});
    assert.equal(d.metadata?.generation, 1);
    const s = await deploys.update(
      'ns1',
      'd',
      { ...d, status: { replicas: 3 } },
      { ...wo(), subresource: 'status' },
      true,
    );
    assert.deepEqual(s.obj.status, { replicas: 3 });
    assert.equal(s.obj.metadata?.generation, 1);
    const u = await deploys.update(
      'ns1',
      'd',
      { ...s.obj, spec: { ...(s.obj.spec as object), replicas: 5 }, status: {} },
      wo(),
    );
    assert.equal(u.obj.metadata?.generation, 2);
    assert.deepEqual(u.obj.status, { replicas: 3 });
  });

  it('validates with upstream messages', async () => {
    await assert.rejects(
      pods.create(
        'ns1',
        { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [] } },
        wo(),
      ),
      (e: unknown) =>
        isInvalid(e) && e instanceof StatusError && /spec\.containers: Required value/.test(e.message),
    );
  });

  it('deletes scheduled pods gracefully and unscheduled ones at once', async () => {
    const spec = { containers: [{ name: 'c', image: 'i' }] };
    await pods.create(
      'ns1',
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bound' }, spec: { ...spec, nodeName: 'n1' } },
      wo(),
    );
    await pods.create('ns1', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'free' }, spec }, wo());
    const g = await pods.delete('ns1', 'bound', {}, wo());
    assert.equal(g.deleted, false);
    assert.equal(g.obj.metadata?.deletionGracePeriodSeconds, 30);
    const g0 = await pods.delete('ns1', 'bound', { gracePeriodSeconds: 0 }, wo());
    assert.equal(g0.deleted, true);
    const f = await pods.delete('ns1', 'free', {}, wo());
    assert.equal(f.deleted, true);
    await assert.rejects(pods.get('ns1', 'free'), (e: unknown) => isNotFound(e));
  });

  it('pages lists at one snapshot and filters by label', async () => {
    for (let i = 0; i < 5; i++) await cms.create('page', cm(`p${i}`, {}, { i: String(i % 2) }), wo());
    const first = await cms.list('page', q('limit=2'));
    assert.deepEqual(
      first.items.map((e) => e.name),
      ['p0', 'p1'],
    );
    assert.ok(first.continue);
    await cms.create('page', cm('p5'), wo());
    const second = await cms.list('page', q(`limit=10&continue=${first.continue}`));
    assert.deepEqual(
      second.items.map((e) => e.name),
      ['p2', 'p3', 'p4'],
    );
    assert.equal(second.resourceVersion, first.resourceVersion);
    const odd = await cms.list('page', q('labelSelector=i%3D1'));
    assert.deepEqual(
      odd.items.map((e) => e.name),
      ['p1', 'p3'],
    );
    // ConfigMaps have no field-label conversion of their own upstream: the scheme's default answers.
    assert.throws(() => cms.checkFieldSelector(q('fieldSelector=spec.foo%3Dx')), {
      message: '"spec.foo" is not a known field selector: only "metadata.name", "metadata.namespace"',
    });
  });

  it('guaranteedStoredUpdate writes storage directly, retrying a stale cached copy', async () => {
    const o = await cms.create('stored', cm('s', { n: '0' }), wo());
    const mf = o.metadata?.managedFields;
    assert.ok(await cms.cache.waitFor(Number(o.metadata?.resourceVersion)));
    // Both start from the same cached revision: one conflicts and retries from storage.
    const bump =
      (k: string) =>
      (cur: KObject): KObject => ({ ...cur, data: { ...(cur.data as Record<string, string>), [k]: 'x' } });
    await Promise.all([
      cms.guaranteedStoredUpdate('stored', 's', wo(), bump('a')),
      cms.guaranteedStoredUpdate('stored', 's', wo(), bump('b')),
    ]);
    const got = await cms.get('stored', 's');
    assert.deepEqual(got.data, { n: '0', a: 'x', b: 'x' });
    // No field-manager bookkeeping: upstream's binding writes storage, not the strategy.
    assert.deepEqual(got.metadata?.managedFields, mf);
    await assert.rejects(
      cms.guaranteedStoredUpdate('stored', 'missing', wo(), (c) => c),
      (e: unknown) => isNotFound(e),
    );
  });
});

describe('Store: field selectors and held deletions', () => {
  const storage = new MemoryStorage();
  const store = (group: string, plural: string) =>
    new Store(strategyFor(resourceFor(group, 'v1', plural)!), storage, defaultHooks());
  const namespaces = store('', 'namespaces');
  after(async () => {
    namespaces.cache.close();
    await storage.close();
  });

  it('answers an unknown field label with the message of the kind’s conversion', () => {
    const cases: [string, string, string, string][] = [
      ['', 'pods', 'foo', 'field label not supported: foo'],
      ['', 'nodes', 'metadata.namespace', 'field label not supported: metadata.namespace'],
      ['', 'namespaces', 'spec.x', 'field label not supported: spec.x'],
      ['', 'secrets', 'data', 'field label not supported: data'],
      [
        'apps',
        'deployments',
        'spec.replicas',
        '"spec.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"',
      ],
      [
        '',
        'persistentvolumes',
        'x',
        '"x" is not a known field selector: only "metadata.name", "metadata.namespace"',
      ],
      ['batch', 'jobs', 'status.succeeded', 'field label "status.succeeded" not supported for batchv1.Job'],
      [
        'apps',
        'replicasets',
        'status.replicas',
        '"status.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"',
      ],
    ];
    for (const [group, plural, field, message] of cases) {
      const s = store(group, plural);
      assert.throws(() => s.checkFieldSelector(q(`fieldSelector=${field}%3Dv`)), { message }, plural);
      s.cache.close();
    }
    // Accepted fields pass.
    const pods = store('', 'pods');
    pods.checkFieldSelector(q('fieldSelector=spec.nodeName%3Dn,metadata.namespace%3Dx'));
    pods.cache.close();
  });

  it('a status update does not end a namespace that spec.finalizers still hold', async () => {
    await namespaces.create('', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'held' } }, wo());
    const out = await namespaces.delete('', 'held', {}, wo());
    assert.equal(out.deleted, false);
    assert.equal((out.obj.status as { phase?: string }).phase, 'Terminating');
    // The namespace controller reports progress through status while content remains.
    await namespaces.guaranteedUpdate(
      '',
      'held',
      wo(),
      (cur) => ({
        ...cur,
        status: { phase: 'Terminating', conditions: [{ type: 'NamespaceContentRemaining', status: 'True' }] },
      }),
      { mode: 'status' },
    );
    const got = await namespaces.get('', 'held');
    assert.deepEqual((got.spec as { finalizers?: string[] }).finalizers, ['kubernetes']);
    // Emptying spec.finalizers (the finalize subresource) completes the delete.
    await namespaces.guaranteedUpdate('', 'held', wo(), (cur) => ({ ...cur, spec: { finalizers: [] } }), {
      mode: 'subresource',
    });
    await assert.rejects(namespaces.get('', 'held'), (e: unknown) => isNotFound(e));
  });
});
