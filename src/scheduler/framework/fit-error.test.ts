import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fitErrorMessage, NodeStatusMap } from './fit-error.js';
import { Code, Status } from './status.js';

describe('fitErrorMessage', () => {
  it('counts reasons per node and sorts the histogram as strings', () => {
    const m = new NodeStatusMap();
    m.set(
      'cp',
      new Status(Code.UnschedulableAndUnresolvable, [
        'node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }',
      ]),
    );
    m.set('w1', new Status(Code.Unschedulable, ['Insufficient cpu']));
    m.set('w2', new Status(Code.Unschedulable, ['Insufficient cpu']));
    const pre = new NodeStatusMap();
    pre.absentStatus = new Status(Code.UnschedulableAndUnresolvable, [
      'Preemption is not helpful for scheduling',
    ]);
    const post = `preemption: ${fitErrorMessage(3, { nodeToStatus: pre, preFilterMsg: '', postFilterMsg: '' })}`;
    assert.equal(
      fitErrorMessage(3, { nodeToStatus: m, preFilterMsg: '', postFilterMsg: post }),
      '0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.',
    );
  });

  it('uses the PreFilter message alone when PreFilter failed', () => {
    const m = new NodeStatusMap();
    m.absentStatus = new Status(Code.UnschedulableAndUnresolvable, [
      'pod has unbound immediate PersistentVolumeClaims',
    ]);
    assert.equal(
      fitErrorMessage(4, {
        nodeToStatus: m,
        preFilterMsg: 'pod has unbound immediate PersistentVolumeClaims',
        postFilterMsg: '',
      }),
      '0/4 nodes are available: pod has unbound immediate PersistentVolumeClaims.',
    );
  });

  it('counts several reasons of one node separately', () => {
    const m = new NodeStatusMap();
    m.set('a', new Status(Code.Unschedulable, ['Insufficient cpu', 'Insufficient memory']));
    m.set('b', new Status(Code.Unschedulable, ['Insufficient memory']));
    assert.equal(
      fitErrorMessage(2, { nodeToStatus: m, preFilterMsg: '', postFilterMsg: '' }),
      '0/2 nodes are available: 1 Insufficient cpu, 2 Insufficient memory.',
    );
  });
});
