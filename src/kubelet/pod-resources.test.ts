import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Container, Pod } from '../api/generated/types/core-v1.js';
import {
  containerOOMScoreAdjust,
  containerResources,
  milliCPUToQuota,
  milliCPUToShares,
  podCgroupLimits,
  podCgroupPath,
  qosCgroup,
} from './pod-resources.js';

function pod(containers: Container[], qosClass?: string, init: Container[] = []): Pod {
  return {
    metadata: { name: 'p', namespace: 'default', uid: 'u1' },
    spec: { containers, ...(init.length > 0 ? { initContainers: init } : {}) },
    ...(qosClass !== undefined ? { status: { qosClass } } : {}),
  };
}

function c(name: string, requests?: Record<string, string>, limits?: Record<string, string>): Container {
  return {
    name,
    image: 'busybox',
    resources: { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) },
  };
}

describe('pod resources', () => {
  it('converts millicores to cpu shares and CFS quota as upstream', () => {
    const shares: [number, number][] = [
      [0, 2],
      [1, 2],
      [10, 10],
      [100, 102],
      [250, 256],
      [1000, 1024],
      [1_000_000, 262144],
    ];
    for (const [m, want] of shares) assert.equal(milliCPUToShares(m), want, `shares of ${m}m`);
    const quotas: [number, number][] = [
      [0, 0],
      [5, 1000],
      [10, 1000],
      [250, 25000],
      [1500, 150000],
    ];
    for (const [m, want] of quotas) assert.equal(milliCPUToQuota(m), want, `quota of ${m}m`);
  });

  it('computes a container CRI resources from requests and limits', () => {
    const p = pod([c('a', { cpu: '250m', memory: '64Mi' }, { cpu: '500m', memory: '128Mi' })], 'Burstable');
    const r = containerResources(p, p.spec?.containers[0] as Container, 1024 * 1024 * 1024);
    assert.deepEqual(r, {
      cpuShares: 256,
      cpuPeriod: 100000,
      cpuQuota: 50000,
      memoryLimitInBytes: 128 * 1024 * 1024,
      oomScoreAdj: 938,
    });
    const be = pod([c('b')], 'BestEffort');
    assert.deepEqual(containerResources(be, be.spec?.containers[0] as Container), {
      cpuShares: 2,
      oomScoreAdj: 1000,
    });
    // A limit without a request: the limit is the request.
    const lim = pod([c('l', undefined, { cpu: '1', memory: '1Gi' })], 'Guaranteed');
    const lr = containerResources(lim, lim.spec?.containers[0] as Container);
    assert.equal(lr.cpuShares, 1024);
    assert.equal(lr.oomScoreAdj, -997);
  });

  it('keeps Burstable OOM scores between Guaranteed and BestEffort', () => {
    const cap = 1000;
    const big = pod([c('x', { memory: '2000' })], 'Burstable');
    assert.equal(containerOOMScoreAdjust(big, big.spec?.containers[0] as Container, cap), 3);
    const none = pod([c('y', { cpu: '1' })], 'Burstable');
    assert.equal(containerOOMScoreAdjust(none, none.spec?.containers[0] as Container, cap), 999);
  });

  it('computes pod cgroup limits per QoS class (upstream ResourceConfigForPod)', () => {
    const g = pod(
      [
        c('a', { cpu: '1', memory: '1Gi' }, { cpu: '1', memory: '1Gi' }),
        c('b', { cpu: '500m', memory: '1Gi' }, { cpu: '500m', memory: '1Gi' }),
      ],
      'Guaranteed',
    );
    assert.deepEqual(podCgroupLimits(g, 1024), {
      cpuShares: 1536,
      cpuPeriod: 100000,
      cpuQuota: 150000,
      memoryLimitInBytes: 2 * 1024 ** 3,
      pidsLimit: 1024,
    });
    // One container without limits makes the pod unlimited.
    const b = pod(
      [c('a', { cpu: '100m' }, { cpu: '200m', memory: '10Mi' }), c('b', { cpu: '100m' })],
      'Burstable',
    );
    assert.deepEqual(podCgroupLimits(b), { cpuShares: 204 });
    assert.deepEqual(podCgroupLimits(pod([c('a')], 'BestEffort')), { cpuShares: 2 });
    // A big init container dominates the requests.
    const i = pod([c('a', { cpu: '100m' })], 'Burstable', [c('init', { cpu: '2' })]);
    assert.equal(podCgroupLimits(i).cpuShares, 2048);
  });

  it('places pod cgroups under the QoS cgroups as the cgroupfs driver names them', () => {
    assert.equal(qosCgroup('/kubepods', 'Guaranteed'), '/kubepods');
    assert.equal(qosCgroup('/kubepods/', 'Burstable'), '/kubepods/burstable');
    assert.equal(qosCgroup('/kubepods', 'BestEffort'), '/kubepods/besteffort');
    assert.equal(podCgroupPath('/kubepods', pod([c('a')], 'BestEffort')), '/kubepods/besteffort/podu1');
    // Without a recorded class it is computed from the spec.
    assert.equal(
      podCgroupPath('/kubepods', pod([c('a', { cpu: '1', memory: '1Gi' }, { cpu: '1', memory: '1Gi' })])),
      '/kubepods/podu1',
    );
  });
});
