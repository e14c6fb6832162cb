// The token cleaner (upstream pkg/controller/bootstrap/tokencleaner.go): deletes bootstrap
// token Secrets in kube-system once their `expiration` has passed. A Secret that expires
// later is queued again for the moment it expires, so no polling is needed; the delete is
// conditional on the Secret's UID so a re-created token of the same name survives.
import type { Secret } from '../../api/generated/types/core-v1.js';
import {
  BOOTSTRAP_TOKEN_NAMESPACE,
  BOOTSTRAP_TOKEN_SECRET_TYPE,
  BootstrapTokenKeys,
  isBootstrapSecretExpired,
  secretValue,
} from '../../apiserver/auth/bootstrap-token.js';
import { SharedInformerFactory } from '../../client/cache/informer-factory.js';
import type { Lister } from '../../client/cache/listers.js';
import type { Clock } from '../../client/clock.js';
import type { Client } from '../../client/interface.js';
import type { Logger } from '../../client/log.js';
import { SECRETS } from '../../client/resources.js';
import { RateLimitingQueue } from '../../client/workqueue/rate-limiting-queue.js';
import { isNotFound } from '../../machinery/status-error.js';
import { runWorkers } from '../common/workers.js';
import type { Controller, ControllerContext } from '../types.js';

const DAY_MS = 86_400_000;

/** The tokencleaner controller (keys are Secret names in kube-system). */
export class TokenCleaner implements Controller {
  readonly name = 'tokencleaner';
  /** Secret names waiting to be checked. */
  readonly queue: RateLimitingQueue<string>;
  private readonly informers: SharedInformerFactory;
  private readonly lister: Lister<Secret>;
  private readonly synced: { waitForSync(s?: AbortSignal): Promise<boolean> };
  private readonly client: Client;
  private readonly clock: Clock;
  private readonly log: Logger;

  constructor(ctx: ControllerContext) {
    this.client = ctx.client;
    this.clock = ctx.clock;
    this.log = ctx.log;
    this.queue = new RateLimitingQueue<string>({ clock: ctx.clock, name: 'token_cleaner' });
    // Upstream watches only kube-system Secrets of the bootstrap type, with its own informer.
    this.informers = new SharedInformerFactory(ctx.client, {
      clock: ctx.clock,
      namespace: BOOTSTRAP_TOKEN_NAMESPACE,
      fieldSelector: `type=${BOOTSTRAP_TOKEN_SECRET_TYPE}`,
    });
    const inf = this.informers.forResource(SECRETS);
    this.lister = inf.lister;
    this.synced = inf.informer;
    const enqueue = (s: Secret): void => {
      if (s.type === BOOTSTRAP_TOKEN_SECRET_TYPE) this.queue.add(s.metadata?.name ?? '');
    };
    inf.informer.addEventHandler({ onAdd: enqueue, onUpdate: (_o, n) => enqueue(n) });
  }

  async run(signal: AbortSignal): Promise<void> {
    this.informers.start(signal);
    await runWorkers({
      queue: this.queue,
      sync: (k) => this.sync(k),
      workers: 1,
      signal,
      log: this.log,
      name: this.name,
      ready: () => this.synced.waitForSync(signal),
    });
  }

  /** Deletes the Secret if it has expired, or requeues it for its expiry. */
  async sync(name: string): Promise<void> {
    const secret = this.lister.getByKey(`${BOOTSTRAP_TOKEN_NAMESPACE}/${name}`);
    if (secret === undefined || secret.type !== BOOTSTRAP_TOKEN_SECRET_TYPE) return;
    const now = this.clock.now();
    if (isBootstrapSecretExpired(secret, new Date(now))) {
      const uid = secret.metadata?.uid;
      try {
        await this.client
          .resource(SECRETS)
          .delete(BOOTSTRAP_TOKEN_NAMESPACE, name, uid !== undefined ? { preconditions: { uid } } : {});
        this.log.info('deleted expired bootstrap token', { secret: `${BOOTSTRAP_TOKEN_NAMESPACE}/${name}` });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      return;
    }
    const exp = Date.parse(secretValue(secret, BootstrapTokenKeys.expiration));
    // Capped at a day: node timers cannot wait past ~24.8 days and would fire at once, and
    // a later look simply requeues it again.
    if (!Number.isNaN(exp)) this.queue.addAfter(name, Math.min(Math.max(0, exp - now) + 1, DAY_MS));
  }
}
