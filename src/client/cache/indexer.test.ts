import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '../../api/generated/types/core-v1.js';
import { Indexer, NAMESPACE_INDEX, newNamespaceIndexer } from './indexer.js';
import { Lister } from './listers.js';
import {
  DeletedFinalStateUnknown,
  deletionHandlingKeyFunc,
  metaNamespaceKeyFunc,
  splitKey,
} from './store.js';
import { isNotFound } from '../../machinery/status-error.js';

const pod = (ns: string, name: string, node = '', labels: Record<string, string> = {}): Pod => ({
  metadata: { namespace: ns, name, labels },
  spec: { containers: [], nodeName: node },
});

const byNode = (p: Pod): string[] => (p.spec?.nodeName ? [p.spec.nodeName] : []);

describe('keys', () => {
  const cases: Array<[string, string, string]> = [
    ['ns', 'a', 'ns/a'],
    ['', 'node1', 'node1'],
  ];
  for (const [ns, name, key] of cases) {
    it(`key of ${key}`, () => {
      assert.equal(metaNamespaceKeyFunc({ metadata: { namespace: ns, name } }), key);
      assert.deepEqual(splitKey(key), { namespace: ns, name });
    });
  }
  it('tombstones keep their key; bad keys throw', () => {
    assert.equal(deletionHandlingKeyFunc(new DeletedFinalStateUnknown('x/y', pod('x', 'y'))), 'x/y');
    assert.throws(() => splitKey('a/b/c'));
  });
});

describe('Indexer', () => {
  it('maintains namespace and custom indices across add/update/delete', () => {
    const idx = newNamespaceIndexer<Pod>({ byNode });
    idx.add(pod('a', 'p1', 'n1'));
    idx.add(pod('a', 'p2', 'n2'));
    idx.add(pod('b', 'p3', 'n1'));
    assert.deepEqual(
      idx
        .byIndex(NAMESPACE_INDEX, 'a')
        .map((p) => p.metadata?.name)
        .sort(),
      ['p1', 'p2'],
    );
    assert.deepEqual(idx.indexKeys('byNode', 'n1').sort(), ['a/p1', 'b/p3']);
    idx.update(pod('a', 'p1', 'n2'));
    assert.deepEqual(idx.indexKeys('byNode', 'n1'), ['b/p3']);
    assert.deepEqual(idx.indexKeys('byNode', 'n2').sort(), ['a/p1', 'a/p2']);
    idx.delete(pod('b', 'p3'));
    assert.deepEqual(idx.listIndexFuncValues('byNode'), ['n2']);
    assert.deepEqual(idx.index('byNode', pod('x', 'y', 'n2')).length, 2);
    assert.equal(idx.size(), 2);
    assert.throws(() => idx.byIndex('nope', 'x'), /does not exist/);
  });

  it('replace rebuilds; indexers added later index existing objects', () => {
    const idx = new Indexer<Pod>(metaNamespaceKeyFunc);
    idx.replace([pod('a', 'p1', 'n1'), pod('a', 'p2', 'n1')], '10');
    idx.addIndexers({ byNode });
    assert.equal(idx.byIndex('byNode', 'n1').length, 2);
    idx.replace([pod('a', 'p3', 'n3')], '11');
    assert.deepEqual(idx.listKeys(), ['a/p3']);
    assert.deepEqual(idx.byIndex('byNode', 'n1'), []);
    assert.throws(() => idx.addIndexers({ byNode }), /conflict/);
  });
});

describe('Lister', () => {
  it('lists by namespace and selector, gets by name', () => {
    const idx = newNamespaceIndexer<Pod>();
    idx.add(pod('a', 'p1', '', { app: 'web' }));
    idx.add(pod('a', 'p2', '', { app: 'db' }));
    idx.add(pod('b', 'p3', '', { app: 'web' }));
    const l = new Lister<Pod>(idx, { group: '', version: 'v1', resource: 'pods' });
    assert.equal(l.list().length, 3);
    assert.equal(l.list('app=web').length, 2);
    assert.equal(l.namespace('a').list('app=web').length, 1);
    assert.equal(l.namespace('a').get('p2').metadata?.name, 'p2');
    assert.throws(
      () => l.namespace('b').get('p1'),
      (e) => isNotFound(e),
    );
    assert.equal(l.getByKey('b/p3')?.metadata?.name, 'p3');
  });
});
