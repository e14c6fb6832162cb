import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isNotFound, StatusError } from '../machinery/status-error.js';
import { negotiate } from './negotiation.js';

const all = { table: true, partial: true, discovery: true };

describe('negotiate', () => {
  it('defaults to JSON', () => {
    assert.deepEqual(negotiate(undefined, all), { kind: 'object', mediaType: 'application/json' });
    assert.deepEqual(negotiate('*/*', all), { kind: 'object', mediaType: 'application/json' });
  });
  it('serves kubectl get its Table', () => {
    const accept =
      'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
    assert.deepEqual(negotiate(accept, all), { kind: 'table', version: 'v1' });
    assert.deepEqual(negotiate(accept, { table: false, partial: false }), {
      kind: 'object',
      mediaType: 'application/json',
    });
  });
  it('falls back from protobuf to JSON for typed clients', () => {
    assert.deepEqual(negotiate('application/vnd.kubernetes.protobuf,application/json', all), {
      kind: 'object',
      mediaType: 'application/json',
    });
  });
  it('answers a protobuf-only Accept with 406', () => {
    assert.throws(
      () => negotiate('application/vnd.kubernetes.protobuf', all),
      (e: unknown) => e instanceof StatusError && e.code === 406 && !isNotFound(e),
    );
  });
  it('serves aggregated discovery only with the exact parameters', () => {
    const accept =
      'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';
    assert.deepEqual(negotiate(accept, all), { kind: 'discovery', version: 'v2' });
    assert.deepEqual(negotiate(accept, { table: false, partial: false }), {
      kind: 'object',
      mediaType: 'application/json',
    });
  });
  it('serves metadata-only views', () => {
    assert.deepEqual(
      negotiate('application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json', all),
      {
        kind: 'partial',
        version: 'v1',
      },
    );
  });
});
