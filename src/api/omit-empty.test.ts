import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { omitEmpty } from './omit-empty.js';

describe('omitEmpty', () => {
  it('drops empty optional maps and lists, keeps structs, required lists and map data', () => {
    const pod: Record<string, unknown> = {
      metadata: { name: 'p', labels: {}, annotations: { a: '' }, finalizers: [] },
      spec: {
        containers: [{ name: 'c', image: 'i', env: [], resources: {}, ports: [] }],
        volumes: [],
        nodeSelector: {},
      },
    };
    omitEmpty(pod, { ref: 'io.k8s.api.core.v1.Pod' });
    assert.deepEqual(pod, {
      metadata: { name: 'p', annotations: { a: '' } },
      spec: { containers: [{ name: 'c', image: 'i', resources: {} }] },
    });
  });

  it('keeps a required empty list', () => {
    const pod: Record<string, unknown> = { spec: { containers: [] } };
    omitEmpty(pod, { ref: 'io.k8s.api.core.v1.Pod' });
    assert.deepEqual(pod, { spec: { containers: [] } });
  });
});
