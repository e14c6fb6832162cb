import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '../api/generated/types/core-v1.js';
import { pullPolicyOf, validImageName } from './container-lifecycle.js';
import { ephemeralToStart, targetContainerId } from './ephemeral-containers.js';
import {
  containerRef,
  formatPod,
  goDuration,
  nodeRef,
  probeFailedMessage,
  pulledMessage,
} from './kubelet-events.js';
import { conditionEvents, existingAncestor } from './node-status.js';
import type { ContainerStatus } from './runtime/runtime.js';

const pod: Pod = {
  metadata: { name: 'p', namespace: 'ns', uid: 'u1', resourceVersion: '7' },
  spec: {
    initContainers: [{ name: 'init' }],
    containers: [{ name: 'app' }],
    ephemeralContainers: [{ name: 'dbg', targetContainerName: 'app' }, { name: 'dbg2' }],
  },
};

function cri(name: string, state: ContainerStatus['state'], id = name): ContainerStatus {
  return { id, metadata: { name, attempt: 0 }, state } as ContainerStatus;
}

describe('kubelet events', () => {
  it('formats durations as Go does', () => {
    const cases: [number, string][] = [
      [0, '0s'],
      [523, '523ms'],
      [1000, '1s'],
      [1200, '1.2s'],
      [1234, '1.234s'],
      [61_005, '1m1.005s'],
      [3_723_000, '1h2m3s'],
    ];
    for (const [ms, want] of cases) assert.equal(goDuration(ms), want, String(ms));
  });

  it('builds upstream messages', () => {
    assert.equal(
      pulledMessage('busybox', 1200, 1200, 42),
      'Successfully pulled image "busybox" in 1.2s (1.2s including waiting). Image size: 42 bytes.',
    );
    assert.equal(probeFailedMessage('liveness', 'boom'), 'Liveness probe failed: boom');
    assert.equal(formatPod(pod), 'p_ns(u1)');
  });

  it('references containers by their spec list', () => {
    const cases: [string, string][] = [
      ['app', 'spec.containers{app}'],
      ['init', 'spec.initContainers{init}'],
      ['dbg', 'spec.ephemeralContainers{dbg}'],
    ];
    for (const [name, path] of cases) {
      const ref = containerRef(pod, name);
      assert.equal(ref.fieldPath, path);
      assert.equal(ref.kind, 'Pod');
      assert.equal(ref.uid, 'u1');
    }
    assert.deepEqual(nodeRef('n1'), { kind: 'Node', name: 'n1', uid: 'n1' });
  });

  it('records condition events on appearance and transitions', () => {
    const c = (type: string, status: string) => ({ type, status });
    const fresh = [
      c('MemoryPressure', 'False'),
      c('DiskPressure', 'False'),
      c('PIDPressure', 'False'),
      c('Ready', 'True'),
    ];
    assert.deepEqual(conditionEvents([], fresh), [
      'NodeHasSufficientMemory',
      'NodeHasNoDiskPressure',
      'NodeHasSufficientPID',
      'NodeReady',
    ]);
    assert.deepEqual(conditionEvents(fresh, fresh), []);
    assert.deepEqual(conditionEvents([], [c('Ready', 'False')]), []);
    assert.deepEqual(conditionEvents(fresh, [c('Ready', 'False'), c('MemoryPressure', 'True')]), [
      'NodeNotReady',
      'NodeHasInsufficientMemory',
    ]);
  });

  it('finds the filesystem of a data dir not created yet', () => {
    assert.equal(existingAncestor('/tmp/kts-no-such-dir/a/b'), '/tmp');
    assert.equal(existingAncestor('/'), '/');
  });
});

describe('image names and pull policy', () => {
  it('validates references', () => {
    for (const ok of ['busybox', 'busybox:1.36', 'kts.local/busybox:latest', 'localhost:5000/a/b@sha256:abc'])
      assert.ok(validImageName(ok), ok);
    for (const bad of ['Busybox', 'busy box', 'a//b', '']) assert.ok(!validImageName(bad), bad);
  });

  it('defaults the pull policy from the tag', () => {
    assert.equal(pullPolicyOf({ image: 'busybox' }), 'Always');
    assert.equal(pullPolicyOf({ image: 'busybox:latest' }), 'Always');
    assert.equal(pullPolicyOf({ image: 'busybox:1.36' }), 'IfNotPresent');
    assert.equal(pullPolicyOf({ image: 'localhost:5000/busybox' }), 'Always');
    assert.equal(pullPolicyOf({ image: 'busybox', imagePullPolicy: 'Never' }), 'Never');
  });
});

describe('ephemeral containers', () => {
  it('starts only those never run, and finds a running target', () => {
    const running = [cri('app', 'CONTAINER_RUNNING', 'c-app'), cri('dbg', 'CONTAINER_EXITED')];
    assert.deepEqual(
      ephemeralToStart(pod, running).map((c) => c.name),
      ['dbg2'],
    );
    assert.equal(targetContainerId({ name: 'dbg', targetContainerName: 'app' }, running), 'c-app');
    assert.equal(targetContainerId({ name: 'dbg2' }, running), undefined);
    assert.equal(
      targetContainerId({ name: 'x', targetContainerName: 'app' }, [cri('app', 'CONTAINER_EXITED')]),
      undefined,
    );
  });
});
