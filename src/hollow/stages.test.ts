import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '../api/generated/types/core-v1.js';
import {
  DEFAULT_POD_STAGES,
  matchStage,
  type Stage,
  stageDelayMs,
  validateStages,
  valuesAt,
} from './stages.js';

const base = (extra: {
  meta?: Pod['metadata'];
  spec?: Partial<NonNullable<Pod['spec']>>;
  phase?: string;
}): Pod => ({
  metadata: { name: 'p', namespace: 'ns', uid: 'u1', ...extra.meta },
  spec: { nodeName: 'n', containers: [{ name: 'c', image: 'i' }], ...extra.spec },
  ...(extra.phase !== undefined ? { status: { phase: extra.phase } } : {}),
});

const jobOwner = [{ apiVersion: 'batch/v1', kind: 'Job', name: 'j', uid: 'j1', controller: true }];
const rsOwner = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'r', uid: 'r1', controller: true }];

describe('default pod stages', () => {
  const cases: Array<{ name: string; pod: Pod; stage: string | undefined }> = [
    { name: 'new pod without status', pod: base({}), stage: 'pod-ready' },
    { name: 'pending pod', pod: base({ phase: 'Pending' }), stage: 'pod-ready' },
    {
      name: 'running long-lived pod',
      pod: base({ phase: 'Running', meta: { ownerReferences: rsOwner } }),
      stage: undefined,
    },
    {
      name: 'running Job pod',
      pod: base({ phase: 'Running', meta: { ownerReferences: jobOwner } }),
      stage: 'pod-complete-job',
    },
    {
      name: 'running restartPolicy Never',
      pod: base({ phase: 'Running', spec: { restartPolicy: 'Never' } }),
      stage: 'pod-complete',
    },
    {
      name: 'running restartPolicy OnFailure',
      pod: base({ phase: 'Running', spec: { restartPolicy: 'OnFailure' } }),
      stage: 'pod-complete',
    },
    {
      name: 'running restartPolicy Always',
      pod: base({ phase: 'Running', spec: { restartPolicy: 'Always' } }),
      stage: undefined,
    },
    {
      name: 'succeeded Job pod',
      pod: base({ phase: 'Succeeded', meta: { ownerReferences: jobOwner } }),
      stage: undefined,
    },
    { name: 'failed pod', pod: base({ phase: 'Failed' }), stage: undefined },
    {
      name: 'terminating running pod',
      pod: base({
        phase: 'Running',
        meta: { deletionTimestamp: '2024-01-01T00:00:00Z', deletionGracePeriodSeconds: 30 },
      }),
      stage: 'pod-delete',
    },
    {
      name: 'terminating pending pod',
      pod: base({ meta: { deletionTimestamp: '2024-01-01T00:00:00Z' } }),
      stage: 'pod-delete',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(matchStage(c.pod, DEFAULT_POD_STAGES)?.name, c.stage);
    });
  }

  it('is a valid table', () => {
    assert.deepEqual(validateStages(DEFAULT_POD_STAGES), []);
  });
});

describe('stage delays', () => {
  const opts = { jobCompletionDelayMs: 700, deletionDelayMs: 1000 };
  const del = DEFAULT_POD_STAGES[0] as Stage;
  const cases: Array<{ name: string; stage: Stage; pod: Pod; ms: number }> = [
    { name: 'no delay', stage: DEFAULT_POD_STAGES[1] as Stage, pod: base({}), ms: 0 },
    { name: 'job completion option', stage: DEFAULT_POD_STAGES[2] as Stage, pod: base({}), ms: 700 },
    {
      name: 'grace above the cap',
      stage: del,
      pod: base({ meta: { deletionGracePeriodSeconds: 30 } }),
      ms: 1000,
    },
    {
      name: 'grace below the cap',
      stage: del,
      pod: base({ meta: { deletionGracePeriodSeconds: 0 } }),
      ms: 0,
    },
    { name: 'no grace recorded', stage: del, pod: base({}), ms: 1000 },
    {
      name: 'fixed duration',
      stage: {
        name: 'x',
        selector: { matchExpressions: [] },
        delay: { durationMs: 42 },
        next: { delete: true },
      },
      pod: base({}),
      ms: 42,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(stageDelayMs(c.stage, c.pod, opts), c.ms);
    });
  }
});

describe('stage selectors', () => {
  it('fans out through lists', () => {
    const obj = { metadata: { ownerReferences: [{ kind: 'A' }, { kind: 'Job' }] } };
    assert.deepEqual(valuesAt(obj, '.metadata.ownerReferences.kind'), ['A', 'Job']);
    assert.deepEqual(valuesAt(obj, '.metadata.ownerReferences.[].kind'), ['A', 'Job']);
    assert.deepEqual(valuesAt(obj, '.metadata.labels.x'), []);
    assert.deepEqual(valuesAt({ a: null }, '.a'), []);
  });

  it('reports mistakes in a table', () => {
    const bad: Stage[] = [
      { name: 's', selector: { matchExpressions: [{ key: 'status', operator: 'In' }] }, next: {} },
      { name: 's', selector: { matchExpressions: [] }, next: { delete: true } },
    ];
    assert.deepEqual(
      validateStages(bad),
      [
        's: next must set statusTemplate or delete',
        's: key status must start with "."',
        's: In on status needs values',
        's: duplicate name',
      ].map((m) => `stage ${m}`),
    );
  });
});
