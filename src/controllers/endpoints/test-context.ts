// A ControllerContext over a FakeClient for unit tests of the controllers in this family:
// objects are seeded into the fake, informers started and synced, so a test can call a
// controller's `sync(key)` directly and read the fake's state back.
import { SharedInformerFactory } from '../../client/cache/informer-factory.js';
import type { GroupVersionResource, KubeObject } from '../../client/interface.js';
import { noopLogger } from '../../client/log.js';
import { FakeClient } from '../../client/testing/fake-client.js';
import { FakeClock } from '../../client/testing/fake-clock.js';
import { type ControllerContext, type ControllerOptions, DEFAULT_CONTROLLER_OPTIONS } from '../types.js';

/** A fake-backed context and the handles a test needs. */
export interface TestContext {
  ctx: ControllerContext;
  client: FakeClient;
  clock: FakeClock;
  /** Starts the informers and waits until they synced. */
  start(): Promise<void>;
  /** Stops the informers. */
  stop(): Promise<void>;
  /** Waits until the informers saw every write so far (polling the fake's resourceVersion). */
  settle(): Promise<void>;
}

/** Builds a test context seeded with objects. */
export function newTestContext(
  objects: Array<{ gvr: GroupVersionResource; object: KubeObject }> = [],
  options: Partial<ControllerOptions> = {},
): TestContext {
  const client = new FakeClient(objects);
  const clock = new FakeClock();
  const informers = new SharedInformerFactory(client);
  const ac = new AbortController();
  const ctx: ControllerContext = {
    client,
    informers,
    recorder: () => ({ event() {}, annotatedEvent() {} }),
    clock,
    log: noopLogger,
    options: { ...DEFAULT_CONTROLLER_OPTIONS, ...options },
  };
  return {
    ctx,
    client,
    clock,
    async start() {
      informers.start(ac.signal);
      await informers.waitForCacheSync(ac.signal);
    },
    async stop() {
      ac.abort();
      await informers.shutdown();
    },
    async settle() {
      // Watch events are delivered on later turns of the event loop.
      for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
    },
  };
}

/** What a test pod looks like. */
export interface TestPodSpec {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  ip?: string;
  ready?: boolean;
  node?: string;
  phase?: string;
  deleting?: boolean;
  hostname?: string;
  subdomain?: string;
  ports?: Array<{ name?: string; containerPort: number; protocol?: string }>;
  owner?: { kind: string; name: string; uid: string; apiVersion: string };
  creationTimestamp?: string;
}

/** A pod fixture. */
export function testPod(p: TestPodSpec): import('../../api/generated/types/core-v1.js').Pod {
  const ns = p.namespace ?? 'default';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: p.name,
      namespace: ns,
      uid: `uid-${p.name}`,
      labels: p.labels ?? { app: 'web' },
      ...(p.deleting ? { deletionTimestamp: '2024-01-02T03:04:05Z', deletionGracePeriodSeconds: 30 } : {}),
      ...(p.owner ? { ownerReferences: [{ ...p.owner, controller: true }] } : {}),
      ...(p.creationTimestamp ? { creationTimestamp: p.creationTimestamp } : {}),
    },
    spec: {
      containers: [{ name: 'c', image: 'img', ...(p.ports ? { ports: p.ports } : {}) }],
      ...(p.node ? { nodeName: p.node } : {}),
      ...(p.hostname ? { hostname: p.hostname } : {}),
      ...(p.subdomain ? { subdomain: p.subdomain } : {}),
    },
    status: {
      phase: p.phase ?? 'Running',
      ...(p.ip ? { podIP: p.ip, podIPs: [{ ip: p.ip }] } : {}),
      conditions: [
        {
          type: 'Ready',
          status: p.ready === false ? 'False' : 'True',
          lastTransitionTime: '2024-01-02T03:00:00Z',
        },
      ],
    },
  };
}
