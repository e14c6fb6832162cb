// The root CA certificate publisher (upstream pkg/controller/certificates/rootcacertpublisher):
// every namespace gets a ConfigMap `kube-root-ca.crt` whose `ca.crt` is the PEM of the
// cluster CA, so pods can verify the API server. The ConfigMap is recreated when deleted
// and rewritten when someone changes its data. The CA is the controller manager's own
// (its kubeconfig's certificate-authority-data).
import type { ConfigMap, Namespace } from '../../api/generated/types/core-v1.js';
import type { Lister } from '../../client/cache/listers.js';
import { type DeletedFinalStateUnknown, unwrapTombstone } from '../../client/cache/store.js';
import type { Client } from '../../client/interface.js';
import type { Logger } from '../../client/log.js';
import { CONFIGMAPS, NAMESPACES } from '../../client/resources.js';
import { RateLimitingQueue } from '../../client/workqueue/rate-limiting-queue.js';
import { isAlreadyExists, isForbidden, isNotFound } from '../../machinery/status-error.js';
import { runWorkers } from '../endpoints/work-loop.js';
import type { Controller, ControllerContext } from '../types.js';

/** The published ConfigMap's name. */
export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
/** The data key holding the PEM. */
export const ROOT_CA_KEY = 'ca.crt';
/** Annotation upstream puts on the ConfigMap to describe it. */
const DESCRIPTION_ANNOTATION = 'kubernetes.io/description';
const DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

/** The root-ca-cert-publisher controller (keys are namespace names). */
export class RootCACertPublisher implements Controller {
  readonly name = 'root-ca-cert-publisher';
  /** Namespace names waiting to be synced. */
  readonly queue: RateLimitingQueue<string>;
  private readonly client: Client;
  private readonly namespaces: Lister<Namespace>;
  private readonly configMaps: Lister<ConfigMap>;
  private readonly log: Logger;
  private readonly workers: number;
  private readonly synced: Array<{ waitForSync(s?: AbortSignal): Promise<boolean> }>;

  /** A publisher of `rootCA` (PEM). */
  constructor(
    ctx: ControllerContext,
    private readonly rootCA: string,
  ) {
    this.client = ctx.client;
    this.log = ctx.log;
    this.workers = ctx.options.workers;
    this.queue = new RateLimitingQueue<string>({ clock: ctx.clock, name: 'root_ca_cert_publisher' });
    const ns = ctx.informers.forResource(NAMESPACES);
    const cm = ctx.informers.forResource(CONFIGMAPS);
    this.namespaces = ns.lister;
    this.configMaps = cm.lister;
    this.synced = [ns.informer, cm.informer];
    ns.informer.addEventHandler({
      onAdd: (n) => this.queue.add(n.metadata?.name ?? ''),
      onUpdate: (_o, n) => this.queue.add(n.metadata?.name ?? ''),
    });
    const onCM = (c: ConfigMap | DeletedFinalStateUnknown<ConfigMap>): void => {
      const obj = unwrapTombstone(c);
      if (obj.metadata?.name === ROOT_CA_CONFIGMAP) this.queue.add(obj.metadata.namespace ?? '');
    };
    cm.informer.addEventHandler({ onUpdate: (_o, n) => onCM(n), onDelete: onCM });
  }

  async run(signal: AbortSignal): Promise<void> {
    for (const s of this.synced) if (!(await s.waitForSync(signal))) return;
    await runWorkers(this.queue, this.workers, (k) => this.sync(k), signal, this.log);
  }

  /** Ensures the ConfigMap of one namespace. */
  async sync(namespace: string): Promise<void> {
    // Without a CA (the manager's kubeconfig has none) there is nothing worth publishing.
    if (this.rootCA === '') return;
    const ns = this.namespaces.getByKey(namespace);
    if (
      ns === undefined ||
      ns.status?.phase === 'Terminating' ||
      ns.metadata?.deletionTimestamp !== undefined
    )
      return;
    const api = this.client.resource(CONFIGMAPS);
    const current = this.configMaps.namespace(namespace).tryGet(ROOT_CA_CONFIGMAP);
    try {
      if (current === undefined) {
        await api.create(namespace, {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: {
            name: ROOT_CA_CONFIGMAP,
            namespace,
            annotations: { [DESCRIPTION_ANNOTATION]: DESCRIPTION },
          },
          data: { [ROOT_CA_KEY]: this.rootCA },
        });
        return;
      }
      const data = current.data ?? {};
      const annotations = current.metadata?.annotations ?? {};
      if (
        Object.keys(data).length === 1 &&
        data[ROOT_CA_KEY] === this.rootCA &&
        annotations[DESCRIPTION_ANNOTATION] === DESCRIPTION
      ) {
        return;
      }
      await api.update(namespace, {
        ...current,
        metadata: {
          ...current.metadata,
          annotations: { ...annotations, [DESCRIPTION_ANNOTATION]: DESCRIPTION },
        },
        data: { [ROOT_CA_KEY]: this.rootCA },
      });
    } catch (err) {
      if (isAlreadyExists(err) || isNotFound(err) || isForbidden(err)) return;
      throw err;
    }
  }
}
