import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { NODES, PODS } from '../../client/resources.js';
import { newTestContext, type TestContext, testPod } from '../endpoints/test-context.js';
import { PodGCController, QUARANTINE_MS } from './controller.js';

describe('PodGCController', () => {
  let t: TestContext | undefined;
  afterEach(async () => t?.stop());

  it('deletes oldest terminated pods over threshold, orphans after quarantine, unscheduled terminating', async () => {
    t = newTestContext(
      [
        { gvr: NODES, object: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } } },
        ...[1, 2, 3].map((i) => ({
          gvr: PODS,
          object: testPod({
            name: `done${i}`,
            node: 'n1',
            phase: 'Succeeded',
            creationTimestamp: `2024-01-0${i}T00:00:00Z`,
          }),
        })),
        { gvr: PODS, object: testPod({ name: 'orphan', ip: '10.42.0.2', node: 'gone' }) },
        { gvr: PODS, object: testPod({ name: 'live', ip: '10.42.0.3', node: 'n1' }) },
        { gvr: PODS, object: testPod({ name: 'pending-del', deleting: true }) },
      ],
      { terminatedPodGCThreshold: 2 },
    );
    const c = new PodGCController(t.ctx);
    await t.start();
    await c.gc();
    const names = async () =>
      (await t?.client.resource(PODS).list('default'))?.items.map((p) => p.metadata?.name).sort();
    assert.deepEqual(await names(), ['done2', 'done3', 'live', 'orphan']);
    t.clock.step(QUARANTINE_MS);
    await t.settle();
    await c.gc();
    assert.deepEqual(await names(), ['done2', 'done3', 'live']);
    // Both pods no kubelet will finish were marked Failed first; the orphan also says why.
    const statusPatches = t.client
      .actions()
      .filter((a) => a.verb === 'patch' && a.subresource === 'status')
      .map((a) => ({ name: a.name, body: a.object }));
    assert.deepEqual(statusPatches, [
      {
        name: 'pending-del',
        body: { metadata: { uid: 'uid-pending-del' }, status: { phase: 'Failed' } },
      },
      {
        name: 'orphan',
        body: {
          metadata: { uid: 'uid-orphan' },
          status: {
            phase: 'Failed',
            conditions: [
              {
                type: 'DisruptionTarget',
                status: 'True',
                reason: 'DeletionByPodGC',
                message: 'PodGC: node no longer exists',
                lastTransitionTime: '2024-01-02T03:04:45Z',
              },
            ],
          },
        },
      },
    ]);
  });
});
