// The cluster zone: which records a name has, following CoreDNS's `kubernetes` plugin
// (https://github.com/kubernetes/dns/blob/master/docs/specification.md as CoreDNS reads it),
// so pods see the answers they would see upstream, quirks included:
//   <svc>.<ns>.svc.<zone>                 A/AAAA of the cluster IPs; every ready endpoint if headless;
//                                         CNAME for ExternalName (followed when in-zone)
//   <endpoint>.<svc>.<ns>.svc.<zone>      one endpoint, by hostname or dashed IP
//   _<port>._<proto>.<svc>.<ns>.svc.<zone> SRV (priority 0, weight 100/n, target the service or endpoint)
//   <a-b-c-d>.<ns>.pod.<zone>             pod A/AAAA (`pods insecure`, or `verified` against the model)
//   reverse names                         PTR of cluster IPs and of endpoints that have a hostname
//   dns-version.<zone>                    TXT "1.1.0"; ns.dns.<zone> the DNS server's own addresses
// A name that exists without records of the asked type is NODATA; an unknown one NXDOMAIN;
// both carry the zone's SOA. Reverse names this zone cannot answer fall through to upstream.

import { addressFromDashed, addressFromReverse, dashedLabel, ipFamily, isReverseName } from './ip.js';
import {
  type ClusterDNSModel,
  type DNSPort,
  PODS_DEP,
  REVERSE_DEP,
  SERIAL_DEP,
  serviceDep,
} from './model.js';
import { CLASS_IN, Rcode, type ResourceRecord, RRType } from './wire.js';

/** The schema version of the Kubernetes DNS specification CoreDNS reports. */
export const DNS_SCHEMA_VERSION = '1.1.0';
/** The TTL CoreDNS gives the dns-version record. */
const VERSION_TTL = 28800;
/** CoreDNS stops following CNAMEs after this many links. */
const MAX_CNAME_CHAIN = 8;

/** How pod names (a-b-c-d.ns.pod.zone) are answered, as CoreDNS's `pods` option. */
export type PodMode = 'insecure' | 'verified' | 'disabled';

/** Options of the cluster zone. */
export interface ClusterZoneOptions {
  model: ClusterDNSModel;
  /** The cluster domain (default cluster.local). */
  zone?: string;
  /** TTL of every record (default 5 s, CoreDNS's default). */
  ttl?: number;
  podMode?: PodMode;
  /** Addresses for ns.dns.<zone>; default: the cluster IPs of `nsService`. */
  nsAddresses?: string[];
  /** The Service fronting the DNS server, `namespace/name` (default kube-system/kube-dns). */
  nsService?: string;
}

/** An authoritative answer of the zone. */
export interface ZoneAnswer {
  rcode: number;
  answers: ResourceRecord[];
  authority: ResourceRecord[];
  additional: ResourceRecord[];
  /** Invalidation keys of the model data the answer was built from. */
  deps: Set<string>;
  /**
   * Set when an ExternalName points outside the zone: the server resolves `target` upstream
   * and appends the result after `cname` (the answer is then not cached here).
   */
  external?: { cname: ResourceRecord; target: string; type: number };
}

/** What the zone makes of a question. */
export type ZoneResult = ZoneAnswer | 'forward';

interface Item {
  /** An IP address or, for ExternalName services, a domain. */
  host: string;
  port: number;
  /** The name this item is published under (SRV target, A owner in the additional section). */
  key: string;
}

const NAME_ERROR = Symbol('name error');
type Items = Item[] | typeof NAME_ERROR;

interface Request {
  podOrSvc: string;
  namespace: string;
  service: string;
  endpoint: string;
  port: string;
  protocol: string;
}

function stripUnderscore(s: string): string {
  return s.startsWith('_') ? s.slice(1) : s;
}

function wildcard(s: string): boolean {
  return s === '*' || s === 'any';
}

function matches(asked: string, have: string): boolean {
  return asked === '' || wildcard(asked) || asked === have;
}

function hostType(host: string): number {
  const f = ipFamily(host);
  return f === 4 ? RRType.A : f === 6 ? RRType.AAAA : RRType.CNAME;
}

/** Answers questions about the cluster zone from the model. */
export class ClusterZone {
  /** The zone, lowercase, without the trailing dot. */
  readonly zone: string;
  private readonly suffix: string;
  /** The model the zone answers from. */
  readonly model: ClusterDNSModel;
  private readonly ttl: number;
  private readonly podMode: PodMode;
  private readonly nsAddresses: string[] | undefined;
  private readonly nsService: [string, string];

