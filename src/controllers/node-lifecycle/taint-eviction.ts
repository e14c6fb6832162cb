// The taint eviction controller (upstream pkg/controller/tainteviction, the former
// NoExecuteTaintManager): a pod on a node with NoExecute taints it does not tolerate is
// deleted at once; one that tolerates them for `tolerationSeconds` is deleted when that
// time has passed since the controller first saw it exposed (unless the taints go away
// first); a pod tolerating them forever stays. Work is keyed by pod; the timers live on
// the injected clock so tests drive them.
import type { Node, Pod, Taint } from '../../api/generated/types/core-v1.js';
import type { Lister } from '../../client/cache/listers.js';
import { metaNamespaceKeyFunc, splitKey, unwrapTombstone } from '../../client/cache/store.js';
import type { Clock, TimerHandle } from '../../client/clock.js';
import type { EventRecorder } from '../../client/events.js';
import type { Client } from '../../client/interface.js';
import type { Logger } from '../../client/log.js';
import { NODES, PODS } from '../../client/resources.js';
import { RateLimitingQueue } from '../../client/workqueue/rate-limiting-queue.js';
import { isNotFound } from '../../machinery/status-error.js';
import { runWorkers } from '../endpoints/work-loop.js';
import type { Controller, ControllerContext } from '../types.js';
import { minTolerationMs } from './taints.js';

interface Scheduled {
  /** Local time the pod was first seen exposed to the taints. */
  since: number;
  dueAt: number;
  timer: TimerHandle;
}

/** The taint-eviction-controller. */
export class TaintEvictionController implements Controller {
  readonly name = 'taint-eviction-controller';
  /** Pod keys to evaluate. */
  readonly queue: RateLimitingQueue<string>;
  private readonly client: Client;
  private readonly pods: Lister<Pod>;
  private readonly nodes: Lister<Node>;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly recorder: EventRecorder;
  private readonly workers: number;
  private readonly scheduled = new Map<string, Scheduled>();
  private readonly synced: Array<{ waitForSync(s?: AbortSignal): Promise<boolean> }>;

  /** Wires the informer handlers. */
  constructor(ctx: ControllerContext) {
    this.client = ctx.client;
    this.clock = ctx.clock;
    this.log = ctx.log;
    this.workers = ctx.options.workers;
    this.recorder = ctx.recorder('taint-eviction-controller');
    this.queue = new RateLimitingQueue<string>({ clock: ctx.clock, name: 'taint_eviction' });
    const p = ctx.informers.forResource(PODS, { nodeName: (pod: Pod) => [pod.spec?.nodeName ?? ''] });
    const n = ctx.informers.forResource(NODES);
    this.pods = p.lister;
    this.nodes = n.lister;
    this.synced = [p.informer, n.informer];
    const onPod = (pod: Pod): void => {
      if ((pod.spec?.nodeName ?? '') !== '') this.queue.add(metaNamespaceKeyFunc(pod));
    };
    p.informer.addEventHandler({
      onAdd: onPod,
      onUpdate: (_o, pod) => onPod(pod),
      onDelete: (pod) => this.cancel(metaNamespaceKeyFunc(unwrapTombstone(pod))),
    });
    const onNode = (node: Node): void => {
      for (const pod of this.pods.byIndex('nodeName', node.metadata?.name ?? '')) onPod(pod);
    };
    n.informer.addEventHandler({
      onAdd: onNode,
      onUpdate: (o, node) => {
        if (JSON.stringify(noExecute(o)) !== JSON.stringify(noExecute(node))) onNode(node);
      },
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    for (const s of this.synced) if (!(await s.waitForSync(signal))) return;
    signal.addEventListener('abort', () => {
      for (const key of [...this.scheduled.keys()]) this.cancel(key);
    });
    await runWorkers(this.queue, this.workers, (k) => this.sync(k), signal, this.log);
  }

  /** Pods with a pending timed deletion (for tests and debugging). */
  pendingEvictions(): string[] {
    return [...this.scheduled.keys()];
  }

  /** Evaluates one pod against its node's NoExecute taints. */
  async sync(key: string): Promise<void> {
    const pod = this.pods.getByKey(key);
    if (pod === undefined || pod.metadata?.deletionTimestamp !== undefined) {
      this.cancel(key);
      return;
    }
    const node = this.nodes.getByKey(pod.spec?.nodeName ?? '');
    const taints = node === undefined ? [] : noExecute(node);
    if (taints.length === 0) {
      this.cancel(key);
      return;
    }
    const tolerated = minTolerationMs(pod, taints);
    if (tolerated === Number.POSITIVE_INFINITY) {
      this.cancel(key);
      return;
    }
    const now = this.clock.now();
    const prior = this.scheduled.get(key);
    const since = prior?.since ?? now;
    const dueAt = since + tolerated;
    if (dueAt <= now) {
      this.cancel(key);
      await this.evict(pod);
      return;
    }
    if (prior !== undefined && prior.dueAt === dueAt) return;
    prior?.timer.cancel();
    const timer = this.clock.setTimeout(() => this.queue.add(key), dueAt - now);
    this.scheduled.set(key, { since, dueAt, timer });
  }

  private cancel(key: string): void {
    this.scheduled.get(key)?.timer.cancel();
    this.scheduled.delete(key);
  }

  private async evict(pod: Pod): Promise<void> {
    const { namespace, name } = splitKey(metaNamespaceKeyFunc(pod));
    this.recorder.event(
      pod,
      'Normal',
      'TaintManagerEviction',
      `Marking for deletion Pod ${namespace}/${name}`,
    );
    try {
      await this.client.resource(PODS).delete(namespace, name);
      this.log.info('deleted pod for NoExecute taint', { pod: `${namespace}/${name}` });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

function noExecute(node: Node): Taint[] {
  return (node.spec?.taints ?? []).filter((t) => t.effect === 'NoExecute');
}
