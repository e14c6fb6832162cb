// The nftables ruleset of kts's proxier, as `nft -f` input. Shapes follow upstream
// kube-proxy's nftables mode (pkg/proxy/nftables/proxier.go) inside one kts-owned table,
// `ip kts-proxy`, cut for sync speed: chains cost nft and the kernel far more than rules or
// set elements (listing, parsing and validating 11,000 chains dominated every transaction),
// so the table holds about one chain per service port and everything else is elements:
//   - service dispatch is one verdict-map lookup keyed by `ip daddr . meta l4proto . th dport`
//     (@service-ips) or `meta l4proto . th dport` on local addresses (@service-nodeports),
//     so the cost per packet and per update does not grow with the number of Services;
//   - a service chain (`service-…`, or `local-…` for Local traffic policies) DNATs directly:
//     `dnat to numgen random mod N map { 0 : ip . port , … }` (a plain `dnat to ip:port` for
//     one endpoint). Only ClientIP-affinity ports keep upstream's per-endpoint chains, which
//     each `update` their endpoint's affinity set; their service chain first sends known
//     clients back to their endpoint, then picks one with `numgen random mod N vmap`;
//   - hairpin (a pod reaching itself through a Service) needs no endpoint chain: every
//     reachable endpoint of this node (or of no named node) adds `ip . ip` to
//     @hairpin-connections, and nat-postrouting marks DNATed connections whose source and
//     destination are both that endpoint. Several ports may share such an element, so the
//     engine reference-counts it (see `NftRefs`);
//   - off-cluster sources reaching a ClusterIP (or every source with masqueradeAll) are
//     marked once in `services`, via @cluster-ips, not in every service chain;
//   - Services without (local) endpoints are elements of @no-endpoint-services /
//     @no-endpoint-nodeports, looked up by the filter hooks for new connections only;
//   - masquerade requests set bit 13 of the packet mark (0x2000) as in iptables mode.
// A partial sync is then a few element adds/deletes plus a flush-and-refill of the one or
// two chains of each changed service port. Generation is per service port (cached by the
// engine per Service); rendering writes either the whole table (full sync) or the
// difference between two sets of fragments (partial sync).

import { cidrContains, masqueradeMark, type RuleConfig } from './iptables-rules.js';
import {
  categorizeEndpoints,
  chainHash,
  type EndpointInfo,
  isExternallyAccessible,
  type ServicePortInfo,
} from './model.js';

/** The one table kts's nftables mode owns; `--cleanup` deletes exactly this table. */
export const NFT_TABLE = 'kts-proxy';
/** The address family of the table (IPv4 only, as the rest of the proxier). */
export const NFT_FAMILY = 'ip';

const T = `${NFT_FAMILY} ${NFT_TABLE}`;

/** nft's limit on a chain or set name is 256 bytes; upstream keeps well under it. */
const MAX_NAME = 200;

/** A set or map element owned by one service port. */
export interface NftElement {
  /** The set or map holding it. */
  set: string;
  /** The key, e.g. `10.43.0.10 . tcp . 80`. */
  key: string;
  /** The verdict or value of a map element; undefined for set elements. */
  value?: string;
  comment?: string;
}

/** What one service port contributes to the table. */
export interface NftServicePortRules {
  /** Its own chains (service, local, external, firewall, endpoint) with their rules. */
  chains: Array<[string, string[]]>;
  /** Its elements of the shared sets and maps. */
  elements: NftElement[];
  /** Dynamic sets it owns (ClientIP affinity), name → `add set` body. */
  sets: Array<[string, string]>;
}

function hashed(prefix: string, base: string, hash = chainHash(base)): string {
  const name = `${prefix}-${hash.slice(0, 8)}-${base}`;
  return name.length > MAX_NAME ? `${name.slice(0, MAX_NAME - 3)}...` : name;
}

/** `ns/name/proto/port`: the readable tail of every chain of one service port (upstream's base). */
function portBase(info: ServicePortInfo): string {
  const [ns = '', name = ''] = info.serviceKey.split('/');
  return `${ns}/${name}/${info.protocol}/${info.portName}`;
}

