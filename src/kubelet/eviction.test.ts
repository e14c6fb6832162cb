import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Container, Pod, Volume } from '../api/generated/types/core-v1.js';
import { noopLogger } from '../client/log.js';
import { FakeClock } from '../client/testing/fake-clock.js';
import {
  DEFAULT_EVICTION_HARD,
  EvictionManager,
  evictionMessage,
  localStorageViolation,
  parseEvictionFlags,
  parseThresholds,
  rankForEviction,
  thresholdsMet,
} from './eviction.js';
import type { NodeObservations, PodUsage, StatsProvider } from './node-stats.js';

const Mi = 1024 * 1024;

function pod(
  name: string,
  opts: {
    priority?: number;
    requests?: Record<string, string>;
    limits?: Record<string, string>;
    volumes?: Volume[];
    static?: boolean;
  } = {},
): Pod {
  const c: Container = {
    name: 'c',
    image: 'i',
    resources: {
      ...(opts.requests ? { requests: opts.requests } : {}),
      ...(opts.limits ? { limits: opts.limits } : {}),
    },
  };
  return {
    metadata: {
      name,
      namespace: 'default',
      uid: name,
      ...(opts.static ? { annotations: { 'kubernetes.io/config.source': 'file' } } : {}),
    },
    spec: {
      containers: [c],
      ...(opts.priority !== undefined ? { priority: opts.priority } : {}),
      ...(opts.volumes ? { volumes: opts.volumes } : {}),
    },
    status: { phase: 'Running' },
  };
}

function usage(uid: string, memory: number, disk = 0, volumes: [string, number][] = []): PodUsage {
  return {
    uid,
    containers: [{ name: 'c', memoryWorkingSetBytes: memory, rootfsBytes: disk, logsBytes: 0 }],
    volumes: new Map(volumes),
  };
}

class FakeStats implements StatsProvider {
  obs: NodeObservations = {};
  usage = new Map<string, PodUsage>();
  async node(): Promise<NodeObservations> {
    return this.obs;
  }
  async pods(): Promise<Map<string, PodUsage>> {
    return this.usage;
  }
}

