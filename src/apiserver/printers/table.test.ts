import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KObject } from '../registry/object.js';
import { printedResources, printerFor } from './registry.js';
import { buildTable } from './table.js';

const NOW = new Date('2024-06-01T12:00:00Z');

const cm: KObject = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: {
    name: 'c',
    namespace: 'default',
    resourceVersion: '7',
    creationTimestamp: '2024-06-01T11:59:00Z',
  },
  data: { a: '1' },
};

describe('buildTable', () => {
  it('wraps metadata in PartialObjectMetadata by default kubectl request', () => {
    const t = buildTable('', 'configmaps', [cm], { includeObject: 'Metadata', now: NOW });
    assert.equal(t.kind, 'Table');
    assert.equal(t.apiVersion, 'meta.k8s.io/v1');
    assert.deepEqual(t.rows[0]?.object, {
      kind: 'PartialObjectMetadata',
      apiVersion: 'meta.k8s.io/v1',
      metadata: cm.metadata,
    });
  });

  it('carries the full object for includeObject=Object and nothing for None', () => {
    assert.equal(
      buildTable('', 'configmaps', [cm], { includeObject: 'Object', now: NOW }).rows[0]?.object,
      cm,
    );
    const none = buildTable('', 'configmaps', [cm], { includeObject: 'None', now: NOW });
    assert.equal('object' in (none.rows[0] ?? {}), false);
  });

  it('speaks meta.k8s.io/v1beta1 when asked', () => {
    const t = buildTable('', 'configmaps', [cm], { includeObject: 'Metadata', now: NOW, version: 'v1beta1' });
    assert.equal(t.apiVersion, 'meta.k8s.io/v1beta1');
    assert.equal(
      (t.rows[0]?.object as { apiVersion?: string } | undefined)?.apiVersion,
      'meta.k8s.io/v1beta1',
    );
  });

  it('sends columnDefinitions: null when headers are omitted', () => {
    const t = buildTable('', 'configmaps', [cm], { includeObject: 'None', now: NOW, omitHeaders: true });
    assert.equal(t.columnDefinitions, null);
    assert.equal(JSON.stringify(t).includes('"columnDefinitions":null'), true);
    assert.deepEqual(t.rows[0]?.cells, ['c', 1, '60s']);
  });

  it('copies list metadata', () => {
    const t = buildTable('', 'configmaps', [cm], {
      includeObject: 'None',
      now: NOW,
      listMeta: { resourceVersion: '42', continue: 'abc', remainingItemCount: 3 },
    });
    assert.deepEqual(t.metadata, { resourceVersion: '42', continue: 'abc', remainingItemCount: 3 });
    assert.deepEqual(buildTable('', 'configmaps', [], { includeObject: 'None', now: NOW }).metadata, {});
  });

  it('prints the default table (Name, Created At) for resources without a printer', () => {
    const role: KObject = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'reader', creationTimestamp: '2024-05-31T10:20:30.123Z' },
    };
    const t = buildTable('rbac.authorization.k8s.io', 'roles', [role, { metadata: { name: 'x' } }], {
      includeObject: 'Metadata',
      now: NOW,
    });
    assert.deepEqual(
      t.columnDefinitions?.map((c) => [c.name, c.type, c.format, c.priority]),
      [
        ['Name', 'string', 'name', 0],
        ['Created At', 'date', '', 0],
      ],
    );
    assert.deepEqual(t.rows[0]?.cells, ['reader', '2024-05-31T10:20:30Z']);
    assert.deepEqual(t.rows[1]?.cells, ['x', '0001-01-01T00:00:00Z']);
    for (const r of ['clusterroles', 'customresourcedefinitions', 'limitranges']) {
      assert.equal(printerFor(r === 'limitranges' ? '' : 'x', r), undefined);
    }
  });

  it('gives every registered printer as many cells as columns, even for empty objects', () => {
    for (const key of printedResources()) {
      const [group, plural] = key.split('/') as [string, string];
      const t = buildTable(group, plural, [{ metadata: { name: 'n' } }, {}], {
        includeObject: 'None',
        now: NOW,
      });
      for (const row of t.rows) assert.equal(row.cells.length, t.columnDefinitions?.length, key);
    }
  });
});