function endpointBase(info: ServicePortInfo, ep: EndpointInfo): string {
  return `${portBase(info)}__${ep.ip}/${ep.port}`;
}

/** The chain and set names of one service port (upstream's servicePortInfo names). */
export function nftNames(info: ServicePortInfo): {
  cluster: string;
  local: string;
  external: string;
  firewall: string;
} {
  const base = portBase(info);
  const h = chainHash(base);
  return {
    cluster: hashed('service', base, h),
    local: hashed('local', base, h),
    external: hashed('external', base, h),
    firewall: hashed('firewall', base, h),
  };
}

/** The endpoint chain of one endpoint of one service port. */
export function nftEndpointChain(info: ServicePortInfo, ep: EndpointInfo): string {
  return hashed('endpoint', endpointBase(info, ep));
}

/** The affinity set of one endpoint of one service port. */
export function nftAffinitySet(info: ServicePortInfo, ep: EndpointInfo): string {
  return hashed('affinity', endpointBase(info, ep));
}

function q(s: string): string {
  return `"${s.replaceAll('"', "'")}"`;
}

/** The set of endpoint pairs whose DNATed connections are hairpin and must be masqueraded. */
export const NFT_HAIRPIN_SET = 'hairpin-connections';

/** Everything one service port contributes to the kts-proxy table. */
export function nftServicePortRules(
  info: ServicePortInfo,
  endpoints: EndpointInfo[],
  cfg: RuleConfig,
): NftServicePortRules {
  const cat = categorizeEndpoints(info, endpoints);
  const names = nftNames(info);
  const out: NftServicePortRules = { chains: [], elements: [], sets: [] };
  const proto = info.protocol;
  const hasEndpoints = cat.hasAny;
  const usesLocalChain = cat.local.length > 0;
  const internalChain = info.internalPolicyLocal ? names.local : names.cluster;
  const hasInternal = info.internalPolicyLocal ? hasEndpoints && usesLocalChain : hasEndpoints;
  const externalPolicyChain = info.externalPolicyLocal ? names.local : names.cluster;
  const hasExternal = info.externalPolicyLocal ? hasEndpoints && usesLocalChain : hasEndpoints;
  const usesExternalChain = hasEndpoints && isExternallyAccessible(info);
  const usesFwChain =
    hasEndpoints && info.loadBalancerVIPs.length > 0 && info.loadBalancerSourceRanges.length > 0;
  // Without any endpoint the connection is refused; without a local one it is dropped, as
  // upstream: a client elsewhere may retry through a node that has one.
  const internalVerdict = hasEndpoints ? 'drop' : 'goto reject-chain';
  const externalVerdict = internalVerdict;
  const externalTarget = `goto ${names.external}`;
  const el = (set: string, key: string, value?: string, comment?: string): void => {
    const e: NftElement = { set, key };
    if (value !== undefined) e.value = value;
    if (comment !== undefined) e.comment = comment;
    out.elements.push(e);
  };

  el('cluster-ips', info.clusterIP);
  const clusterKey = `${info.clusterIP} . ${proto} . ${info.port}`;
  if (hasInternal) el('service-ips', clusterKey, `goto ${internalChain}`);
  else el('no-endpoint-services', clusterKey, internalVerdict, info.name);
  for (const ip of info.externalIPs) {
    const key = `${ip} . ${proto} . ${info.port}`;
    if (hasEndpoints) el('service-ips', key, externalTarget);
    if (!hasExternal) el('no-endpoint-services', key, externalVerdict, info.name);
  }
  for (const ip of info.loadBalancerVIPs) {
    const key = `${ip} . ${proto} . ${info.port}`;
    if (hasEndpoints) el('service-ips', key, externalTarget);
    if (usesFwChain) el('firewall-ips', key, `goto ${names.firewall}`, info.name);
    if (!hasExternal) el('no-endpoint-services', key, externalVerdict, info.name);
  }
  if (info.nodePort !== 0) {
    const key = `${proto} . ${info.nodePort}`;
    if (hasEndpoints) el('service-nodeports', key, externalTarget);
    if (!hasExternal) el('no-endpoint-nodeports', key, externalVerdict, info.name);
  }
  // Hairpin: a pod reaching itself through the service must be masqueraded, or its reply
  // would bypass the DNAT and be dropped by the client. Only a pod of this node can do that
  // here, so endpoints known to run elsewhere add nothing.
  const hairpin = new Set<string>();
  for (const ep of cat.allReachable) if (ep.isLocal || ep.nodeName === undefined) hairpin.add(ep.ip);
  for (const ip of hairpin) el(NFT_HAIRPIN_SET, `${ip} . ${ip}`);

  const chainRules = new Map<string, string[]>();
  const chain = (c: string): string[] => {
    let lines = chainRules.get(c);
    if (lines === undefined) {
      lines = [];
      chainRules.set(c, lines);
    }
    return lines;
  };
  if (usesExternalChain) {
    const ext = chain(names.external);
    if (!info.externalPolicyLocal) {
      ext.push('jump mark-for-masquerade');
    } else {
      if (cfg.clusterCIDR !== undefined) {
        ext.push(`ip saddr ${cfg.clusterCIDR} goto ${names.cluster} comment "short-circuit pod traffic"`);
      }
      ext.push('fib saddr type local jump mark-for-masquerade comment "masquerade local traffic"');
      ext.push(`fib saddr type local goto ${names.cluster} comment "short-circuit local traffic"`);
    }
    if (hasExternal) ext.push(`goto ${externalPolicyChain}`);
  }
  if (usesFwChain) {
    const allow = [...info.loadBalancerSourceRanges];
    // A node reaching its own LoadBalancer VIP loops back with the VIP as source.
    if (info.loadBalancerSourceRanges.some((r) => (cfg.nodeIPs ?? []).some((ip) => cidrContains(r, ip))))
      allow.push(...info.loadBalancerVIPs);
    chain(names.firewall).push(`ip saddr != { ${allow.join(' , ')} } drop`);
  }
  const dnatTarget = (ep: EndpointInfo): string => `${ep.ip} . ${ep.port}`;
  const epChains = new Map<EndpointInfo, string>();
  // Each name costs a sha256; an endpoint may appear in both policy chains.
  const epChain = (ep: EndpointInfo): string => {
    let n = epChains.get(ep);
    if (n === undefined) {
      n = nftEndpointChain(info, ep);
      epChains.set(ep, n);
    }
    return n;
  };
  const writeDispatch = (c: string, eps: EndpointInfo[]): void => {
    const lines = chain(c);
    if (info.affinityClientIP) {
      for (const ep of eps) lines.push(`ip saddr @${nftAffinitySet(info, ep)} goto ${epChain(ep)}`);
      const vmap = eps.map((ep, i) => `${i} : goto ${epChain(ep)}`).join(' , ');
      lines.push(`numgen random mod ${eps.length} vmap { ${vmap} }`);
      return;
    }
    const [only] = eps;
    if (eps.length === 1 && only !== undefined) lines.push(`meta l4proto ${proto} dnat to ${only.endpoint}`);
    else {
      const map = eps.map((ep, i) => `${i} : ${dnatTarget(ep)}`).join(' , ');
      lines.push(`meta l4proto ${proto} dnat to numgen random mod ${eps.length} map { ${map} }`);
    }
  };
  if (cat.cluster.length > 0) writeDispatch(names.cluster, cat.cluster);
  if (usesLocalChain) writeDispatch(names.local, cat.local);
  if (info.affinityClientIP) {
    for (const ep of cat.allReachable) {
      const c = chain(epChain(ep));
      const set = nftAffinitySet(info, ep);
      out.sets.push([
        set,
        `{ type ipv4_addr ; flags dynamic,timeout ; timeout ${info.stickyMaxAgeSeconds}s ; }`,
      ]);
      c.push(`update @${set} { ip saddr }`);
      c.push(`meta l4proto ${proto} dnat to ${ep.endpoint}`);
    }
  }
  out.chains = [...chainRules.entries()];
  return out;
}

