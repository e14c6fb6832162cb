// The node's Lease in `kube-node-lease` (upstream pkg/kubelet/nodelease): the cheap
// heartbeat the node lifecycle controller watches. It is renewed every `renewMs` (10 s;
// a quarter of the 40 s duration), owned by the Node so it is collected with it. A failed
// renewal is retried at the next tick: the Lease lasts four ticks.

import type { Lease } from '../api/generated/types/coordination-v1.js';
import type { Clock } from '../client/clock.js';
import type { Client } from '../client/interface.js';
import { errorText, type Logger } from '../client/log.js';
import { LEASES } from '../client/resources.js';
import { isConflict, isNotFound } from '../machinery/status-error.js';

/** Namespace of node Leases. */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

/** Upstream's default node lease duration. */
export const NODE_LEASE_DURATION_SECONDS = 40;

/** RFC 3339 with microseconds, as metav1.MicroTime serialises. */
export function rfc3339Micro(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 23)}000Z`;
}

/** Options of the lease controller. */
export interface NodeLeaseOptions {
  client: Client;
  clock: Clock;
  logger: Logger;
  nodeName: string;
  /** The Node's uid, for the owner reference ('' leaves it out). */
  nodeUid: () => string;
  renewMs?: number;
}

/** Keeps the node's Lease renewed. */
export class NodeLease {
  /** A lease controller for one node. */
  constructor(private readonly opts: NodeLeaseOptions) {}

  private desired(now: number, existing?: Lease): Lease {
    const o = this.opts;
    const uid = o.nodeUid();
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        ...(existing?.metadata ?? {}),
        name: o.nodeName,
        namespace: NODE_LEASE_NAMESPACE,
        ...(uid !== ''
          ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: o.nodeName, uid }] }
          : {}),
      },
      spec: {
        ...(existing?.spec ?? {}),
        holderIdentity: o.nodeName,
        leaseDurationSeconds: NODE_LEASE_DURATION_SECONDS,
        renewTime: rfc3339Micro(now),
      },
    };
  }

  /** Creates or renews the Lease once. */
  async renew(signal?: AbortSignal): Promise<Lease> {
    const leases = this.opts.client.resource(LEASES);
    const now = this.opts.clock.now();
    let existing: Lease | undefined;
    try {
      existing = await leases.get(NODE_LEASE_NAMESPACE, this.opts.nodeName, { signal });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    if (existing === undefined) return leases.create(NODE_LEASE_NAMESPACE, this.desired(now), { signal });
    return leases.update(NODE_LEASE_NAMESPACE, this.desired(now, existing), { signal });
  }

  /** Renews every `renewMs` until the signal aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const o = this.opts;
    while (!signal.aborted) {
      try {
        await this.renew(signal);
      } catch (e) {
        if (signal.aborted) return;
        if (!isConflict(e))
          o.logger.error('renewing node lease failed', { node: o.nodeName, err: errorText(e) });
      }
      try {
        await o.clock.sleep(o.renewMs ?? 10_000, signal);
      } catch {
        return;
      }
    }
  }
}
