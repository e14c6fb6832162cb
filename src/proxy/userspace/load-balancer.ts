// Backend choice for the userspace proxier (upstream pkg/proxy/userspace/roundrobin.go):
// round robin over a service port's endpoints, with ClientIP session affinity that pins a
// client address to the endpoint it was last given until it has been idle for the
// affinity timeout. Time comes from an injected clock so tests drive expiry.

import type { Clock } from '../../client/clock.js';

/** Affinity settings of one service port. */
export interface AffinityPolicy {
  clientIP: boolean;
  timeoutSeconds: number;
}

interface Sticky {
  endpoint: string;
  lastUsed: number;
}

/** Round-robin endpoint selection with optional ClientIP affinity. */
export class RoundRobin {
  private endpoints: string[] = [];
  private index = 0;
  private readonly affinity = new Map<string, Sticky>();

  constructor(
    private policy: AffinityPolicy,
    private readonly clock: Clock,
  ) {}

  /** Replaces the endpoint list (`ip:port`), dropping affinity to endpoints that left. */
  update(endpoints: string[], policy: AffinityPolicy): void {
    const same =
      endpoints.length === this.endpoints.length && endpoints.every((e, i) => e === this.endpoints[i]);
    this.policy = policy;
    if (!policy.clientIP) this.affinity.clear();
    if (same) return;
    this.endpoints = [...endpoints];
    this.index = 0;
    const live = new Set(endpoints);
    for (const [client, s] of this.affinity) if (!live.has(s.endpoint)) this.affinity.delete(client);
  }

  /** The current endpoints. */
  list(): readonly string[] {
    return this.endpoints;
  }

  /**
   * The endpoint for a new connection from `clientIP`, or undefined when there is none.
   * `exclude` skips endpoints that already failed for this connection and breaks affinity
   * to them, as upstream does when a sticky backend stops answering.
   */
  next(clientIP: string, exclude: ReadonlySet<string> = new Set()): string | undefined {
    const now = this.clock.now();
    if (this.policy.clientIP) {
      const s = this.affinity.get(clientIP);
      if (s !== undefined) {
        if (now - s.lastUsed <= this.policy.timeoutSeconds * 1000 && !exclude.has(s.endpoint)) {
          s.lastUsed = now;
          return s.endpoint;
        }
        this.affinity.delete(clientIP);
      }
    }
    for (let tries = 0; tries < this.endpoints.length; tries++) {
      const e = this.endpoints[this.index % this.endpoints.length];
      this.index = (this.index + 1) % this.endpoints.length;
      if (e === undefined || exclude.has(e)) continue;
      if (this.policy.clientIP) this.affinity.set(clientIP, { endpoint: e, lastUsed: now });
      return e;
    }
    return undefined;
  }
}

/** Splits `ip:port` (IPv4) into its parts. */
export function splitHostPort(endpoint: string): { host: string; port: number } {
  const i = endpoint.lastIndexOf(':');
  return { host: endpoint.slice(0, i), port: Number(endpoint.slice(i + 1)) };
}