/** The shared sets and maps: name → kind and `add` body (upstream's baseRules). */
const BASE_SETS: ReadonlyArray<[string, 'set' | 'map', string]> = [
  ['cluster-ips', 'set', '{ type ipv4_addr ; comment "Active ClusterIPs" ; }'],
  [
    'firewall-ips',
    'map',
    '{ type ipv4_addr . inet_proto . inet_service : verdict ; comment "destinations that are subject to LoadBalancerSourceRanges" ; }',
  ],
  [
    'no-endpoint-nodeports',
    'map',
    '{ type inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to service nodeports with no endpoints" ; }',
  ],
  [
    'no-endpoint-services',
    'map',
    '{ type ipv4_addr . inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to services with no endpoints" ; }',
  ],
  [
    'service-ips',
    'map',
    '{ type ipv4_addr . inet_proto . inet_service : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }',
  ],
  ['service-nodeports', 'map', '{ type inet_proto . inet_service : verdict ; comment "NodePort traffic" ; }'],
  [
    NFT_HAIRPIN_SET,
    'set',
    '{ type ipv4_addr . ipv4_addr ; comment "endpoint . endpoint: a pod reaching itself through a service" ; }',
  ],
];

/** Names of the shared sets and maps whose elements come from service ports. */
export const NFT_SHARED_SETS: readonly string[] = BASE_SETS.map(([n]) => n);

