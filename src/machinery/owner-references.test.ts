import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  getControllerOf,
  groupVersionString,
  isControlledBy,
  newControllerRef,
  parseAPIVersion,
  removeOwnerReference,
  upsertOwnerReference,
  validateOwnerReferences,
} from './owner-references.js';
import { fieldErrorMessage } from './status-error.js';

const rs = { metadata: { name: 'web-abc', uid: 'rs-uid' } };

describe('controller references', () => {
  it('builds a controller reference', () => {
    assert.deepEqual(newControllerRef(rs, { group: 'apps', version: 'v1', kind: 'ReplicaSet' }), {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      name: 'web-abc',
      uid: 'rs-uid',
      controller: true,
      blockOwnerDeletion: true,
    });
    assert.equal(
      newControllerRef(rs, { group: '', version: 'v1', kind: 'ReplicationController' }).apiVersion,
      'v1',
    );
  });

  it('finds the controller and compares by uid', () => {
    const ref = newControllerRef(rs, { group: 'apps', version: 'v1', kind: 'ReplicaSet' });
    const pod = {
      metadata: {
        ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'n', uid: 'node-uid' }, ref],
      },
    };
    const got = getControllerOf(pod);
    assert.deepEqual(got, ref);
    assert.notEqual(got, ref);
    assert.ok(isControlledBy(pod, rs));
    assert.ok(!isControlledBy(pod, { metadata: { uid: 'node-uid' } }));
    assert.equal(getControllerOf({}), undefined);
    assert.equal(
      getControllerOf({ metadata: { ownerReferences: [{ ...ref, controller: false }] } }),
      undefined,
    );
  });

  it('edits reference lists by uid', () => {
    const a = { apiVersion: 'v1', kind: 'A', name: 'a', uid: '1' };
    const b = { apiVersion: 'v1', kind: 'B', name: 'b', uid: '2' };
    assert.deepEqual(removeOwnerReference([a, b], '1'), [b]);
    assert.deepEqual(upsertOwnerReference([a, b], { ...a, name: 'a2' }), [b, { ...a, name: 'a2' }]);
  });

  it('splits and joins group versions', () => {
    assert.deepEqual(parseAPIVersion('apps/v1'), { group: 'apps', version: 'v1' });
    assert.deepEqual(parseAPIVersion('v1'), { group: '', version: 'v1' });
    assert.equal(groupVersionString('', 'v1'), 'v1');
  });
});

describe('validateOwnerReferences', () => {
  const path = 'metadata.ownerReferences';

  it('accepts complete references', () => {
    assert.deepEqual(
      validateOwnerReferences(
        [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'x', uid: 'u', controller: true }],
        path,
      ),
      [],
    );
    assert.deepEqual(validateOwnerReferences(undefined, path), []);
  });

  it('requires apiVersion, kind, name and uid', () => {
    const errs = validateOwnerReferences([{ apiVersion: 'apps/', kind: '', name: '', uid: '' }], path);
    assert.deepEqual(errs.map(fieldErrorMessage), [
      'metadata.ownerReferences.apiVersion: Invalid value: "apps/": version must not be empty',
      'metadata.ownerReferences.kind: Invalid value: "": kind must not be empty',
      'metadata.ownerReferences.name: Invalid value: "": name must not be empty',
      'metadata.ownerReferences.uid: Invalid value: "": uid must not be empty',
    ]);
  });

  it('bans Events as owners', () => {
    const errs = validateOwnerReferences([{ apiVersion: 'v1', kind: 'Event', name: 'e', uid: 'u' }], path);
    assert.equal(errs.length, 1);
    assert.equal(errs[0]?.detail, '/v1, Kind=Event is disallowed from being an owner');
  });

  it('allows only one controller', () => {
    const errs = validateOwnerReferences(
      [
        { apiVersion: 'v1', kind: 'ReplicationController', name: 'a', uid: '1', controller: true },
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'b', uid: '2', controller: true },
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'c', uid: '3', controller: false },
      ],
      path,
    );
    assert.equal(errs.length, 1);
    assert.equal(errs[0]?.field, path);
    assert.equal(
      errs[0]?.detail,
      'Only one reference can have Controller set to true. Found "true" in references for ReplicationController/a and ReplicaSet/b',
    );
  });
});
