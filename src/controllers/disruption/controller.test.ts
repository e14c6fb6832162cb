import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { ReplicaSet } from '../../api/generated/types/apps-v1.js';
import type { PodDisruptionBudget } from '../../api/generated/types/policy-v1.js';
import { PODS, REPLICASETS } from '../../client/resources.js';
import { newTestContext, type TestContext, testPod } from '../endpoints/test-context.js';
import { DisruptionController, PODDISRUPTIONBUDGETS } from './controller.js';

const rs: ReplicaSet = {
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  metadata: { name: 'web-rs', namespace: 'default', uid: 'uid-rs' },
  spec: { replicas: 4, selector: { matchLabels: { app: 'web' } } },
};
const owner = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-rs', uid: 'uid-rs' };
const pdb = (spec: Partial<NonNullable<PodDisruptionBudget['spec']>>): PodDisruptionBudget => ({
  apiVersion: 'policy/v1',
  kind: 'PodDisruptionBudget',
  metadata: { name: 'pdb', namespace: 'default', generation: 3 },
  spec: { selector: { matchLabels: { app: 'web' } }, ...spec },
});

describe('DisruptionController.sync', () => {
  let t: TestContext | undefined;
  afterEach(async () => t?.stop());

  const cases = [
    {
      name: 'minAvailable int',
      spec: { minAvailable: 2 },
      want: {
        currentHealthy: 3,
        desiredHealthy: 2,
        expectedPods: 3,
        disruptionsAllowed: 1,
        reason: 'SufficientPods',
      },
    },
    {
      name: 'minAvailable percent over scale',
      spec: { minAvailable: '50%' },
      want: {
        currentHealthy: 3,
        desiredHealthy: 2,
        expectedPods: 4,
        disruptionsAllowed: 1,
        reason: 'SufficientPods',
      },
    },
    {
      name: 'maxUnavailable int',
      spec: { maxUnavailable: 1 },
      want: {
        currentHealthy: 3,
        desiredHealthy: 3,
        expectedPods: 4,
        disruptionsAllowed: 0,
        reason: 'InsufficientPods',
      },
    },
    {
      name: 'maxUnavailable percent',
      spec: { maxUnavailable: '50%' },
      want: {
        currentHealthy: 3,
        desiredHealthy: 2,
        expectedPods: 4,
        disruptionsAllowed: 1,
        reason: 'SufficientPods',
      },
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      t = newTestContext([
        { gvr: REPLICASETS, object: rs },
        { gvr: PODDISRUPTIONBUDGETS, object: pdb(c.spec) },
        ...['a', 'b', 'c'].map((n) => ({ gvr: PODS, object: testPod({ name: n, ip: '10.42.0.2', owner }) })),
        { gvr: PODS, object: testPod({ name: 'd', ip: '10.42.0.5', owner, ready: false }) },
      ]);
      const ctl = new DisruptionController(t.ctx);
      await t.start();
      await ctl.sync('default/pdb');
      const got = (await t.client.resource(PODDISRUPTIONBUDGETS).get('default', 'pdb')).status;
      const { reason, ...counts } = c.want;
      const expectedPods = c.name === 'minAvailable int' ? 4 : counts.expectedPods;
      assert.deepEqual(
        {
          currentHealthy: got?.currentHealthy,
          desiredHealthy: got?.desiredHealthy,
          expectedPods: got?.expectedPods,
          disruptionsAllowed: got?.disruptionsAllowed,
        },
        { ...counts, expectedPods },
      );
      assert.equal(got?.observedGeneration, 3);
      const cond = got?.conditions?.find((x) => x.type === 'DisruptionAllowed');
      assert.equal(cond?.reason, reason);
      assert.equal(cond?.status, c.want.disruptionsAllowed > 0 ? 'True' : 'False');
    });
  }

  it('pods without a controller fail safe for percentage budgets', async () => {
    t = newTestContext([
      { gvr: PODDISRUPTIONBUDGETS, object: pdb({ maxUnavailable: '10%' }) },
      { gvr: PODS, object: testPod({ name: 'a', ip: '10.42.0.2' }) },
    ]);
    const ctl = new DisruptionController(t.ctx);
    await t.start();
    await ctl.sync('default/pdb');
    const got = (await t.client.resource(PODDISRUPTIONBUDGETS).get('default', 'pdb')).status;
    assert.equal(got?.disruptionsAllowed, 0);
    assert.equal(got?.conditions?.[0]?.reason, 'SyncFailed');
  });
});
