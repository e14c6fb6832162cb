// A TEST SIMULATION of nodes, standing in for the scheduler and kubelets until the real
// hollow nodes land. Given a kubeconfig it registers N Ready nodes with capacity, then
// watches pods and plays both roles, through the API only:
// - scheduler: a Pending pod without spec.nodeName is bound round-robin (pods/binding);
// - kubelet: a bound pod becomes Running and Ready (phase, the four standard conditions,
//   ready container statuses, a podIP from 10.42.<node>.<n>, startTime); a pod that is
//   expected to finish (owned by a Job, or restartPolicy Never/OnFailure) becomes
//   Succeeded after `completionDelayMs`; a pod with a deletionTimestamp is deleted with
//   grace 0, finishing graceful deletion as a kubelet does once containers stopped.
// Nothing here is a faithful kubelet: no probes, no restarts, no resource accounting.
import type { Node, Pod } from '../../src/api/generated/types/core-v1.js';
import { type InformerHandle, SharedInformerFactory } from '../../src/client/cache/informer-factory.js';
import { splitKey } from '../../src/client/cache/store.js';
import { loadKubeconfig } from '../../src/client/kubeconfig.js';
import { NODES, PODS, SERVICEACCOUNTS } from '../../src/client/resources.js';
import { RestClient } from '../../src/client/rest-client.js';
import { Queue } from '../../src/client/workqueue/queue.js';
import { formatTimestamp } from '../../src/machinery/object-meta.js';
import { isConflict, isNotFound } from '../../src/machinery/status-error.js';

/** The controllers the controller tests run (others, e.g. node lifecycle, would act on simulated nodes). */
export const CONTROLLERS = [
  'namespace',
  'garbage-collector',
  'replicaset',
  'replicationcontroller',
  'deployment',
];

/** Creates the `default` ServiceAccount pods need, as the serviceaccount controller would. */
export async function ensureDefaultServiceAccount(client: RestClient, namespace: string): Promise<void> {
  try {
    await client.resource(SERVICEACCOUNTS).create(namespace, { metadata: { name: 'default', namespace } });
  } catch (err) {
    if ((err as { reason?: string }).reason !== 'AlreadyExists') throw err;
  }
}

/** Options of the simulation. */
export interface SimulatedNodesOptions {
  /** Number of nodes (default 3). */
  nodes?: number;
  /** Node name prefix (default `sim-node-`). */
  prefix?: string;
  /** Delay before a run-to-completion pod succeeds (default 300 ms). */
  completionDelayMs?: number;
}

/** Running simulated nodes; `stop()` ends the simulation (the Node objects stay). */
export class SimulatedNodes {
  readonly nodeNames: string[];
  private readonly client: RestClient;
  private readonly ac = new AbortController();
  private readonly queue = new Queue<string>();
  private readonly informers: SharedInformerFactory;
  private readonly pods: InformerHandle<Pod>;
  private readonly timers = new Set<NodeJS.Timeout>();
  private next = 0;
  /** Set when the server refused a binding (then pods run without spec.nodeName). */
  bindingRefused = false;
  private ipSeq = 0;
  private workers: Promise<void>[] = [];

  private constructor(
    kubeconfig: string,
    private readonly opts: Required<SimulatedNodesOptions>,
  ) {
    this.client = new RestClient(loadKubeconfig(kubeconfig));
    this.nodeNames = Array.from({ length: opts.nodes }, (_, i) => `${opts.prefix}${i}`);
    this.informers = new SharedInformerFactory(this.client);
    this.pods = this.informers.forResource(PODS);
  }

  /** Registers the nodes and starts simulating. */
  static async start(kubeconfig: string, options: SimulatedNodesOptions = {}): Promise<SimulatedNodes> {
    const sim = new SimulatedNodes(kubeconfig, {
      nodes: options.nodes ?? 3,
      prefix: options.prefix ?? 'sim-node-',
      completionDelayMs: options.completionDelayMs ?? 300,
    });
    await sim.registerNodes();
    const enqueue = (p: Pod): void =>
      sim.queue.add(`${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}`);
    sim.pods.informer.addEventHandler({ onAdd: enqueue, onUpdate: (_o, c) => enqueue(c) });
    sim.informers.start(sim.ac.signal);
    await sim.informers.waitForCacheSync();
    sim.workers = Array.from({ length: 4 }, () => sim.work());
    return sim;
  }

  /** Stops watching and acting. */
  async stop(): Promise<void> {
    this.ac.abort();
    for (const t of this.timers) clearTimeout(t);
    this.queue.shutDown();
    await Promise.all(this.workers);
    await this.informers.shutdown();
    this.client.close();
  }

  private async registerNodes(): Promise<void> {
    const capacity = { cpu: '8', memory: '32Gi', pods: '110', 'ephemeral-storage': '100Gi' };
    const now = formatTimestamp(Date.now());
    for (const [i, name] of this.nodeNames.entries()) {
      const node: Node = {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: {
          name,
          labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', type: 'simulated' },
        },
        spec: { podCIDR: `10.42.${i}.0/24`, podCIDRs: [`10.42.${i}.0/24`] },
        status: {
          capacity,
          allocatable: capacity,
          addresses: [
            { type: 'InternalIP', address: `10.0.0.${i + 10}` },
            { type: 'Hostname', address: name },
          ],
          conditions: [
            {
              type: 'Ready',
              status: 'True',
              reason: 'KubeletReady',
              message: 'kubelet is posting ready status',
              lastHeartbeatTime: now,
              lastTransitionTime: now,
            },
          ],
          nodeInfo: {
            architecture: 'amd64',
            bootID: '',
            containerRuntimeVersion: 'simulated://1.0',
            kernelVersion: '',
            kubeProxyVersion: '',
            kubeletVersion: 'v1.32.0',
            machineID: '',
            operatingSystem: 'linux',
            osImage: 'simulated',
            systemUUID: '',
          },
        },
      };
      try {
        await this.client.resource(NODES).create('', node);
      } catch (err) {
        if ((err as { reason?: string }).reason !== 'AlreadyExists') throw err;
      }
    }
  }

