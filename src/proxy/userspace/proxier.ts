// The userspace proxier: kube-proxy for machines without iptables. Every proxied service
// port gets a real listening socket (TCP or UDP) that relays clients to the port's
// endpoints, chosen round robin with ClientIP affinity. Without iptables nothing can
// redirect a ClusterIP to a local port, so by default each listener binds the ClusterIP
// itself (the node must carry service addresses locally, e.g. on a dummy interface, as
// IPVS mode does); `listen` chooses another address, which tests use to bind loopback.
// Events take the same shape as the iptables Proxier's, and syncs are coalesced the same
// way (many events, one reconcile).

import type { Service } from '../../api/generated/types/core-v1.js';
import type { EndpointSlice } from '../../api/generated/types/discovery-v1.js';
import { type Clock, realClock } from '../../client/clock.js';
import { errorText, type Logger, noopLogger } from '../../client/log.js';
import { categorizeEndpoints, ProxyState, type ServicePortInfo } from '../model.js';
import { type AffinityPolicy, RoundRobin } from './load-balancer.js';
import { listenTcp, listenUdp, type ProxySocket } from './proxy-socket.js';

/** Options of a UserspaceProxier. */
export interface UserspaceProxierOptions {
  /** This node's name (internalTrafficPolicy Local keeps to its endpoints). */
  nodeName: string;
  /** Where a service port listens; default its ClusterIP and port. */
  listen?: (info: ServicePortInfo) => { host: string; port: number };
  /** Idle time after which a UDP client session is dropped (upstream --udp-timeout, 250 ms). */
  udpIdleTimeoutMs?: number;
  clock?: Clock;
  logger?: Logger;
}

interface Entry {
  /** What the listener was opened for; a change reopens it. */
  bindKey: string;
  socket: ProxySocket;
  lb: RoundRobin;
}

/** Relays service traffic through sockets in this process. */
export class UserspaceProxier {
  private readonly state: ProxyState;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly entries = new Map<string, Entry>();
  private scheduled = false;
  private running: Promise<void> | undefined;
  private rerun = false;
  private stopped = false;

  constructor(private readonly opts: UserspaceProxierOptions) {
    this.state = new ProxyState(opts.nodeName);
    this.clock = opts.clock ?? realClock;
    this.log = opts.logger ?? noopLogger;
  }

  /** A Service was added or updated. */
  onServiceUpsert(svc: Service): void {
    this.state.upsertService(svc);
    this.requestSync();
  }

  /** A Service was deleted. */
  onServiceDelete(namespace: string, name: string): void {
    this.state.deleteService(namespace, name);
    this.requestSync();
  }

  /** An EndpointSlice was added or updated. */
  onEndpointSliceUpsert(slice: EndpointSlice): void {
    this.state.upsertEndpointSlice(slice);
    this.requestSync();
  }

  /** An EndpointSlice was deleted. */
  onEndpointSliceDelete(namespace: string, name: string): void {
    this.state.deleteEndpointSlice(namespace, name);
    this.requestSync();
  }

  /** The address a service port (`namespace/name:port`) listens on, once synced. */
  address(servicePortName: string): { host: string; port: number } | undefined {
    return this.entries.get(servicePortName)?.socket.address();
  }

  /** Coalesces a burst of events into one reconcile on the next turn of the event loop. */
  requestSync(): void {
    if (this.stopped || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.syncNow();
    });
  }

  /** Reconciles listeners and endpoint lists with the current state. */
  async syncNow(): Promise<void> {
    if (this.running !== undefined) {
      this.rerun = true;
      await this.running;
      return;
    }
    this.running = this.reconcile();
    try {
      await this.running;
    } finally {
      this.running = undefined;
      if (this.rerun && !this.stopped) {
        this.rerun = false;
        await this.syncNow();
      }
    }
  }

  /** Closes every listener. */
  async stop(): Promise<void> {
    this.stopped = true;
    while (this.running !== undefined) await this.running;
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(all.map((e) => e.socket.close()));
  }

  private async reconcile(): Promise<void> {
    this.state.takeChanges();
    const wanted = new Map<string, { info: ServicePortInfo; endpoints: string[] }>();
    for (const key of this.state.serviceKeys()) {
      for (const { info, endpoints } of this.state.servicePorts(key)) {
        if (info.protocol !== 'tcp' && info.protocol !== 'udp') continue;
        const cat = categorizeEndpoints(info, endpoints);
        const use = info.internalPolicyLocal ? cat.local : cat.cluster;
        wanted.set(info.name, { info, endpoints: use.map((e) => e.endpoint) });
      }
    }
    for (const [name, e] of [...this.entries]) {
      const w = wanted.get(name);
      if (w === undefined || bindKeyOf(w.info, this.bind(w.info)) !== e.bindKey) {
        this.entries.delete(name);
        await e.socket.close();
      }
    }
    for (const [name, w] of wanted) {
      const policy: AffinityPolicy = {
        clientIP: w.info.affinityClientIP,
        timeoutSeconds: w.info.stickyMaxAgeSeconds,
      };
      const existing = this.entries.get(name);
      if (existing !== undefined) {
        existing.lb.update(w.endpoints, policy);
        continue;
      }
      const lb = new RoundRobin(policy, this.clock);
      lb.update(w.endpoints, policy);
      const bind = this.bind(w.info);
      try {
        const socket =
          w.info.protocol === 'tcp'
            ? await listenTcp(bind.host, bind.port, lb, this.log)
            : await listenUdp(bind.host, bind.port, lb, this.opts.udpIdleTimeoutMs ?? 250, this.log);
        this.entries.set(name, { bindKey: bindKeyOf(w.info, bind), socket, lb });
      } catch (err) {
        this.log.error('userspace proxy: cannot listen', {
          component: 'proxy',
          service: name,
          address: `${bind.host}:${bind.port}`,
          error: errorText(err),
        });
      }
    }
  }

  private bind(info: ServicePortInfo): { host: string; port: number } {
    return this.opts.listen?.(info) ?? { host: info.clusterIP, port: info.port };
  }
}

function bindKeyOf(info: ServicePortInfo, bind: { host: string; port: number }): string {
  return `${info.protocol}/${bind.host}/${bind.port}`;
}