  constructor(opts: ClusterZoneOptions) {
    this.zone = (opts.zone ?? 'cluster.local').toLowerCase().replace(/^\.+|\.+$/g, '');
    this.suffix = `.${this.zone}`;
    this.model = opts.model;
    this.ttl = opts.ttl ?? 5;
    this.podMode = opts.podMode ?? 'insecure';
    this.nsAddresses = opts.nsAddresses;
    const [ns, name] = (opts.nsService ?? 'kube-system/kube-dns').split('/');
    this.nsService = [ns ?? 'kube-system', name ?? 'kube-dns'];
  }

  /** Whether a lowercase name is this zone's to answer (reverse names included). */
  owns(name: string): boolean {
    return name === this.zone || name.endsWith(this.suffix) || isReverseName(name);
  }

  /** Answers a question; `name` is lowercase without the trailing dot. */
  resolve(name: string, type: number): ZoneResult {
    if (!(name === this.zone || name.endsWith(this.suffix))) {
      return isReverseName(name) ? this.reverse(name, type) : 'forward';
    }
    const deps = new Set<string>();
    const ok = (answers: ResourceRecord[], additional: ResourceRecord[] = []): ZoneAnswer =>
      answers.length === 0
        ? this.negative(Rcode.NOERROR, deps)
        : { rcode: 0, answers, authority: [], additional, deps };
    const fromItems = (items: Items, build: () => ZoneAnswer): ZoneAnswer =>
      items === NAME_ERROR ? this.negative(Rcode.NXDOMAIN, deps) : build();

    switch (type) {
      case RRType.A:
      case RRType.AAAA: {
        const r = this.addresses(name, type, 0, deps);
        if (r === NAME_ERROR) return this.negative(Rcode.NXDOMAIN, deps);
        const answer = ok(r.records);
        if (r.external) answer.external = r.external;
        return answer;
      }
      case RRType.TXT: {
        if (name === `dns-version${this.suffix}`) {
          return ok([this.rr(name, VERSION_TTL, { kind: 'TXT', texts: [DNS_SCHEMA_VERSION] })]);
        }
        // CoreDNS: NODATA if the name has records of another type, NXDOMAIN otherwise.
        const items = this.records(name, deps);
        return items !== NAME_ERROR && items.length > 0 ? ok([]) : this.negative(Rcode.NXDOMAIN, deps);
      }
      case RRType.CNAME: {
        const items = this.services(name, deps);
        return fromItems(items, () => {
          const first = items !== NAME_ERROR ? items[0] : undefined;
          if (!first || hostType(first.host) !== RRType.CNAME) return ok([]);
          return ok([this.rr(name, this.ttl, { kind: 'CNAME', target: first.host })]);
        });
      }
      case RRType.SRV:
        return this.srv(name, deps);
      case RRType.SOA:
        if (name === this.zone) deps.add(SERIAL_DEP);
        return ok(name === this.zone ? [this.soa()] : []);
      case RRType.NS:
        if (name === this.zone) return this.ns(deps);
        break;
      case RRType.AXFR:
      case RRType.IXFR:
        return { rcode: Rcode.REFUSED, answers: [], authority: [], additional: [], deps };
    }
    // Any other type: a pretend A lookup tells NODATA from NXDOMAIN.
    return fromItems(this.services(name, deps), () => ok([]));
  }

  /** NXDOMAIN or NODATA with the zone's SOA in the authority section. */
  private negative(rcode: number, deps: Set<string>): ZoneAnswer {
    return { rcode, answers: [], authority: [this.soa()], additional: [], deps };
  }

  private rr(name: string, ttl: number, data: ResourceRecord['data']): ResourceRecord {
    return { name, class: CLASS_IN, ttl, data };
  }

  /** The zone's SOA, as CoreDNS builds it (TTL and minimum are the record TTL, capped at 300). */
  soa(): ResourceRecord {
    return this.rr(this.zone, Math.min(this.ttl, 300), {
      kind: 'SOA',
      mname: `ns.dns${this.suffix}`,
      rname: `hostmaster${this.suffix}`,
      serial: this.model.serial,
      refresh: 7200,
      retry: 1800,
      expire: 86400,
      minimum: this.ttl,
    });
  }

  private nsAddrs(deps: Set<string>): string[] {
    if (this.nsAddresses) return this.nsAddresses;
    const [ns, name] = this.nsService;
    deps.add(serviceDep(ns, name));
    return this.model.service(ns, name)?.clusterIPs ?? [];
  }

