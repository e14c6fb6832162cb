// The node IPAM controller (upstream pkg/controller/nodeipam, range allocator): every
// node gets `spec.podCIDR` / `spec.podCIDRs` carved from the cluster CIDR. At start the
// allocator is rebuilt from the CIDRs nodes already hold, so a restart never hands out a
// subnet twice; a deleted node's subnet returns to the pool. One worker allocates, so
// allocation is serial and needs no locking.
import type { Node } from '../../api/generated/types/core-v1.js';
import type { Lister } from '../../client/cache/listers.js';
import { type DeletedFinalStateUnknown, unwrapTombstone } from '../../client/cache/store.js';
import type { Client } from '../../client/interface.js';
import type { Logger } from '../../client/log.js';
import { NODES } from '../../client/resources.js';
import { RateLimitingQueue } from '../../client/workqueue/rate-limiting-queue.js';
import { isNotFound } from '../../machinery/status-error.js';
import { runWorkers } from '../endpoints/work-loop.js';
import type { Controller, ControllerContext, ControllerOptions } from '../types.js';
import { CIDRSet } from './cidr-set.js';

/** The node-ipam controller. */
export class NodeIpamController implements Controller {
  readonly name = 'node-ipam';
  /** Node names waiting for a CIDR. */
  readonly queue: RateLimitingQueue<string>;
  /** The allocator (exposed for tests). */
  readonly cidrs: CIDRSet;
  private readonly client: Client;
  private readonly nodes: Lister<Node>;
  private readonly log: Logger;
  private readonly informer: { waitForSync(s?: AbortSignal): Promise<boolean> };
  /** CIDRs of nodes we allocated or saw, by node name (to release on delete). */
  private readonly byNode = new Map<string, string>();
  private rebuilt = false;

  /** Wires the informer handlers. */
  constructor(ctx: ControllerContext) {
    this.client = ctx.client;
    this.log = ctx.log;
    this.cidrs = newCIDRSet(ctx.options);
    this.queue = new RateLimitingQueue<string>({ clock: ctx.clock, name: 'node_ipam' });
    const n = ctx.informers.forResource(NODES);
    this.nodes = n.lister;
    this.informer = n.informer;
    n.informer.addEventHandler({
      onAdd: (node) => this.queue.add(node.metadata?.name ?? ''),
      onUpdate: (_o, node) => {
        if ((node.spec?.podCIDR ?? '') === '') this.queue.add(node.metadata?.name ?? '');
      },
      onDelete: (node: Node | DeletedFinalStateUnknown<Node>) => {
        const name = unwrapTombstone(node).metadata?.name ?? '';
        const cidr = this.byNode.get(name) ?? unwrapTombstone(node).spec?.podCIDR;
        if (cidr !== undefined && cidr !== '') this.cidrs.release(cidr);
        this.byNode.delete(name);
      },
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    if (!(await this.informer.waitForSync(signal))) return;
    this.rebuild();
    await runWorkers(this.queue, 1, (k) => this.sync(k), signal, this.log);
  }

  /** Marks every CIDR existing nodes hold as used (called once the cache synced). */
  rebuild(): void {
    for (const node of this.nodes.list()) {
      const cidr = node.spec?.podCIDR ?? node.spec?.podCIDRs?.[0];
      if (cidr === undefined || cidr === '') continue;
      if (this.cidrs.occupy(cidr)) this.byNode.set(node.metadata?.name ?? '', cidr);
      else this.log.error('node CIDR outside the cluster CIDR', { node: node.metadata?.name, cidr });
    }
    this.rebuilt = true;
  }

  /** Allocates a CIDR for one node if it has none. */
  async sync(name: string): Promise<void> {
    if (!this.rebuilt) this.rebuild();
    const node = this.nodes.getByKey(name);
    if (node === undefined || (node.spec?.podCIDR ?? '') !== '') return;
    // A CIDR we allocated whose write the cache has not shown yet is reused, not leaked.
    let cidr = this.byNode.get(name);
    if (cidr === undefined) {
      cidr = this.cidrs.allocateNext();
      if (cidr === undefined) {
        this.log.error('no remaining CIDRs to allocate', { node: name });
        throw new Error(
          `failed to allocate cidr from cluster cidr: CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range`,
        );
      }
      this.byNode.set(name, cidr);
    }
    try {
      await this.client
        .resource(NODES)
        .patch('', name, 'merge', { spec: { podCIDR: cidr, podCIDRs: [cidr] } });
      this.log.info('set node PodCIDR', { node: name, podCIDRs: [cidr] });
    } catch (err) {
      if (isNotFound(err)) {
        this.cidrs.release(cidr);
        this.byNode.delete(name);
        return;
      }
      throw err;
    }
  }
}

/** The allocator for the configured cluster CIDR and mask size. */
export function newCIDRSet(options: Pick<ControllerOptions, 'clusterCIDR' | 'nodeCIDRMaskSize'>): CIDRSet {
  return new CIDRSet(options.clusterCIDR, options.nodeCIDRMaskSize);
}
