import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  addFinalizer,
  creationTime,
  formatMicroTimestamp,
  formatTimestamp,
  generateName,
  getAnnotation,
  getLabel,
  getLabels,
  type HasMetadata,
  hasFinalizer,
  isBeingDeleted,
  metaNamespaceKey,
  namespaceKey,
  newUID,
  randomString,
  removeAnnotation,
  removeFinalizer,
  removeLabel,
  safeEncodeString,
  setAnnotation,
  setLabel,
  splitMetaNamespaceKey,
} from './object-meta.js';

describe('keys', () => {
  it('builds and splits namespace keys', () => {
    assert.equal(metaNamespaceKey({ metadata: { namespace: 'default', name: 'web' } }), 'default/web');
    assert.equal(metaNamespaceKey({ metadata: { name: 'node1' } }), 'node1');
    assert.equal(namespaceKey('', 'x'), 'x');
    assert.deepEqual(splitMetaNamespaceKey('a/b'), { namespace: 'a', name: 'b' });
    assert.deepEqual(splitMetaNamespaceKey('b'), { namespace: '', name: 'b' });
    assert.throws(() => splitMetaNamespaceKey('a/b/c'), { message: 'unexpected key format: "a/b/c"' });
  });
});

describe('labels, annotations and finalizers', () => {
  it('gets and sets labels and annotations without sharing maps', () => {
    const obj: HasMetadata = {};
    assert.deepEqual(getLabels(obj), {});
    setLabel(obj, 'app', 'web');
    const before = obj.metadata?.labels;
    setLabel(obj, 'tier', 'front');
    assert.deepEqual(before, { app: 'web' });
    assert.equal(getLabel(obj, 'tier'), 'front');
    assert.equal(getLabel(obj, 'toString'), undefined);
    removeLabel(obj, 'app');
    assert.deepEqual(obj.metadata?.labels, { tier: 'front' });
    setAnnotation(obj, 'a', '1');
    assert.equal(getAnnotation(obj, 'a'), '1');
    removeAnnotation(obj, 'a');
    assert.deepEqual(obj.metadata?.annotations, {});
  });

  it('adds and removes finalizers once', () => {
    const obj: HasMetadata = { metadata: {} };
    assert.equal(addFinalizer(obj, 'kubernetes'), true);
    assert.equal(addFinalizer(obj, 'kubernetes'), false);
    assert.ok(hasFinalizer(obj, 'kubernetes'));
    assert.equal(removeFinalizer(obj, 'kubernetes'), true);
    assert.equal(removeFinalizer(obj, 'kubernetes'), false);
    assert.equal(obj.metadata?.finalizers, undefined);
  });

  it('knows when deletion has started', () => {
    assert.ok(!isBeingDeleted({ metadata: {} }));
    assert.ok(!isBeingDeleted({ metadata: { deletionTimestamp: null } }));
    assert.ok(isBeingDeleted({ metadata: { deletionTimestamp: '2024-01-01T00:00:00Z' } }));
  });
});

describe('generated values', () => {
  it('generates names from upstream alphabet with the 58-character base rule', () => {
    const alphabet = /^[bcdfghjklmnpqrstvwxz2456789]{5}$/;
    const n = generateName('web-');
    assert.ok(n.startsWith('web-'));
    assert.match(n.slice(4), alphabet);
    const long = generateName('x'.repeat(80));
    assert.equal(long.length, 63);
    assert.ok(long.startsWith('x'.repeat(58)));
    assert.match(long.slice(58), alphabet);
    assert.equal(
      generateName('a-', () => 0),
      'a-bbbbb',
    );
    assert.equal(
      randomString(3, () => 26),
      '999',
    );
  });

  it('encodes strings into the safe alphabet', () => {
    assert.equal(safeEncodeString('abc'), 'vwx');
    assert.equal(safeEncodeString('5d4f7c9b8'), safeEncodeString('5d4f7c9b8'));
  });

  it('makes RFC 4122 v4 uids', () => {
    assert.match(newUID(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('formats timestamps at second and microsecond precision', () => {
    const t = Date.parse('2024-05-01T12:34:56.789Z');
    assert.equal(formatTimestamp(t), '2024-05-01T12:34:56Z');
    assert.equal(formatTimestamp(new Date(t)), '2024-05-01T12:34:56Z');
    assert.equal(formatMicroTimestamp(t), '2024-05-01T12:34:56.789000Z');
    assert.equal(creationTime({ metadata: { creationTimestamp: '2024-05-01T12:34:56Z' } }), t - 789);
    assert.equal(creationTime({ metadata: {} }), undefined);
  });
});
