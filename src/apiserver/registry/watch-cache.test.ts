import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeEntry, spliceResourceVersion, storedHead } from './watch-cache.js';

const head = storedHead('ConfigMap', 'v1');
const enc = new TextEncoder();

describe('spliceResourceVersion', () => {
  const cases: Array<{ name: string; text: string; want: unknown }> = [
    {
      name: 'inserts as the first metadata key',
      text: '{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"a"},"data":{"k":"v"}}',
      want: {
        kind: 'ConfigMap',
        apiVersion: 'v1',
        metadata: { resourceVersion: '7', name: 'a' },
        data: { k: 'v' },
      },
    },
    {
      name: 'empty metadata gets no comma',
      text: '{"kind":"ConfigMap","apiVersion":"v1","metadata":{}}',
      want: { kind: 'ConfigMap', apiVersion: 'v1', metadata: { resourceVersion: '7' } },
    },
    {
      name: 'another layout falls back',
      text: '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}',
      want: undefined,
    },
    {
      name: 'a resourceVersion key anywhere falls back',
      text: '{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"a"},"data":{"resourceVersion":"x"}}',
      want: undefined,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = spliceResourceVersion(c.text, head, 7);
      assert.deepEqual(got === undefined ? undefined : JSON.parse(got), c.want);
    });
  }
});

describe('decodeEntry', () => {
  const texts = [
    '{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"a","namespace":"ns"},"data":{"k":"v"}}',
    '{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"a","namespace":"ns","resourceVersion":"1"}}',
    '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","namespace":"ns"}}',
  ];
  for (const t of texts) {
    it(`renders JSON equal to the object: ${t.slice(0, 60)}`, () => {
      const e = decodeEntry(
        '/registry/core/configmaps/',
        '/registry/core/configmaps/ns/a',
        enc.encode(t),
        12,
      );
      assert.equal(e.obj.metadata?.resourceVersion, '12');
      assert.deepEqual(JSON.parse(e.json), e.obj);
      assert.equal(e.namespace, 'ns');
      assert.equal(e.name, 'a');
    });
  }
});
