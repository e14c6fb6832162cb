import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { convertHpaAnswerText, HPA_V1_ANNOTATIONS, hpaV1ToV2, hpaV2ToV1 } from './hpa-v1-conversion.js';

const ref = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' };
const cpu80 = {
  type: 'Resource',
  resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } },
};
const memory = {
  type: 'Resource',
  resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } },
};

describe('autoscaling/v1 <-> v2 HorizontalPodAutoscaler conversion', () => {
  const cases: Array<{ name: string; v1: Record<string, unknown>; v2: Record<string, unknown> }> = [
    {
      name: 'cpu target',
      v1: {
        apiVersion: 'autoscaling/v1',
        kind: 'HorizontalPodAutoscaler',
        metadata: { name: 'web' },
        spec: { scaleTargetRef: ref, minReplicas: 2, maxReplicas: 5, targetCPUUtilizationPercentage: 80 },
      },
      v2: {
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: { name: 'web' },
        spec: { scaleTargetRef: ref, minReplicas: 2, maxReplicas: 5, metrics: [cpu80] },
      },
    },
    {
      name: 'no target',
      v1: {
        apiVersion: 'autoscaling/v1',
        kind: 'HorizontalPodAutoscaler',
        metadata: { name: 'web' },
        spec: { scaleTargetRef: ref, maxReplicas: 3 },
      },
      v2: {
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: { name: 'web' },
        spec: { scaleTargetRef: ref, maxReplicas: 3 },
      },
    },
  ];
  for (const c of cases) {
    it(`v1 to v2: ${c.name}`, () => {
      assert.deepEqual(hpaV1ToV2(c.v1), c.v2);
    });
  }

  it('v2 to v1 keeps v2-only content in annotations and round-trips', () => {
    const v2 = {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'web', annotations: { keep: 'me' } },
      spec: { scaleTargetRef: ref, minReplicas: 1, maxReplicas: 4, metrics: [cpu80, memory] },
      status: {
        currentReplicas: 2,
        desiredReplicas: 3,
        currentMetrics: [
          { type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 55 } } },
        ],
        conditions: [{ type: 'AbleToScale', status: 'True', reason: 'ReadyForNewScale' }],
      },
    };
    const v1 = hpaV2ToV1(v2);
    assert.equal(v1.apiVersion, 'autoscaling/v1');
    assert.deepEqual(v1.spec, {
      scaleTargetRef: ref,
      minReplicas: 1,
      maxReplicas: 4,
      targetCPUUtilizationPercentage: 80,
    });
    assert.deepEqual(v1.status, {
      currentReplicas: 2,
      desiredReplicas: 3,
      currentCPUUtilizationPercentage: 55,
    });
    const annotations = (v1.metadata as { annotations: Record<string, string> }).annotations;
    assert.equal(annotations.keep, 'me');
    assert.deepEqual(JSON.parse(annotations[HPA_V1_ANNOTATIONS.metrics] ?? ''), [memory]);
    assert.deepEqual(JSON.parse(annotations[HPA_V1_ANNOTATIONS.conditions] ?? ''), v2.status.conditions);
    const back = hpaV1ToV2(v1);
    assert.deepEqual((back.spec as { metrics: unknown[] }).metrics, [memory, cpu80]);
    assert.deepEqual(back.metadata, { name: 'web', annotations: { keep: 'me' } });
    assert.deepEqual((back.status as { conditions: unknown }).conditions, v2.status.conditions);
  });

  it('converts lists and watch events, and leaves a Status alone', () => {
    const item = { metadata: { name: 'a' }, spec: { maxReplicas: 2, metrics: [cpu80] } };
    const list = JSON.parse(
      convertHpaAnswerText(
        JSON.stringify({ kind: 'HorizontalPodAutoscalerList', apiVersion: 'autoscaling/v2', items: [item] }),
      ),
    );
    assert.equal(list.apiVersion, 'autoscaling/v1');
    assert.equal(list.items[0].spec.targetCPUUtilizationPercentage, 80);
    assert.equal(list.items[0].apiVersion, 'autoscaling/v1');
    const event = JSON.parse(
      convertHpaAnswerText(
        JSON.stringify({
          type: 'ADDED',
          object: { kind: 'HorizontalPodAutoscaler', apiVersion: 'autoscaling/v2', ...item },
        }),
      ),
    );
    assert.equal(event.object.apiVersion, 'autoscaling/v1');
    const status = JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 404 });
    assert.equal(convertHpaAnswerText(status), status);
  });
});