  private ns(deps: Set<string>): ZoneAnswer {
    const target = `ns.dns${this.suffix}`;
    const additional = this.nsAddrs(deps).map((ip) =>
      this.rr(target, this.ttl, { kind: ipFamily(ip) === 6 ? 'AAAA' : 'A', address: ip }),
    );
    return {
      rcode: 0,
      answers: [this.rr(this.zone, this.ttl, { kind: 'NS', target })],
      authority: [],
      additional,
      deps,
    };
  }

  /** CoreDNS's parseRequest: the labels left of the zone, read right to left. */
  private parse(name: string): Request | typeof NAME_ERROR | null {
    const base = name === this.zone ? '' : name.slice(0, -this.suffix.length);
    if (base === '' || base === 'svc' || base === 'pod') return null;
    const segs = base.split('.');
    let last = segs.length - 1;
    const r: Request = {
      podOrSvc: segs[last] as string,
      namespace: '',
      service: '',
      endpoint: '',
      port: '',
      protocol: '',
    };
    if (r.podOrSvc !== 'svc' && r.podOrSvc !== 'pod') return NAME_ERROR;
    if (--last < 0) return r;
    r.namespace = segs[last] as string;
    if (--last < 0) return r;
    r.service = segs[last] as string;
    if (--last < 0) return r;
    if (last === 0) r.endpoint = segs[0] as string;
    else if (last === 1) {
      r.protocol = stripUnderscore(segs[1] as string);
      r.port = stripUnderscore(segs[0] as string);
    } else return NAME_ERROR;
    return r;
  }

  /** Everything published under a name (CoreDNS's Records). */
  private records(name: string, deps: Set<string>): Items {
    const r = this.parse(name);
    if (r === NAME_ERROR) return NAME_ERROR;
    if (r === null) return [];
    return r.podOrSvc === 'pod' ? this.pods(name, r, deps) : this.findServices(r, deps);
  }

  /** Records plus the server's own name (CoreDNS's Services, for address-like queries). */
  private services(name: string, deps: Set<string>): Items {
    if (name === `ns.dns${this.suffix}`) return [];
    return this.records(name, deps);
  }

  private pods(name: string, r: Request, deps: Set<string>): Items {
    if (this.podMode === 'disabled') return NAME_ERROR;
    if (r.service === '') return [];
    const ip = addressFromDashed(r.service);
    if (!ip) return NAME_ERROR;
    if (this.podMode === 'verified') {
      deps.add(PODS_DEP);
      if (!this.model.hasPodIP(r.namespace, ip)) return NAME_ERROR;
    }
    return [{ host: ip, port: 0, key: name }];
  }

  private findServices(r: Request, deps: Set<string>): Items {
    if (r.service === '') return [];
    deps.add(serviceDep(r.namespace, r.service));
    const svc = this.model.service(r.namespace, r.service);
    if (!svc) return NAME_ERROR;
    const svcName = `${svc.name}.${svc.namespace}.svc${this.suffix}`;
    const portMatches = (p: DNSPort): boolean => matches(r.port, p.name) && matches(r.protocol, p.protocol);
    const out: Item[] = [];
    let found = false;

    if (svc.kind === 'ExternalName') {
      // An external service has no endpoints, so a name below it does not exist.
      if (r.endpoint !== '' || svc.externalName === '' || ipFamily(svc.externalName) !== 0) return NAME_ERROR;
      return [{ host: svc.externalName, port: 0, key: svcName }];
    }

    if (svc.kind === 'Headless' || r.endpoint !== '') {
      for (const slice of this.model.slicesOf(svc.namespace, svc.name)) {
        // CoreDNS marks a portless slice with port -1: it yields addresses but no SRV.
        const ports = slice.ports.length > 0 ? slice.ports : [{ name: '', protocol: '', port: -1 }];
        for (const ep of slice.endpoints) {
          if (!ep.ready && !svc.publishNotReadyAddresses) continue;
          for (const addr of ep.addresses) {
            const epName = ep.hostname || dashedLabel(addr);
            if (r.endpoint !== '' && r.endpoint !== epName && !wildcard(r.endpoint)) continue;
            for (const p of ports) {
              if (!portMatches(p)) continue;
              found = true;
              out.push({ host: addr, port: p.port, key: `${epName}.${svcName}` });
            }
          }
        }
      }
      return found ? out : NAME_ERROR;
    }

    for (const p of svc.ports) {
      if (!portMatches(p)) continue;
      found = true;
      for (const ip of svc.clusterIPs) out.push({ host: ip, port: p.port, key: svcName });
    }
    return found ? out : NAME_ERROR;
  }

