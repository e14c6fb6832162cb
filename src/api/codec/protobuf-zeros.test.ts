import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dropProtobufZeros } from './protobuf-zeros.js';

describe('dropProtobufZeros', () => {
  it('drops Go zero values but keeps pointer zeros, required zeros and map data', () => {
    const d: Record<string, unknown> = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'web',
        generateName: '',
        generation: 0,
        creationTimestamp: null,
        labels: { app: 'web', empty: '' },
      },
      spec: {
        replicas: 0,
        paused: false,
        minReadySeconds: 0,
        strategy: { type: '' },
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            restartPolicy: '',
            terminationGracePeriodSeconds: 0,
            containers: [
              {
                name: 'c',
                image: 'nginx',
                imagePullPolicy: '',
                ports: [{ containerPort: 80, hostPort: 0, protocol: '' }],
              },
            ],
          },
        },
      },
      status: { replicas: 0, observedGeneration: 0 },
    };
    dropProtobufZeros(d);
    assert.deepEqual(d, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', labels: { app: 'web', empty: '' } },
      spec: {
        replicas: 0,
        strategy: {},
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            terminationGracePeriodSeconds: 0,
            containers: [{ name: 'c', image: 'nginx', ports: [{ containerPort: 80 }] }],
          },
        },
      },
      status: {},
    });
  });

  it('keeps empty ConfigMap values', () => {
    const cm: Record<string, unknown> = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'x' },
      data: { a: '' },
      immutable: false,
    };
    dropProtobufZeros(cm);
    assert.deepEqual(cm, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'x' },
      data: { a: '' },
      immutable: false,
    });
  });
});