describe('eviction', () => {
  it('parses thresholds like --eviction-hard', () => {
    const t = parseThresholds(DEFAULT_EVICTION_HARD);
    assert.deepEqual(
      t.map((x) => x.signal),
      ['memory.available', 'nodefs.available', 'nodefs.inodesFree', 'imagefs.available'],
    );
    assert.equal(t[0]?.quantity?.toString(), '100Mi');
    assert.equal(t[1]?.percentage, 0.1);
    assert.deepEqual(parseThresholds(''), []);
    assert.throws(() => parseThresholds('memory.available>1Gi'), /invalid eviction threshold syntax/);
    assert.throws(() => parseThresholds('cpu.available<1'), /unsupported eviction signal cpu.available/);
    assert.throws(() => parseThresholds('memory.available<1Mi,memory.available<2Mi'), /duplicate/);
    assert.throws(() => parseThresholds('nodefs.available<120%'), /invalid percentage/);
  });

  it('finds the thresholds met (strictly below)', () => {
    const t = parseThresholds('memory.available<100Mi,nodefs.available<10%');
    const names = (o: NodeObservations): string[] => thresholdsMet(t, o).map((m) => m.threshold.signal);
    assert.deepEqual(names({ memory: { available: 100 * Mi, capacity: 1000 * Mi } }), []);
    assert.deepEqual(names({ memory: { available: 99 * Mi, capacity: 1000 * Mi } }), ['memory.available']);
    assert.deepEqual(names({ nodefs: { available: 9, capacity: 100 } }), ['nodefs.available']);
    assert.deepEqual(names({}), []);
  });

  it('ranks: over requests first, then lower priority, then usage above requests', () => {
    const a = pod('a', { requests: { memory: '100Mi' } }); // within request
    const b = pod('b', { priority: 10 }); // over (no request), high priority
    const c = pod('c'); // over, priority 0, small
    const d = pod('d'); // over, priority 0, large
    const u = new Map([
      ['a', usage('a', 50 * Mi)],
      ['b', usage('b', 500 * Mi)],
      ['c', usage('c', 10 * Mi)],
      ['d', usage('d', 30 * Mi)],
    ]);
    assert.deepEqual(
      rankForEviction('memory.available', [a, b, c, d], u).map((p) => p.metadata?.name),
      ['d', 'c', 'b', 'a'],
    );
  });

  it('words the eviction message as upstream', () => {
    const [t] = parseThresholds('memory.available<100Mi');
    assert.ok(t !== undefined);
    const p = pod('x', { requests: { memory: '10Mi' } });
    const msg = evictionMessage(
      { threshold: t, observed: { available: 50 * Mi, capacity: 1024 * Mi } },
      p,
      usage('x', 60 * Mi),
    );
    assert.equal(
      msg,
      'The node was low on resource: memory. Threshold quantity: 100Mi, available: 50Mi. Container c was using 60Mi, request is 10Mi, has larger consumption of memory. ',
    );
    const noReq = evictionMessage(
      { threshold: t, observed: { available: 51200 * 1024, capacity: 1024 * Mi } },
      pod('y'),
      usage('y', 1024),
    );
    assert.equal(
      noReq,
      'The node was low on resource: memory. Threshold quantity: 100Mi, available: 50Mi. Container c was using 1Ki, request is 0, has larger consumption of memory. ',
    );
    const [pct] = parseThresholds('nodefs.available<10%');
    assert.ok(pct !== undefined);
    assert.equal(
      evictionMessage(
        { threshold: pct, observed: { available: 5 * Mi, capacity: 100 * Mi } },
        pod('z'),
        undefined,
      ),
      'The node was low on resource: ephemeral-storage. Threshold quantity: 10Mi, available: 5Mi. ',
    );
  });

  it('finds local storage violations: emptyDir sizeLimit, pod total, container limit', () => {
    const withDir = pod('e', { volumes: [{ name: 'scratch', emptyDir: { sizeLimit: '1Mi' } }] });
    assert.equal(
      localStorageViolation(withDir, usage('e', 0, 0, [['scratch', 2 * Mi]])),
      'Usage of EmptyDir volume "scratch" exceeds the limit "1Mi". ',
    );
    assert.equal(localStorageViolation(withDir, usage('e', 0, 0, [['scratch', Mi]])), undefined);
    const limited = pod('l', { limits: { 'ephemeral-storage': '2Mi' } });
    assert.equal(
      localStorageViolation(limited, usage('l', 0, 3 * Mi)),
      'Pod ephemeral local storage usage exceeds the total limit of containers 2Mi. ',
    );
    assert.equal(localStorageViolation(limited, usage('l', 0, Mi)), undefined);
    // One container limited, another not: only the container's own limit applies.
    const two: Pod = {
      metadata: { name: 't', uid: 't' },
      spec: {
        containers: [{ name: 'c', resources: { limits: { 'ephemeral-storage': '1Mi' } } }, { name: 'd' }],
      },
    };
    const u: PodUsage = {
      uid: 't',
      containers: [
        { name: 'c', rootfsBytes: Mi, logsBytes: 1 },
        { name: 'd', rootfsBytes: 50 * Mi },
      ],
      volumes: new Map(),
    };
    assert.equal(
      localStorageViolation(two, u),
      'Container c exceeded its local ephemeral storage limit "1Mi". ',
    );
  });

  it('evicts one ranked pod per pass, never critical ones, and reports pressure', async () => {
    const clock = new FakeClock();
    const stats = new FakeStats();
    const pods = [
      pod('static', { static: true }),
      pod('small'),
      pod('big'),
      pod('crit', { priority: 2_000_001_000 }),
    ];
    for (const p of pods)
      stats.usage.set(
        p.metadata?.uid ?? '',
        usage(p.metadata?.uid ?? '', p.metadata?.name === 'big' ? 900 * Mi : Mi),
      );
    const evicted: [string, string, number][] = [];
    let changes = 0;
    const m = new EvictionManager({
      thresholds: parseThresholds('memory.available<100Mi'),
      stats,
      pods: () => pods.filter((p) => !evicted.some(([n]) => n === p.metadata?.name)),
      evict: async (p, message, grace) => {
        evicted.push([p.metadata?.name ?? '', message, grace]);
      },
      clock,
      logger: noopLogger,
      pressureTransitionMs: 60_000,
      onPressureChange: () => changes++,
    });
    stats.obs = { memory: { available: 500 * Mi, capacity: 2048 * Mi } };
    assert.deepEqual(await m.synchronize(), []);
    assert.deepEqual(m.pressure(), { memory: false, disk: false, pid: false });
    stats.obs = { memory: { available: 50 * Mi, capacity: 2048 * Mi } };
    const out = await m.synchronize();
    assert.deepEqual(
      out.map((p) => p.metadata?.name),
      ['big'],
    );
    assert.equal(
      evicted[0]?.[1],
      'The node was low on resource: memory. Threshold quantity: 100Mi, available: 50Mi. Container c was using 900Mi, request is 0, has larger consumption of memory. ',
    );
    assert.equal(evicted[0]?.[2], 1);
    assert.deepEqual(m.pressure(), { memory: true, disk: false, pid: false });
    assert.equal(changes, 1);
    await m.synchronize();
    assert.deepEqual(
      evicted.map(([n]) => n),
      ['big', 'small'],
    );
    await m.synchronize();
    // Only critical pods are left: nothing more is evicted.
    assert.deepEqual(
      evicted.map(([n]) => n),
      ['big', 'small'],
    );
    // The condition outlives the threshold for the transition period.
    stats.obs = { memory: { available: 500 * Mi, capacity: 2048 * Mi } };
    clock.step(30_000);
    await m.synchronize();
    assert.equal(m.pressure().memory, true);
    clock.step(31_000);
    await m.synchronize();
    assert.equal(m.pressure().memory, false);
    assert.equal(changes, 2);
  });

  it('evicts pods over their local storage limits whatever the node state', async () => {
    const stats = new FakeStats();
    const p = pod('e', { volumes: [{ name: 'x', emptyDir: { sizeLimit: '1Mi' } }] });
    stats.usage.set('e', usage('e', 0, 0, [['x', 5 * Mi]]));
    const evicted: string[] = [];
    const m = new EvictionManager({
      thresholds: [],
      stats,
      pods: () => [p],
      evict: async (_p, message, grace) => {
        evicted.push(`${grace}:${message}`);
      },
      clock: new FakeClock(),
      logger: noopLogger,
    });
    await m.synchronize();
    assert.deepEqual(evicted, ['0:Usage of EmptyDir volume "x" exceeds the limit "1Mi". ']);
  });

  it('parses soft thresholds, grace periods and minimum reclaims as upstream', () => {
    const t = parseEvictionFlags({
      hard: 'memory.available<100Mi',
      soft: 'memory.available<1Gi,nodefs.available<15%',
      softGracePeriod: 'memory.available=1m30s,nodefs.available=2m',
      minimumReclaim: 'memory.available=200Mi,nodefs.available=5%',
    });
    assert.deepEqual(
      t.map((x) => [
        x.signal,
        x.gracePeriodMs ?? 0,
        x.minReclaim?.quantity?.toString() ?? x.minReclaim?.percentage,
      ]),
      [
        ['memory.available', 0, '200Mi'],
        ['memory.available', 90_000, '200Mi'],
        ['nodefs.available', 120_000, 0.05],
      ],
    );
    const errors: [Parameters<typeof parseEvictionFlags>[0], RegExp][] = [
      [
        { soft: 'memory.available<1Gi' },
        /^grace period must be specified for the soft eviction threshold memory.available$/,
      ],
      [
        { softGracePeriod: 'memory.available' },
        /^invalid eviction grace period syntax memory.available, expected <signal>=<duration>$/,
      ],
      [{ softGracePeriod: 'memory.available=-1s' }, /must be a positive value/],
      [{ softGracePeriod: 'cpu.available=1s' }, /^unsupported eviction signal cpu.available$/],
      [
        { minimumReclaim: 'memory.available' },
        /^invalid eviction minimum reclaim syntax: memory.available, expected <signal>=<value>$/,
      ],
      [{ minimumReclaim: 'memory.available=-1Mi' }, /^negative reclaim defined for signal memory.available/],
    ];
    for (const [flags, re] of errors) assert.throws(() => parseEvictionFlags(flags), { message: re });
  });

  it('evicts for a soft threshold only after its grace period, with the pod grace capped', async () => {
    const clock = new FakeClock();
    const stats = new FakeStats();
    const slow = pod('slow');
    if (slow.spec !== undefined) slow.spec.terminationGracePeriodSeconds = 120;
    const quick = pod('quick');
    if (quick.spec !== undefined) quick.spec.terminationGracePeriodSeconds = 5;
    let pods = [slow, quick];
    stats.usage.set('slow', usage('slow', 800 * Mi));
    stats.usage.set('quick', usage('quick', 100 * Mi));
    const evicted: [string, number][] = [];
    const m = new EvictionManager({
      thresholds: parseEvictionFlags({
        hard: 'memory.available<100Mi',
        soft: 'memory.available<1Gi',
        softGracePeriod: 'memory.available=1m',
        minimumReclaim: 'memory.available=500Mi',
      }),
      stats,
      pods: () => pods,
      evict: async (p, _message, grace) => {
        evicted.push([p.metadata?.name ?? '', grace]);
        pods = pods.filter((x) => x !== p);
      },
      clock,
      logger: noopLogger,
      maxPodGracePeriodSeconds: 30,
    });
    stats.obs = { memory: { available: 900 * Mi, capacity: 4096 * Mi } };
    assert.deepEqual(await m.synchronize(), []);
    // Pressure at once; no eviction inside the grace period.
    assert.equal(m.pressure().memory, true);
    clock.step(59_000);
    assert.deepEqual(await m.synchronize(), []);
    // Back above the threshold resets the clock: the grace period must pass unbroken.
    stats.obs = { memory: { available: 1100 * Mi, capacity: 4096 * Mi } };
    clock.step(2_000);
    await m.synchronize();
    stats.obs = { memory: { available: 900 * Mi, capacity: 4096 * Mi } };
    await m.synchronize();
    clock.step(30_000);
    assert.deepEqual(await m.synchronize(), []);
    clock.step(30_000);
    assert.deepEqual(
      (await m.synchronize()).map((p) => p.metadata?.name),
      ['slow'],
    );
    // The pod's own grace (120 s) capped at the max pod grace period (30 s).
    assert.deepEqual(evicted, [['slow', 30]]);
    // Above the threshold but not by the minimum reclaim: the threshold still holds.
    stats.obs = { memory: { available: 1200 * Mi, capacity: 4096 * Mi } };
    await m.synchronize();
    assert.deepEqual(evicted, [
      ['slow', 30],
      ['quick', 5],
    ]);
    // A hard threshold evicts at once with the immediate grace of 1 s.
    pods = [pod('late')];
    stats.usage.set('late', usage('late', 10 * Mi));
    stats.obs = { memory: { available: 2000 * Mi, capacity: 4096 * Mi } };
    await m.synchronize();
    assert.equal(evicted.length, 2);
    stats.obs = { memory: { available: 50 * Mi, capacity: 4096 * Mi } };
    await m.synchronize();
    assert.deepEqual(evicted.at(-1), ['late', 1]);
  });
});
