import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Job } from '../../api/generated/types/batch-v1.js';
import type { Pod } from '../../api/generated/types/core-v1.js';
import { newJobPod } from './controller.js';
import { formatIndexes, parseIndexes } from './indexes.js';
import { matchPodFailurePolicy } from './pod-failure-policy.js';

describe('completed indexes', () => {
  const cases: Array<[number[], string]> = [
    [[], ''],
    [[0], '0'],
    [[0, 1, 2, 4], '0-2,4'],
    [[5, 3, 1, 2], '1-3,5'],
  ];
  for (const [idx, s] of cases) {
    it(`${JSON.stringify(idx)} ↔ "${s}"`, () => {
      assert.equal(formatIndexes(idx), s);
      assert.deepEqual([...parseIndexes(s, 10)].sort(), [...new Set(idx)].sort());
    });
  }
});

describe('pod failure policy', () => {
  const job: Job = {
    metadata: { name: 'j', namespace: 'ns' },
    spec: {
      template: { spec: { containers: [] } },
      podFailurePolicy: {
        rules: [
          { action: 'FailJob', onExitCodes: { containerName: 'main', operator: 'In', values: [42] } },
          { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] },
          { action: 'Count', onExitCodes: { operator: 'NotIn', values: [1] } },
        ],
      },
    },
  };
  const pod = (code: number, cond?: string): Pod => ({
    metadata: { name: 'p', namespace: 'ns' },
    status: {
      phase: 'Failed',
      ...(cond !== undefined ? { conditions: [{ type: cond, status: 'True' }] } : {}),
      containerStatuses: [
        {
          name: 'main',
          image: '',
          imageID: '',
          ready: false,
          restartCount: 0,
          state: { terminated: { exitCode: code } },
        },
      ],
    },
  });
  it('FailJob with upstream message', () => {
    assert.deepEqual(matchPodFailurePolicy(job, pod(42)), {
      action: 'FailJob',
      message: 'Container main for pod ns/p failed with exit code 42 matching FailJob rule at index 0',
    });
  });
  it('Ignore on a condition', () =>
    assert.equal(matchPodFailurePolicy(job, pod(1, 'DisruptionTarget'))?.action, 'Ignore'));
  it('Count on NotIn', () => assert.equal(matchPodFailurePolicy(job, pod(3))?.action, 'Count'));
  it('no rule', () => assert.equal(matchPodFailurePolicy(job, pod(1)), undefined));
});

describe('newJobPod', () => {
  it('indexed pods carry index annotation, label, env and hostname', () => {
    const job: Job = {
      metadata: { name: 'j', namespace: 'ns', uid: 'u' },
      spec: { completionMode: 'Indexed', template: { spec: { containers: [{ name: 'c' }] } } },
    };
    const p = newJobPod(job, 3);
    assert.equal(p.metadata?.generateName, 'j-3-');
    assert.equal(p.metadata?.annotations?.['batch.kubernetes.io/job-completion-index'], '3');
    assert.equal(p.metadata?.labels?.['batch.kubernetes.io/job-completion-index'], '3');
    assert.equal(p.spec?.hostname, 'j-3');
    assert.deepEqual(p.metadata?.finalizers, ['batch.kubernetes.io/job-tracking']);
    assert.equal(p.spec?.containers[0]?.env?.[0]?.name, 'JOB_COMPLETION_INDEX');
  });
});
