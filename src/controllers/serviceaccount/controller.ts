// The ServiceAccounts controller (upstream pkg/controller/serviceaccount): every active
// namespace has a ServiceAccount named `default`; it is created with the namespace and
// recreated whenever it is deleted. Terminating namespaces are skipped (the API would
// refuse the create anyway).
import type { Namespace, ServiceAccount } from '../../api/generated/types/core-v1.js';
import type { Lister } from '../../client/cache/listers.js';
import { type DeletedFinalStateUnknown, unwrapTombstone } from '../../client/cache/store.js';
import type { Client } from '../../client/interface.js';
import type { Logger } from '../../client/log.js';
import { NAMESPACES, SERVICEACCOUNTS } from '../../client/resources.js';
import { RateLimitingQueue } from '../../client/workqueue/rate-limiting-queue.js';
import { isAlreadyExists, isForbidden, isNotFound } from '../../machinery/status-error.js';
import { runWorkers } from '../endpoints/work-loop.js';
import type { Controller, ControllerContext } from '../types.js';

/** The service accounts every namespace gets. */
export const DEFAULT_SERVICE_ACCOUNTS = ['default'];

/** The serviceaccount controller (keys are namespace names). */
export class ServiceAccountsController implements Controller {
  readonly name = 'serviceaccount';
  /** Namespace names waiting to be synced. */
  readonly queue: RateLimitingQueue<string>;
  private readonly client: Client;
  private readonly namespaces: Lister<Namespace>;
  private readonly serviceAccounts: Lister<ServiceAccount>;
  private readonly log: Logger;
  private readonly synced: Array<{ waitForSync(s?: AbortSignal): Promise<boolean> }>;

  /** Wires the informer handlers. */
  constructor(ctx: ControllerContext) {
    this.client = ctx.client;
    this.log = ctx.log;
    this.queue = new RateLimitingQueue<string>({ clock: ctx.clock, name: 'serviceaccount' });
    const ns = ctx.informers.forResource(NAMESPACES);
    const sa = ctx.informers.forResource(SERVICEACCOUNTS);
    this.namespaces = ns.lister;
    this.serviceAccounts = sa.lister;
    this.synced = [ns.informer, sa.informer];
    ns.informer.addEventHandler({
      onAdd: (n) => this.queue.add(n.metadata?.name ?? ''),
      onUpdate: (_o, n) => this.queue.add(n.metadata?.name ?? ''),
    });
    sa.informer.addEventHandler({
      onDelete: (s: ServiceAccount | DeletedFinalStateUnknown<ServiceAccount>) => {
        const obj = unwrapTombstone(s);
        if (DEFAULT_SERVICE_ACCOUNTS.includes(obj.metadata?.name ?? ''))
          this.queue.add(obj.metadata?.namespace ?? '');
      },
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    for (const s of this.synced) if (!(await s.waitForSync(signal))) return;
    await runWorkers(this.queue, 1, (k) => this.sync(k), signal, this.log);
  }

  /** Ensures the default service accounts of one namespace. */
  async sync(namespace: string): Promise<void> {
    const ns = this.namespaces.getByKey(namespace);
    if (
      ns === undefined ||
      ns.status?.phase === 'Terminating' ||
      ns.metadata?.deletionTimestamp !== undefined
    )
      return;
    for (const name of DEFAULT_SERVICE_ACCOUNTS) {
      if (this.serviceAccounts.namespace(namespace).tryGet(name) !== undefined) continue;
      try {
        await this.client.resource(SERVICEACCOUNTS).create(namespace, {
          apiVersion: 'v1',
          kind: 'ServiceAccount',
          metadata: { name, namespace },
        });
      } catch (err) {
        // Raced with another writer, or the namespace started terminating meanwhile.
        if (isAlreadyExists(err) || isNotFound(err) || isForbidden(err)) continue;
        throw err;
      }
    }
  }
}