  /** CoreDNS's A/AAAA: addresses of a name, following in-zone CNAMEs. */
  private addresses(
    name: string,
    type: number,
    depth: number,
    deps: Set<string>,
  ): { records: ResourceRecord[]; external?: ZoneAnswer['external'] } | typeof NAME_ERROR {
    let items: Items;
    if (name === `ns.dns${this.suffix}`) {
      items = this.nsAddrs(deps).map((ip) => ({ host: ip, port: 0, key: name }));
    } else items = this.services(name, deps);
    if (items === NAME_ERROR) return NAME_ERROR;
    const records: ResourceRecord[] = [];
    const seen = new Set<string>();
    let external: ZoneAnswer['external'];
    for (const item of items) {
      const t = hostType(item.host);
      if (t === RRType.CNAME) {
        if (item.host === name || depth >= MAX_CNAME_CHAIN - 1) continue;
        const cname = this.rr(name, this.ttl, { kind: 'CNAME', target: item.host });
        if (item.host === this.zone || item.host.endsWith(this.suffix)) {
          const next = this.addresses(item.host, type, depth + 1, deps);
          if (next !== NAME_ERROR && next.records.length > 0) records.push(cname, ...next.records);
          else if (next !== NAME_ERROR && next.external) {
            records.push(cname);
            external = next.external;
          }
          continue;
        }
        external = { cname, target: item.host, type };
        continue;
      }
      if (t !== type || seen.has(item.host)) continue;
      seen.add(item.host);
      records.push(this.rr(name, this.ttl, { kind: t === RRType.A ? 'A' : 'AAAA', address: item.host }));
    }
    return external ? { records, external } : { records };
  }

  /** CoreDNS's SRV: one record per (target, port), weights shared out of 100. */
  private srv(name: string, deps: Set<string>): ZoneAnswer {
    const all = this.services(name, deps);
    if (all === NAME_ERROR) return this.negative(Rcode.NXDOMAIN, deps);
    // SRV for ExternalName services is not implemented upstream either.
    const items = all.filter((i) => hostType(i.host) !== RRType.CNAME);
    const weight = items.length > 0 ? Math.floor((100 / (100 * items.length)) * 100) : 0;
    const answers: ResourceRecord[] = [];
    const additional: ResourceRecord[] = [];
    const seen = new Set<string>();
    for (const item of items) {
      if (item.port === -1) continue;
      const srvKey = `${item.key} ${item.port}`;
      if (!seen.has(srvKey)) {
        seen.add(srvKey);
        answers.push(
          this.rr(name, this.ttl, { kind: 'SRV', priority: 0, weight, port: item.port, target: item.key }),
        );
      }
      const addrKey = `${item.key} @${item.host}`;
      if (!seen.has(addrKey)) {
        seen.add(addrKey);
        const kind = hostType(item.host) === RRType.A ? 'A' : 'AAAA';
        additional.push(this.rr(item.key, this.ttl, { kind, address: item.host }));
      }
    }
    if (answers.length === 0) return this.negative(Rcode.NOERROR, deps);
    return { rcode: 0, answers, authority: [], additional, deps };
  }

  /**
   * PTR for cluster IPs, then for endpoints with a hostname. Anything else under the reverse
   * zones falls through to upstream, as the stock Corefile's `fallthrough in-addr.arpa ip6.arpa`.
   */
  private reverse(name: string, type: number): ZoneResult {
    if (type !== RRType.PTR) return 'forward';
    const ip = addressFromReverse(name);
    if (!ip) return 'forward';
    const deps = new Set<string>([REVERSE_DEP]);
    const answers: ResourceRecord[] = [];
    for (const svc of this.model.servicesWithIP(ip)) {
      answers.push(
        this.rr(name, this.ttl, { kind: 'PTR', target: `${svc.name}.${svc.namespace}.svc${this.suffix}` }),
      );
      return { rcode: 0, answers, authority: [], additional: [], deps };
    }
    const seen = new Set<string>();
    for (const slice of this.model.slicesWithIP(ip)) {
      const svc = slice.service ? this.model.service(slice.namespace, slice.service) : undefined;
      for (const ep of slice.endpoints) {
        if (ep.hostname === '' || !ep.addresses.includes(ip)) continue;
        if (!ep.ready && !svc?.publishNotReadyAddresses) continue;
        const target = `${ep.hostname}.${slice.service}.${slice.namespace}.svc${this.suffix}`;
        if (seen.has(target)) continue;
        seen.add(target);
        answers.push(this.rr(name, this.ttl, { kind: 'PTR', target }));
      }
    }
    return answers.length > 0 ? { rcode: 0, answers, authority: [], additional: [], deps } : 'forward';
  }
}