/** The fixed chains (hooks, dispatch, checks, masquerade) and their rules. */
export function nftBaseChains(cfg: RuleConfig): Array<[string, string, string[]]> {
  const mark = masqueradeMark(cfg.masqueradeBit);
  // Localhost NodePorts would need route_localnet; as in iptables mode loopback
  // destinations are left alone.
  const localDst = 'fib daddr type local ip daddr != 127.0.0.0/8';
  // Off-cluster clients reaching a service IP may be sent to another node's pod; masquerade
  // so the reply comes back through this node. One rule for every ClusterIP: a port without
  // endpoints or not served is rejected by the filter chains anyway.
  const offCluster = cfg.masqueradeAll
    ? ['ip daddr @cluster-ips jump mark-for-masquerade']
    : cfg.clusterCIDR !== undefined
      ? [`ip daddr @cluster-ips ip saddr != ${cfg.clusterCIDR} jump mark-for-masquerade`]
      : [];
  return [
    [
      'cluster-ips-check',
      '',
      ['ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"'],
    ],
    [
      'filter-prerouting-pre-dnat',
      '{ type filter hook prerouting priority -110 ; }',
      ['ct state new jump firewall-check'],
    ],
    [
      'filter-output-pre-dnat',
      '{ type filter hook output priority -110 ; }',
      ['ct state new jump firewall-check'],
    ],
    [
      'filter-forward',
      '{ type filter hook forward priority 0 ; }',
      ['ct state new jump service-endpoints-check', 'ct state new jump cluster-ips-check'],
    ],
    [
      'filter-input',
      '{ type filter hook input priority 0 ; }',
      ['ct state new jump nodeport-endpoints-check', 'ct state new jump service-endpoints-check'],
    ],
    [
      'filter-output',
      '{ type filter hook output priority 0 ; }',
      ['ct state new jump service-endpoints-check', 'ct state new jump cluster-ips-check'],
    ],
    ['firewall-check', '', ['ip daddr . meta l4proto . th dport vmap @firewall-ips']],
    ['mark-for-masquerade', '', [`mark set mark or ${mark}`]],
    [
      'masquerading',
      '',
      [`mark and ${mark} == 0 return`, `mark set mark xor ${mark}`, 'masquerade fully-random'],
    ],
    ['nat-output', '{ type nat hook output priority -100 ; }', ['jump services']],
    [
      'nat-postrouting',
      '{ type nat hook postrouting priority 100 ; }',
      [
        `ct status dnat ip saddr . ip daddr @${NFT_HAIRPIN_SET} jump mark-for-masquerade`,
        'jump masquerading',
      ],
    ],
    ['nat-prerouting', '{ type nat hook prerouting priority -100 ; }', ['jump services']],
    ['nodeport-endpoints-check', '', [`${localDst} meta l4proto . th dport vmap @no-endpoint-nodeports`]],
    ['reject-chain', '{ comment "helper for @no-endpoint-services / @no-endpoint-nodeports" ; }', ['reject']],
    [
      'services',
      '',
      [
        ...offCluster,
        'ip daddr . meta l4proto . th dport vmap @service-ips',
        `${localDst} meta l4proto . th dport vmap @service-nodeports`,
      ],
    ],
    ['service-endpoints-check', '', ['ip daddr . meta l4proto . th dport vmap @no-endpoint-services']],
  ];
}

