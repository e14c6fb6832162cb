import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultRouteInterface, goArch, nodeConditions, nodeResources, osImage } from './node-status.js';

const machine = {
  cpus: 4,
  memoryBytes: 8 * 1024 ** 3,
  ephemeralStorageBytes: 100 * 1024 ** 3,
  internalIP: '192.0.2.10',
  hostname: 'h',
  machineID: 'm',
  systemUUID: 's',
  bootID: 'b',
  kernelVersion: '6.1.0',
  osImage: 'Debian',
  architecture: 'amd64',
};

describe('node status', () => {
  it('finds the default route interface', () => {
    const table = [
      'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
      'eth1\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
      'eth0\t00000000\t0100A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0',
    ].join('\n');
    assert.equal(defaultRouteInterface(table), 'eth0');
    assert.equal(defaultRouteInterface('header only'), undefined);
  });

  it('reads PRETTY_NAME and maps the architecture', () => {
    assert.equal(
      osImage('NAME="Debian"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n'),
      'Debian GNU/Linux 12 (bookworm)',
    );
    assert.equal(goArch('x64'), 'amd64');
    assert.equal(goArch('arm64'), 'arm64');
  });

  it('computes capacity and allocatable', () => {
    const r = nodeResources(machine);
    assert.equal(r.capacity?.cpu, '4');
    assert.equal(r.capacity?.memory, '8388608Ki');
    assert.equal(r.allocatable?.memory, '8286208Ki');
    assert.equal(r.capacity?.pods, '110');
  });

  it('keeps transition times while a condition holds', () => {
    const first = nodeConditions(1_000_000, { ready: false, message: 'x' });
    const second = nodeConditions(2_000_000, { ready: false, message: 'x' }, first);
    const ready = second.find((c) => c.type === 'Ready');
    assert.equal(ready?.lastTransitionTime, first.find((c) => c.type === 'Ready')?.lastTransitionTime);
    assert.notEqual(ready?.lastHeartbeatTime, ready?.lastTransitionTime);
    const third = nodeConditions(3_000_000, { ready: true }, second);
    assert.equal(third.find((c) => c.type === 'Ready')?.lastTransitionTime, '1970-01-01T00:50:00Z');
    assert.equal(third.find((c) => c.type === 'Ready')?.reason, 'KubeletReady');
  });

  it("reports the eviction manager's pressure in the conditions with upstream reasons", () => {
    const now = Date.UTC(2024, 0, 1);
    const ok = nodeConditions(now, { ready: true });
    const pressed = nodeConditions(now + 5000, { ready: true }, ok, { memory: true, disk: true, pid: true });
    const by = (t: string) => pressed.find((c) => c.type === t);
    assert.equal(by('MemoryPressure')?.status, 'True');
    assert.equal(by('MemoryPressure')?.reason, 'KubeletHasInsufficientMemory');
    assert.equal(by('MemoryPressure')?.message, 'kubelet has insufficient memory available');
    assert.equal(by('DiskPressure')?.reason, 'KubeletHasDiskPressure');
    assert.equal(by('DiskPressure')?.message, 'kubelet has disk pressure');
    assert.equal(by('PIDPressure')?.reason, 'KubeletHasInsufficientPID');
    assert.equal(by('PIDPressure')?.message, 'kubelet has insufficient PID available');
    // A changed status is a transition; Ready kept its time.
    assert.equal(by('MemoryPressure')?.lastTransitionTime, '2024-01-01T00:00:05Z');
    assert.equal(by('Ready')?.lastTransitionTime, '2024-01-01T00:00:00Z');
  });
});
