// The shared shape of upstream's certificate controllers (pkg/controller/certificates
// certificate_controller.go): one CSR informer, a rate-limited queue of CSR names, and a
// handler per controller — the signer, the approver and the cleaner differ only in what they
// do with one CSR. Handlers are level-based: they look at the CSR as it is now and do
// nothing when there is nothing to do, so resyncs and repeated events are harmless.
// Handlers get a private copy of the cached object, as upstream deep-copies before handling.
import type { CertificateSigningRequest } from '../../api/generated/types/certificates-v1.js';
import type { Lister } from '../../client/cache/listers.js';
import type { Clock } from '../../client/clock.js';
import type { Client } from '../../client/interface.js';
import type { Logger } from '../../client/log.js';
import { RateLimitingQueue } from '../../client/workqueue/rate-limiting-queue.js';
import { isNotFound } from '../../machinery/status-error.js';
import { runWorkers } from '../common/workers.js';
import type { Controller, ControllerContext } from '../types.js';
import { CSRS } from './signer.js';

/** What a certificate controller does with one CSR. */
export type CSRHandler = (csr: CertificateSigningRequest, client: Client) => Promise<void>;

/** A controller over CertificateSigningRequests with one handler. */
export class CertificateController implements Controller {
  /** Names of CSRs waiting to be handled. */
  readonly queue: RateLimitingQueue<string>;
  private readonly lister: Lister<CertificateSigningRequest>;
  private readonly synced: { waitForSync(s?: AbortSignal): Promise<boolean> };
  private readonly client: Client;
  private readonly log: Logger;
  private readonly workers: number;
  /** The clock handlers read the time from. */
  readonly clock: Clock;

  constructor(
    readonly name: string,
    ctx: ControllerContext,
    private readonly handler: CSRHandler,
    /** Re-examine every CSR this often (the cleaner's hourly poll); 0 = only on changes. */
    private readonly pollMs = 0,
  ) {
    this.client = ctx.client;
    this.log = ctx.log;
    this.clock = ctx.clock;
    this.workers = ctx.options.workers;
    this.queue = new RateLimitingQueue<string>({ clock: ctx.clock, name });
    const inf = ctx.informers.forResource(CSRS);
    this.lister = inf.lister;
    this.synced = inf.informer;
    const enqueue = (c: CertificateSigningRequest): void => this.queue.add(c.metadata?.name ?? '');
    inf.informer.addEventHandler({
      onAdd: enqueue,
      onUpdate: (_old, cur) => enqueue(cur),
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    if (this.pollMs > 0) void this.poll(signal);
    await runWorkers({
      queue: this.queue,
      sync: (k) => this.sync(k),
      workers: this.workers,
      signal,
      log: this.log,
      name: this.name,
      ready: () => this.synced.waitForSync(signal),
    });
  }

  private async poll(signal: AbortSignal): Promise<void> {
    if (!(await this.synced.waitForSync(signal))) return;
    while (!signal.aborted) {
      for (const c of this.lister.list()) this.queue.add(c.metadata?.name ?? '');
      await this.clock.sleep(this.pollMs, signal).catch(() => {});
    }
  }

  /** Handles the CSR called `name` (gone CSRs are done). */
  async sync(name: string): Promise<void> {
    const cached = this.lister.getByKey(name);
    if (cached === undefined) return;
    try {
      await this.handler(structuredClone(cached), this.client);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
  }
}