function elementText(e: NftElement): string {
  const comment = e.comment === undefined ? '' : ` comment ${q(e.comment)}`;
  return e.value === undefined ? `${e.key}${comment}` : `${e.key}${comment} : ${e.value}`;
}

/** Adds of many elements grouped per set, a few hundred per command to keep lines short. */
function pushElements(out: string[], verb: 'add' | 'delete', elements: Iterable<NftElement>): void {
  const bySet = new Map<string, string[]>();
  for (const e of elements) {
    let list = bySet.get(e.set);
    if (list === undefined) {
      list = [];
      bySet.set(e.set, list);
    }
    // A delete names the key only.
    list.push(verb === 'add' ? elementText(e) : e.key);
  }
  for (const [set, list] of bySet) {
    for (let i = 0; i < list.length; i += 500) {
      out.push(`${verb} element ${T} ${set} { ${list.slice(i, i + 500).join(' , ')} }`);
    }
  }
}

/** A transaction and what it does. */
export interface NftRenderResult {
  /** `nft -f` input; '' when nothing needs to change. */
  script: string;
  /** Chains written (created or flushed and refilled). */
  rewritten: number;
  /** Chains deleted. */
  deleted: number;
  /**
   * Owner counts of shared elements after this transaction: all of them for a full render,
   * only those that changed (0 = gone) for a partial one. Kept by the caller once applied.
   */
  refs: Map<string, number>;
}

/**
 * How many service ports hold each element of a shared set (@hairpin-connections), by
 * `set NUL key`: an element goes only when its last owner does.
 */
export type NftRefs = ReadonlyMap<string, number>;

/** Sets whose elements several service ports may own at once. */
const REFCOUNTED: ReadonlySet<string> = new Set([NFT_HAIRPIN_SET]);

/**
 * The whole table from scratch: the table is created if missing and deleted in the same
 * transaction, so leftovers of any earlier ruleset (stale chains, elements, sets) go
 * atomically; packets see either the old or the new table, never a mix. ClientIP affinity
 * entries are the price: they restart after a full sync (first sync, failures, and the
 * hourly resync).
 */
export function renderNftFull(ports: Iterable<NftServicePortRules>, cfg: RuleConfig): NftRenderResult {
  const out: string[] = [
    `add table ${T}`,
    `delete table ${T}`,
    `add table ${T} { comment "rules for kts proxy" ; }`,
  ];
  for (const [name, kind, body] of BASE_SETS) out.push(`add ${kind} ${T} ${name} ${body}`);
  const base = nftBaseChains(cfg);
  for (const [name, spec] of base)
    out.push(spec === '' ? `add chain ${T} ${name}` : `add chain ${T} ${name} ${spec}`);
  for (const [name, , rules] of base) for (const r of rules) out.push(`add rule ${T} ${name} ${r}`);
  const elements: NftElement[] = [];
  const refs = new Map<string, number>();
  let rewritten = base.length;
  const rules: string[] = [];
  for (const p of ports) {
    for (const [name, body] of p.sets) out.push(`add set ${T} ${name} ${body}`);
    for (const [name, lines] of p.chains) {
      out.push(`add chain ${T} ${name}`);
      for (const r of lines) rules.push(`add rule ${T} ${name} ${r}`);
      rewritten++;
    }
    for (const e of p.elements) {
      if (REFCOUNTED.has(e.set)) {
        const id = elementId(e);
        const n = refs.get(id) ?? 0;
        refs.set(id, n + 1);
        if (n > 0) continue;
      }
      elements.push(e);
    }
  }
  for (const r of rules) out.push(r);
  pushElements(out, 'add', elements);
  return { script: `${out.join('\n')}\n`, rewritten, deleted: 0, refs };
}

