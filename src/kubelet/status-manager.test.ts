import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerStatus, Pod } from '../api/generated/types/core-v1.js';
import type { ContainerStatus as CriContainerStatus } from './runtime/runtime.js';
import { computePodStatus, mergeStatus, podPhase } from './status-manager.js';

const running: ContainerStatus = {
  name: 'c',
  image: 'i',
  imageID: '',
  ready: true,
  restartCount: 0,
  state: { running: {} },
};
const exited = (code: number): ContainerStatus => ({
  ...running,
  ready: false,
  state: { terminated: { exitCode: code } },
});
const waiting: ContainerStatus = {
  ...running,
  ready: false,
  state: { waiting: { reason: 'ContainerCreating' } },
};
const backoff: ContainerStatus = { ...waiting, lastState: { terminated: { exitCode: 1 } } };

function pod(restartPolicy: string, init = false): Pod {
  return {
    spec: {
      restartPolicy,
      containers: [{ name: 'c' }],
      ...(init ? { initContainers: [{ name: 'i' }] } : {}),
    },
  };
}

describe('podPhase', () => {
  const cases: [string, Pod, ContainerStatus[], ContainerStatus[], string][] = [
    ['waiting → Pending', pod('Always'), [], [waiting], 'Pending'],
    ['running → Running', pod('Always'), [], [running], 'Running'],
    ['crash-looping → Running', pod('Always'), [], [backoff], 'Running'],
    ['Never, exit 0 → Succeeded', pod('Never'), [], [exited(0)], 'Succeeded'],
    ['Never, exit 1 → Failed', pod('Never'), [], [exited(1)], 'Failed'],
    ['OnFailure, exit 1 → Running', pod('OnFailure'), [], [exited(1)], 'Running'],
    ['Always, exit 0 → Running', pod('Always'), [], [exited(0)], 'Running'],
    ['init running → Pending', pod('Always', true), [{ ...running, name: 'i' }], [waiting], 'Pending'],
    ['init failed, Never → Failed', pod('Never', true), [{ ...exited(1), name: 'i' }], [waiting], 'Failed'],
  ];
  for (const [name, p, init, main, want] of cases)
    it(name, () => assert.equal(podPhase(p, init, main, false), want));
});

describe('mergeStatus', () => {
  it('keeps qosClass, startTime, unchanged transition times and foreign conditions', () => {
    const old = {
      qosClass: 'BestEffort',
      startTime: '2024-01-01T00:00:00Z',
      conditions: [
        { type: 'Ready', status: 'True', lastTransitionTime: '2024-01-01T00:00:01Z' },
        { type: 'DisruptionTarget', status: 'True' },
      ],
    };
    const next = {
      phase: 'Running',
      conditions: [
        { type: 'Ready', status: 'True' },
        { type: 'Initialized', status: 'True' },
      ],
    };
    const m = mergeStatus(old, next, Date.parse('2024-02-02T00:00:00Z'));
    assert.equal(m.qosClass, 'BestEffort');
    assert.equal(m.startTime, '2024-01-01T00:00:00Z');
    assert.equal(m.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime, '2024-01-01T00:00:01Z');
    assert.equal(
      m.conditions?.find((c) => c.type === 'Initialized')?.lastTransitionTime,
      '2024-02-02T00:00:00Z',
    );
    assert.ok(m.conditions?.some((c) => c.type === 'DisruptionTarget'));
  });
});

describe('computePodStatus', () => {
  it('reports a running ephemeral container not ready and without started, as upstream', () => {
    const cri = (name: string): CriContainerStatus => ({
      id: `id-${name}`,
      metadata: { name, attempt: 0 },
      state: 'CONTAINER_RUNNING',
      createdAt: 1n,
      startedAt: 1_000_000n,
      finishedAt: 0n,
      exitCode: 0,
      image: 'busybox',
      imageRef: 'sha256:x',
      reason: '',
      message: '',
      labels: {},
      annotations: {},
      mounts: [],
      logPath: '',
    });
    const status = computePodStatus({
      pod: {
        spec: {
          containers: [{ name: 'c', image: 'busybox' }],
          ephemeralContainers: [{ name: 'debugger', image: 'busybox' }],
        },
      },
      sandboxes: [],
      containers: [cri('c'), cri('debugger')],
      waiting: new Map(),
      hostIP: '10.0.0.1',
      podIPs: [],
      ready: () => true,
      started: () => true,
      runtimeScheme: 'containerd',
      now: 0,
    });
    assert.equal(status.containerStatuses?.[0]?.ready, true);
    const eph = status.ephemeralContainerStatuses?.[0];
    assert.equal(eph?.ready, false);
    assert.equal(eph?.started, undefined);
    assert.ok(eph?.state?.running !== undefined);
  });
});
