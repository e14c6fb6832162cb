import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '../../api/generated/types/core-v1.js';
import { ManualClock } from '../clock.js';
import { type ClusterEvent, eventMatches, Events } from '../framework/events.js';
import type { QueuedPodInfo } from '../framework/interfaces.js';
import { Code, newStatus } from '../framework/status.js';
import { PrioritySort } from '../plugins/priority-sort/priority-sort.js';
import { makePod } from '../testing.js';
import { Nominator } from './nominator.js';
import { SchedulingQueue } from './scheduling-queue.js';

const registered: Record<string, ClusterEvent[]> = {
  NodeResourcesFit: [
    { resource: 'AssignedPod', actionType: 2 },
    { resource: 'Node', actionType: 1 },
  ],
  TaintToleration: [{ resource: 'Node', actionType: 1 }],
};

function newQueue(clock = new ManualClock()): { q: SchedulingQueue; clock: ManualClock } {
  const sort = new PrioritySort();
  const q = new SchedulingQueue({
    clock,
    less: (a, b) => sort.less(a, b),
    preEnqueue: (pod: Pod) =>
      (pod.spec?.schedulingGates ?? []).length > 0
        ? newStatus(Code.UnschedulableAndUnresolvable, 'gated').withPlugin('SchedulingGates')
        : null,
    podMatchesEvent: (qpi: QueuedPodInfo, ev: ClusterEvent) =>
      qpi.unschedulablePlugins.size === 0 ||
      [...qpi.unschedulablePlugins].some((p) => (registered[p] ?? []).some((r) => eventMatches(r, ev))),
    nominator: new Nominator(),
  });
  return { q, clock };
}

function failWith(q: SchedulingQueue, qpi: QueuedPodInfo, plugins: string[]): void {
  qpi.unschedulablePlugins = new Set(plugins);
  q.addUnschedulableIfNotPresent(qpi, q.schedulingCycle);
}

describe('SchedulingQueue', () => {
  it('pops by priority, then by arrival', async () => {
    const { q, clock } = newQueue();
    q.add(makePod('low', { priority: 1 }));
    clock.advance(1);
    q.add(makePod('high', { priority: 100 }));
    clock.advance(1);
    q.add(makePod('low2', { priority: 1 }));
    const names: string[] = [];
    for (let i = 0; i < 3; i++) names.push((await q.pop())?.podInfo.pod.metadata?.name ?? '');
    assert.deepEqual(names, ['high', 'low', 'low2']);
  });

  it('pop waits for a pod and close releases waiters', async () => {
    const { q } = newQueue();
    const waiting = q.pop();
    q.add(makePod('p'));
    assert.equal((await waiting)?.podInfo.pod.metadata?.name, 'p');
    const blocked = q.pop();
    q.close();
    assert.equal(await blocked, undefined);
  });

  it('backoff doubles from 1s to the 10s cap', () => {
    const { q } = newQueue();
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((a) => q.backoffDuration(a)),
      [1000, 2000, 4000, 8000, 10000, 10000],
    );
  });

  it('unschedulable pods move only on events their plugins registered', () => {
    const { q, clock } = newQueue();
    const pod = makePod('p');
    q.add(pod);
    const qpi = q.tryPop() as QueuedPodInfo;
    failWith(q, qpi, ['TaintToleration']);
    assert.equal(q.location(pod), 'unschedulable');
    q.moveAllToActiveOrBackoffQueue(Events.AssignedPodDelete);
    assert.equal(q.location(pod), 'unschedulable');
    q.moveAllToActiveOrBackoffQueue(Events.NodeAdd);
    assert.equal(q.location(pod), 'backoff', 'still backing off after 1 attempt');
    clock.advance(999);
    q.flushBackoffQCompleted();
    assert.equal(q.location(pod), 'backoff');
    clock.advance(1);
    q.flushBackoffQCompleted();
    assert.equal(q.location(pod), 'active');
  });

  it('an event during the scheduling cycle sends the failed pod to backoffQ', () => {
    const { q } = newQueue();
    const pod = makePod('p');
    q.add(pod);
    const qpi = q.tryPop() as QueuedPodInfo;
    const cycle = q.schedulingCycle;
    q.moveAllToActiveOrBackoffQueue(Events.NodeAdd);
    qpi.unschedulablePlugins = new Set(['NodeResourcesFit']);
    q.addUnschedulableIfNotPresent(qpi, cycle);
    assert.equal(q.location(pod), 'backoff');
  });

  it('pods left unschedulable for 5 minutes are retried', () => {
    const { q, clock } = newQueue();
    const pod = makePod('p');
    q.add(pod);
    failWith(q, q.tryPop() as QueuedPodInfo, ['TaintToleration']);
    clock.advance(5 * 60 * 1000 + 1);
    q.flushUnschedulablePodsLeftover();
    assert.equal(q.location(pod), 'active');
  });

  it('scheduling gates keep a pod out of activeQ until an update removes them', () => {
    const { q } = newQueue();
    const gated = makePod('g', { spec: { schedulingGates: [{ name: 'wait' }] } });
    q.add(gated);
    assert.equal(q.location(gated), 'unschedulable');
    q.moveAllToActiveOrBackoffQueue(Events.NodeAdd);
    assert.equal(q.location(gated), 'unschedulable');
    const ungated: Pod = { ...gated, spec: { ...(gated.spec ?? { containers: [] }), schedulingGates: [] } };
    q.update(gated, ungated);
    assert.equal(q.location(ungated), 'active');
  });

  it('activate and delete', () => {
    const { q } = newQueue();
    const pod = makePod('p');
    q.add(pod);
    failWith(q, q.tryPop() as QueuedPodInfo, ['TaintToleration']);
    q.activate([pod]);
    assert.equal(q.location(pod), 'active');
    q.delete(pod);
    assert.equal(q.location(pod), undefined);
  });
});