function sameLines(a: readonly string[] | undefined, b: readonly string[]): boolean {
  if (a === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function elementId(e: NftElement): string {
  return `${e.set}\u0000${e.key}`;
}

/**
 * The transaction from `previous` to `next` fragments of the Services that changed (each
 * array is every port of one Service; a missing entry means the Service has no rules).
 * Order matters to the kernel: chains exist before rules jump to them; elements that point
 * at a chain are removed before the chain is; a chain is emptied before it is deleted.
 * `refs` are the applied owner counts of shared elements (without them, the changed
 * Services are taken to own theirs alone).
 */
export function renderNftPartial(
  changes: Iterable<{ previous: NftServicePortRules[] | undefined; next: NftServicePortRules[] | undefined }>,
  refs?: NftRefs,
): NftRenderResult {
  // Owner counts of shared elements within the changed Services, before and after.
  const shared = new Map<string, { e: NftElement; before: number; after: number }>();
  const count = (e: NftElement, side: 'before' | 'after'): void => {
    const id = elementId(e);
    let c = shared.get(id);
    if (c === undefined) {
      c = { e, before: 0, after: 0 };
      shared.set(id, c);
    }
    c[side]++;
  };
  const oldChains = new Map<string, string[]>();
  const newChains = new Map<string, string[]>();
  const oldElements = new Map<string, NftElement>();
  const newElements = new Map<string, NftElement>();
  const oldSets = new Set<string>();
  const newSets = new Map<string, string>();
  for (const c of changes) {
    for (const p of c.previous ?? []) {
      for (const [n, lines] of p.chains) oldChains.set(n, lines);
      for (const e of p.elements) {
        if (REFCOUNTED.has(e.set)) count(e, 'before');
        else oldElements.set(elementId(e), e);
      }
      for (const [n] of p.sets) oldSets.add(n);
    }
    for (const p of c.next ?? []) {
      for (const [n, lines] of p.chains) newChains.set(n, lines);
      for (const e of p.elements) {
        if (REFCOUNTED.has(e.set)) count(e, 'after');
        else newElements.set(elementId(e), e);
      }
      for (const [n, body] of p.sets) newSets.set(n, body);
    }
  }
  const out: string[] = [];
  for (const [n, body] of newSets) if (!oldSets.has(n)) out.push(`add set ${T} ${n} ${body}`);
  const write: string[] = [];
  for (const [n, lines] of newChains) if (!sameLines(oldChains.get(n), lines)) write.push(n);
  for (const n of write) {
    out.push(`add chain ${T} ${n}`);
    if (oldChains.has(n)) out.push(`flush chain ${T} ${n}`);
  }
  for (const n of write) for (const r of newChains.get(n) ?? []) out.push(`add rule ${T} ${n} ${r}`);
  const removed: NftElement[] = [];
  const added: NftElement[] = [];
  for (const [id, e] of oldElements) {
    const n = newElements.get(id);
    if (n === undefined || elementText(n) !== elementText(e)) removed.push(e);
  }
  for (const [id, e] of newElements) {
    const o = oldElements.get(id);
    if (o === undefined || elementText(o) !== elementText(e)) added.push(e);
  }
  const refUpdates = new Map<string, number>();
  for (const [id, c] of shared) {
    // Without counts, the changed Services are taken to be the only owners.
    const cur = refs === undefined ? c.before : (refs.get(id) ?? 0);
    const next = Math.max(0, cur - c.before + c.after);
    if (next === cur) continue;
    refUpdates.set(id, next);
    if (cur === 0) added.push(c.e);
    else if (next === 0) removed.push(c.e);
  }
  pushElements(out, 'delete', removed);
  pushElements(out, 'add', added);
  const stale = [...oldChains.keys()].filter((n) => !newChains.has(n));
  for (const n of stale) out.push(`flush chain ${T} ${n}`);
  for (const n of stale) out.push(`delete chain ${T} ${n}`);
  for (const n of oldSets) if (!newSets.has(n)) out.push(`delete set ${T} ${n}`);
  return {
    script: out.length === 0 ? '' : `${out.join('\n')}\n`,
    rewritten: write.length,
    deleted: stale.length,
    refs: refUpdates,
  };
}