  private async work(): Promise<void> {
    for (;;) {
      const r = await this.queue.get();
      if (r.shutdown) return;
      try {
        await this.handle(r.item);
      } catch (err) {
        // Conflicts and races with controllers are retried; anything else too, a bit later.
        if (!this.ac.signal.aborted && !isNotFound(err)) this.later(r.item, isConflict(err) ? 10 : 200);
      } finally {
        this.queue.done(r.item);
      }
    }
  }

  private later(key: string, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.ac.signal.aborted) this.queue.add(key);
    }, ms);
    this.timers.add(t);
  }

  private async handle(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const pod = this.pods.lister.namespace(namespace).tryGet(name);
    if (pod === undefined) return;
    const pods = this.client.resource(PODS);
    if (pod.metadata?.deletionTimestamp !== undefined) {
      if ((pod.spec?.nodeName ?? '') !== '') {
        await pods.delete(namespace, name, {
          gracePeriodSeconds: 0,
          preconditions: { uid: pod.metadata.uid ?? '' },
        });
      }
      return;
    }
    const nodeName = pod.spec?.nodeName ?? '';
    let idx = this.nodeNames.indexOf(nodeName);
    if (nodeName === '') {
      const target = this.next++ % this.nodeNames.length;
      if (!this.bindingRefused) {
        const binding = {
          apiVersion: 'v1',
          kind: 'Binding',
          metadata: { name, namespace },
          target: { apiVersion: 'v1', kind: 'Node', name: this.nodeNames[target] ?? '' },
        };
        try {
          await pods.create(namespace, binding as unknown as Pod, { subresource: 'binding' });
          return;
        } catch (err) {
          if ((err as { code?: number }).code !== 422) throw err;
          // A server whose binding subresource rejects the write: run pods unbound instead.
          this.bindingRefused = true;
        }
      }
      if ((pod.status?.phase ?? 'Pending') !== 'Pending') return;
      idx = target;
    } else if (idx < 0) return;
    const phase = pod.status?.phase ?? 'Pending';
    if (phase === 'Succeeded' || phase === 'Failed') return;
    const completes =
      pod.metadata?.ownerReferences?.some((r) => r.kind === 'Job') === true ||
      pod.spec?.restartPolicy === 'Never' ||
      pod.spec?.restartPolicy === 'OnFailure';
    if (phase === 'Pending') {
      await pods.updateStatus(namespace, this.runningPod(pod, idx));
      if (completes) this.later(key, this.opts.completionDelayMs);
      return;
    }
    if (completes) await pods.updateStatus(namespace, this.succeededPod(pod));
  }

  private runningPod(pod: Pod, nodeIdx: number): Pod {
    const now = formatTimestamp(Date.now());
    const n = ++this.ipSeq;
    const ip = `10.42.${nodeIdx}.${(n % 250) + 2}`;
    const cond = (type: string): { type: string; status: string; lastTransitionTime: string } => ({
      type,
      status: 'True',
      lastTransitionTime: now,
    });
    return {
      ...pod,
      status: {
        ...(pod.status ?? {}),
        phase: 'Running',
        conditions: [
          cond('PodReadyToStartContainers'),
          cond('Initialized'),
          cond('Ready'),
          cond('ContainersReady'),
          cond('PodScheduled'),
        ],
        hostIP: `10.0.0.${nodeIdx + 10}`,
        hostIPs: [{ ip: `10.0.0.${nodeIdx + 10}` }],
        podIP: ip,
        podIPs: [{ ip }],
        startTime: now,
        qosClass: 'BestEffort',
        containerStatuses: (pod.spec?.containers ?? []).map((c) => ({
          name: c.name,
          image: c.image ?? '',
          imageID: `simulated://${c.image ?? ''}`,
          containerID: `simulated://${pod.metadata?.uid ?? ''}-${c.name}`,
          ready: true,
          started: true,
          restartCount: 0,
          state: { running: { startedAt: now } },
        })),
      },
    };
  }

  private succeededPod(pod: Pod): Pod {
    const now = formatTimestamp(Date.now());
    const notReady = (
      type: string,
    ): { type: string; status: string; reason: string; lastTransitionTime: string } => ({
      type,
      status: 'False',
      reason: 'PodCompleted',
      lastTransitionTime: now,
    });
    const conditions = (pod.status?.conditions ?? []).map((c) =>
      c.type === 'Ready' || c.type === 'ContainersReady' ? notReady(c.type) : c,
    );
    return {
      ...pod,
      status: {
        ...(pod.status ?? {}),
        phase: 'Succeeded',
        conditions,
        containerStatuses: (pod.status?.containerStatuses ?? []).map((c) => ({
          ...c,
          ready: false,
          started: false,
          state: {
            terminated: {
              exitCode: 0,
              reason: 'Completed',
              startedAt: c.state?.running?.startedAt ?? now,
              finishedAt: now,
            },
          },
        })),
      },
    };
  }
}
