// The iptables rules of kts's proxier, as `iptables-restore` input. Rule shapes follow
// upstream kube-proxy's iptables proxier (pkg/proxy/iptables/proxier.go) with every chain
// renamed under the kts-owned `KTS-` prefix, so that cleanup can remove exactly what kts
// made. Generation is split in two so a sync only re-renders what changed:
//   servicePortRules(): the rules one service port contributes (its own chains plus lines
//     for the shared top-level chains), cached by the proxier per Service;
//   assembleTables(): the complete kts state of the nat and filter tables (chain → lines);
//   renderRestore(): the transaction that moves the kernel from one state to the next,
//     either everything (full sync) or only chains whose content changed (partial sync).

import {
  type CategorizedEndpoints,
  categorizeEndpoints,
  type EndpointInfo,
  isExternallyAccessible,
  type ServicePortInfo,
} from './model.js';

/** nat: entry for every service destination. */
export const KTS_SERVICES = 'KTS-SERVICES';
/** nat: NodePort dispatch, reached from the last rule of KTS-SERVICES. */
export const KTS_NODEPORTS = 'KTS-NODEPORTS';
/** nat: masquerades packets carrying the kts mark. */
export const KTS_POSTROUTING = 'KTS-POSTROUTING';
/** nat: sets the kts masquerade mark. */
export const KTS_MARK_MASQ = 'KTS-MARK-MASQ';
/** filter: rejects external destinations without usable endpoints. */
export const KTS_EXTERNAL_SERVICES = 'KTS-EXTERNAL-SERVICES';
/** filter: accepts forwarded service traffic. */
export const KTS_FORWARD = 'KTS-FORWARD';
/** filter: drops LoadBalancer traffic refused by loadBalancerSourceRanges. */
export const KTS_PROXY_FIREWALL = 'KTS-PROXY-FIREWALL';

/** Prefix of every chain kts owns; `--cleanup` removes exactly the chains carrying it. */
export const KTS_CHAIN_PREFIX = 'KTS-';

/**
 * Default masquerade bit: 13 (mark 0x2000). Upstream kube-proxy uses bit 14 (0x4000) and
 * kubelet bit 15 (0x8000); a distinct bit keeps kts from interfering with a real
 * kube-proxy or k3s on the same machine.
 */
export const DEFAULT_MASQUERADE_BIT = 13;

/** What the generator needs to know about the node and cluster. */
export interface RuleConfig {
  /** The bit of the packet mark that requests masquerade (0–31). */
  masqueradeBit: number;
  /** The pod network (e.g. 10.42.0.0/16): traffic from outside it is masqueraded. */
  clusterCIDR?: string;
  /** Masquerade all service traffic (upstream --masquerade-all). */
  masqueradeAll?: boolean;
  /** This node's IPs, to let the node through a LoadBalancer firewall that admits it. */
  nodeIPs?: string[];
}

/** The mark value and mask for a masquerade bit, e.g. `0x2000`. */
export function masqueradeMark(bit: number): string {
  return `0x${((1 << bit) >>> 0).toString(16)}`;
}

/** The rules one service port contributes. */
export interface ServicePortRules {
  /** The port's own nat chains (SVC, SVL, EXT, FW, SEP) in order, with their rules. */
  natChains: Array<[string, string[]]>;
  natServices: string[];
  natNodePorts: string[];
  filterServices: string[];
  filterExternal: string[];
  filterFirewall: string[];
}

/** The kts part of the nat and filter tables: chain name → its `-A` lines, in order. */
export interface Tables {
  nat: Map<string, string[]>;
  filter: Map<string, string[]>;
}

/** A rule kts inserts into a built-in chain to reach one of its own chains. */
export interface JumpRule {
  table: 'nat' | 'filter';
  chain: string;
  target: string;
  comment: string;
  extra: string;
}

/** The jumps from built-in chains into kts chains (upstream iptablesJumpChains). */
export const JUMP_RULES: readonly JumpRule[] = [
  jump('filter', 'INPUT', KTS_EXTERNAL_SERVICES, 'kts externally-visible service portals', true),
  jump('filter', 'FORWARD', KTS_EXTERNAL_SERVICES, 'kts externally-visible service portals', true),
  jump('filter', 'FORWARD', KTS_SERVICES, 'kts service portals', true),
  jump('filter', 'OUTPUT', KTS_SERVICES, 'kts service portals', true),
  jump('filter', 'FORWARD', KTS_FORWARD, 'kts forwarding rules', false),
  jump('filter', 'INPUT', KTS_PROXY_FIREWALL, 'kts load balancer firewall', true),
  jump('filter', 'OUTPUT', KTS_PROXY_FIREWALL, 'kts load balancer firewall', true),
  jump('filter', 'FORWARD', KTS_PROXY_FIREWALL, 'kts load balancer firewall', true),
  jump('nat', 'OUTPUT', KTS_SERVICES, 'kts service portals', false),
  jump('nat', 'PREROUTING', KTS_SERVICES, 'kts service portals', false),
  jump('nat', 'POSTROUTING', KTS_POSTROUTING, 'kts postrouting rules', false),
];

function jump(
  table: 'nat' | 'filter',
  chain: string,
  target: string,
  comment: string,
  onlyNew: boolean,
): JumpRule {
  return { table, chain, target, comment, extra: onlyNew ? '-m conntrack --ctstate NEW ' : '' };
}

/** The `-I` line that inserts a jump rule at the top of its built-in chain. */
export function jumpRuleLine(j: JumpRule): string {
  return `-I ${j.chain} 1 -m comment --comment "${j.comment}" ${j.extra}-j ${j.target}`;
}

function probability(n: number): string {
  return (1 / n).toFixed(10);
}

/** Service-chain lines for the endpoints of one policy chain (upstream writeServiceToEndpointRules). */
function writeServiceToEndpointRules(
  out: string[],
  info: ServicePortInfo,
  chain: string,
  endpoints: EndpointInfo[],
): void {
  if (info.affinityClientIP) {
    for (const ep of endpoints) {
      out.push(
        `-A ${chain} -m comment --comment "${info.name} -> ${ep.endpoint}" -m recent --name ${ep.chain} --rcheck --seconds ${info.stickyMaxAgeSeconds} --reap -j ${ep.chain}`,
      );
    }
  }
  const n = endpoints.length;
  endpoints.forEach((ep, i) => {
    const stat = i < n - 1 ? ` -m statistic --mode random --probability ${probability(n - i)}` : '';
    out.push(`-A ${chain} -m comment --comment "${info.name} -> ${ep.endpoint}"${stat} -j ${ep.chain}`);
  });
}

/** Everything one service port contributes to the kts tables. */
export function servicePortRules(
  info: ServicePortInfo,
  endpoints: EndpointInfo[],
  cfg: RuleConfig,
): ServicePortRules {
  const cat: CategorizedEndpoints = categorizeEndpoints(info, endpoints);
  const r: ServicePortRules = {
    natChains: [],
    natServices: [],
    natNodePorts: [],
    filterServices: [],
    filterExternal: [],
    filterFirewall: [],
  };
  const name = info.name;
  const proto = `-m ${info.protocol} -p ${info.protocol}`;
  const hasEndpoints = cat.hasAny;
  const usesClusterChain = cat.cluster.length > 0;
  const usesLocalChain = cat.local.length > 0;
  const internalChain = info.internalPolicyLocal ? info.localPolicyChain : info.clusterPolicyChain;
  const hasInternal = info.internalPolicyLocal ? hasEndpoints && usesLocalChain : hasEndpoints;
  const externalPolicyChain = info.externalPolicyLocal ? info.localPolicyChain : info.clusterPolicyChain;
  const hasExternal = info.externalPolicyLocal ? hasEndpoints && usesLocalChain : hasEndpoints;
  const externalChain = info.externalChain;
  // The EXT chain exists whenever there are endpoints at all, because its local-traffic
  // short-circuit rules still apply when no endpoint is usable for external traffic.
  const usesExternalChain = hasEndpoints && isExternallyAccessible(info);
  const usesFwChain =
    hasEndpoints && info.loadBalancerVIPs.length > 0 && info.loadBalancerSourceRanges.length > 0;
  const lbChain = usesFwChain ? info.firewallChain : externalChain;

  let internalTarget = '';
  let internalComment = '';
  let externalTarget = '';
  let externalComment = '';
  if (!hasEndpoints) {
    internalTarget = 'REJECT';
    internalComment = `"${name} has no endpoints"`;
    externalTarget = internalTarget;
    externalComment = internalComment;
  } else {
    if (!hasInternal) {
      internalTarget = 'DROP';
      internalComment = `"${name} has no local endpoints"`;
    }
    if (!hasExternal) {
      externalTarget = 'DROP';
      externalComment = `"${name} has no local endpoints"`;
    }
  }

  const dst = (ip: string, port: number): string => `${proto} -d ${ip} --dport ${port}`;
  if (hasInternal) {
    r.natServices.push(
      `-A ${KTS_SERVICES} -m comment --comment "${name} cluster IP" ${dst(info.clusterIP, info.port)} -j ${internalChain}`,
    );
  } else {
    r.filterServices.push(
      `-A ${KTS_SERVICES} -m comment --comment ${internalComment} ${dst(info.clusterIP, info.port)} -j ${internalTarget}`,
    );
  }
  for (const ip of info.externalIPs) {
    if (hasEndpoints) {
      r.natServices.push(
        `-A ${KTS_SERVICES} -m comment --comment "${name} external IP" ${dst(ip, info.port)} -j ${externalChain}`,
      );
    }
    if (!hasExternal) {
      r.filterExternal.push(
        `-A ${KTS_EXTERNAL_SERVICES} -m comment --comment ${externalComment} ${dst(ip, info.port)} -j ${externalTarget}`,
      );
    }
  }
  for (const ip of info.loadBalancerVIPs) {
    if (hasEndpoints) {
      r.natServices.push(
        `-A ${KTS_SERVICES} -m comment --comment "${name} loadbalancer IP" ${dst(ip, info.port)} -j ${lbChain}`,
      );
    }
    if (usesFwChain) {
      r.filterFirewall.push(
        `-A ${KTS_PROXY_FIREWALL} -m comment --comment "${name} traffic not accepted by ${info.firewallChain}" ${dst(ip, info.port)} -j DROP`,
      );
    }
  }
  if (!hasExternal) {
    for (const ip of info.loadBalancerVIPs) {
      r.filterExternal.push(
        `-A ${KTS_EXTERNAL_SERVICES} -m comment --comment ${externalComment} ${dst(ip, info.port)} -j ${externalTarget}`,
      );
    }
  }
  if (info.nodePort !== 0) {
    if (hasEndpoints) {
      r.natNodePorts.push(
        `-A ${KTS_NODEPORTS} -m comment --comment ${name} ${proto} --dport ${info.nodePort} -j ${externalChain}`,
      );
    }
    if (!hasExternal) {
      r.filterExternal.push(
        `-A ${KTS_EXTERNAL_SERVICES} -m comment --comment ${externalComment} -m addrtype --dst-type LOCAL ${proto} --dport ${info.nodePort} -j ${externalTarget}`,
      );
    }
  }

  // Chains are collected per name so a chain shared by two roles (internalChain is one of
  // the policy chains) gets its masquerade rule first, as upstream writes it.
  const chainRules = new Map<string, string[]>();
  const chain = (c: string): string[] => {
    let lines = chainRules.get(c);
    if (lines === undefined) {
      lines = [];
      chainRules.set(c, lines);
    }
    return lines;
  };
  if (hasInternal) {
    const match = `-m comment --comment "${name} cluster IP" ${dst(info.clusterIP, info.port)}`;
    if (cfg.masqueradeAll) chain(internalChain).push(`-A ${internalChain} ${match} -j ${KTS_MARK_MASQ}`);
    else if (cfg.clusterCIDR !== undefined) {
      // Off-cluster clients reaching a service IP (via a route to any node) may be sent to
      // another node's pod; masquerade so the reply comes back through this node.
      chain(internalChain).push(`-A ${internalChain} ${match} ! -s ${cfg.clusterCIDR} -j ${KTS_MARK_MASQ}`);
    }
  }
  if (usesExternalChain) {
    const ext = chain(externalChain);
    if (!info.externalPolicyLocal) {
      ext.push(
        `-A ${externalChain} -m comment --comment "masquerade traffic for ${name} external destinations" -j ${KTS_MARK_MASQ}`,
      );
    } else {
      if (cfg.clusterCIDR !== undefined) {
        ext.push(
          `-A ${externalChain} -m comment --comment "pod traffic for ${name} external destinations" -s ${cfg.clusterCIDR} -j ${info.clusterPolicyChain}`,
        );
      }
      ext.push(
        `-A ${externalChain} -m comment --comment "masquerade LOCAL traffic for ${name} external destinations" -m addrtype --src-type LOCAL -j ${KTS_MARK_MASQ}`,
      );
      ext.push(
        `-A ${externalChain} -m comment --comment "route LOCAL traffic for ${name} external destinations" -m addrtype --src-type LOCAL -j ${info.clusterPolicyChain}`,
      );
    }
    if (hasExternal) ext.push(`-A ${externalChain} -j ${externalPolicyChain}`);
  }
  if (usesFwChain) {
    const fw = chain(info.firewallChain);
    const head = `-A ${info.firewallChain} -m comment --comment "${name} loadbalancer IP"`;
    let allowFromNode = false;
    for (const cidr of info.loadBalancerSourceRanges) {
      fw.push(`${head} -s ${cidr} -j ${externalChain}`);
      if ((cfg.nodeIPs ?? []).some((ip) => cidrContains(cidr, ip))) allowFromNode = true;
    }
    // A node reaching its own LoadBalancer VIP loops back with the VIP as source.
    if (allowFromNode)
      for (const ip of info.loadBalancerVIPs) fw.push(`${head} -s ${ip} -j ${externalChain}`);
    fw.push(
      `-A ${info.firewallChain} -m comment --comment "other traffic to ${name} will be dropped by ${KTS_PROXY_FIREWALL}"`,
    );
  }
  if (usesClusterChain)
    writeServiceToEndpointRules(chain(info.clusterPolicyChain), info, info.clusterPolicyChain, cat.cluster);
  if (usesLocalChain)
    writeServiceToEndpointRules(chain(info.localPolicyChain), info, info.localPolicyChain, cat.local);
  for (const ep of cat.allReachable) {
    const sep = chain(ep.chain);
    const head = `-A ${ep.chain} -m comment --comment ${name}`;
    // Hairpin: a pod reaching itself through the service must be masqueraded, or the reply
    // would bypass the DNAT and be dropped by the client.
    sep.push(`${head} -s ${ep.ip} -j ${KTS_MARK_MASQ}`);
    const recent = info.affinityClientIP ? ` -m recent --name ${ep.chain} --set` : '';
    sep.push(`${head}${recent} ${proto} -j DNAT --to-destination ${ep.endpoint}`);
  }
  // Stable order: the policy and entry chains first, then endpoint chains, as created.
  r.natChains = [...chainRules.entries()];
  return r;
}

/** True when an IPv4 address lies in an IPv4 CIDR. */
export function cidrContains(cidr: string, ip: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  const a = ipv4ToInt(base ?? '');
  const b = ipv4ToInt(ip);
  if (a === undefined || b === undefined || !(bits >= 0 && bits <= 32)) return false;
  if (bits === 0) return true;
  const mask = (~0 << (32 - bits)) >>> 0;
  return (a & mask) >>> 0 === (b & mask) >>> 0;
}

function ipv4ToInt(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0;
  for (const p of parts) {
    const n = Number(p);
    if (!Number.isInteger(n) || n < 0 || n > 255) return undefined;
    v = v * 256 + n;
  }
  return v;
}

/** The complete kts state of both tables from every port's contribution, in the given order. */
export function assembleTables(ports: Iterable<ServicePortRules>, cfg: RuleConfig): Tables {
  const mark = masqueradeMark(cfg.masqueradeBit);
  const natServices: string[] = [];
  const natNodePorts: string[] = [];
  const filterServices: string[] = [];
  const filterExternal: string[] = [];
  const filterFirewall: string[] = [];
  const serviceChains: Array<[string, string[]]> = [];
  for (const p of ports) {
    pushAll(natServices, p.natServices);
    pushAll(natNodePorts, p.natNodePorts);
    pushAll(filterServices, p.filterServices);
    pushAll(filterExternal, p.filterExternal);
    pushAll(filterFirewall, p.filterFirewall);
    for (const c of p.natChains) serviceChains.push(c);
  }
  // Localhost NodePorts would need route_localnet; like --iptables-localhost-nodeports=false,
  // loopback destinations are left alone.
  natServices.push(
    `-A ${KTS_SERVICES} -m comment --comment "kts service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL ! -d 127.0.0.0/8 -j ${KTS_NODEPORTS}`,
  );
  const nat = new Map<string, string[]>([
    [KTS_SERVICES, natServices],
    [KTS_NODEPORTS, natNodePorts],
    [
      KTS_POSTROUTING,
      [
        `-A ${KTS_POSTROUTING} -m mark ! --mark ${mark}/${mark} -j RETURN`,
        // Clear the bit so a packet re-traversing netfilter (e.g. encapsulated) is not
        // masqueraded twice.
        `-A ${KTS_POSTROUTING} -j MARK --xor-mark ${mark}`,
        `-A ${KTS_POSTROUTING} -m comment --comment "kts service traffic requiring SNAT" -j MASQUERADE --random-fully`,
      ],
    ],
    [KTS_MARK_MASQ, [`-A ${KTS_MARK_MASQ} -j MARK --or-mark ${mark}`]],
  ]);
  for (const [c, lines] of serviceChains) nat.set(c, lines);
  const filter = new Map<string, string[]>([
    [KTS_SERVICES, filterServices],
    [KTS_EXTERNAL_SERVICES, filterExternal],
    [
      KTS_FORWARD,
      [
        `-A ${KTS_FORWARD} -m conntrack --ctstate INVALID -j DROP`,
        `-A ${KTS_FORWARD} -m comment --comment "kts forwarding rules" -m mark --mark ${mark}/${mark} -j ACCEPT`,
        `-A ${KTS_FORWARD} -m comment --comment "kts forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
      ],
    ],
    [KTS_PROXY_FIREWALL, filterFirewall],
  ]);
  return { nat, filter };
}

function pushAll(into: string[], from: string[]): void {
  for (const x of from) into.push(x);
}

/** What renderRestore needs besides the desired state. */
export interface RenderOptions {
  /** Rewrite every chain (full sync); otherwise only chains that differ from `previous`. */
  full: boolean;
  /** The state applied by the last successful sync, if any. */
  previous?: Tables;
  /** kts chains found in the kernel (full sync reads them with iptables-save), per table. */
  existing?: { nat: Set<string>; filter: Set<string> };
  /** Jump rules missing from the built-in chains, to insert in the same transaction. */
  insertJumps?: readonly JumpRule[];
}

/** A restore transaction and what it does. */
export interface RenderResult {
  /** iptables-restore input for `--noflush`; '' when nothing needs to change. */
  payload: string;
  /** Chains declared (and so flushed) and rewritten. */
  rewritten: number;
  /** Stale kts chains removed with -X. */
  deleted: number;
}

function sameLines(a: string[] | undefined, b: string[]): boolean {
  if (a === b) return true;
  if (a === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The `iptables-restore --noflush` transaction from `previous` (or the kernel's `existing`
 * chains) to `next`. A chain line `:C - [0:0]` creates or flushes C, so every written chain
 * is replaced whole; chains that disappear are flushed and deleted after every rule that
 * referenced them has been rewritten, which is why deletions come last.
 */
export function renderRestore(next: Tables, opts: RenderOptions): RenderResult {
  const parts: string[] = [];
  let rewritten = 0;
  let deleted = 0;
  for (const table of ['filter', 'nat'] as const) {
    const want = next[table];
    const prev = opts.previous?.[table];
    const stale = new Set<string>();
    for (const c of prev?.keys() ?? []) if (!want.has(c)) stale.add(c);
    for (const c of opts.existing?.[table] ?? [])
      if (!want.has(c) && c.startsWith(KTS_CHAIN_PREFIX)) stale.add(c);
    const write: string[] = [];
    for (const [c, lines] of want) {
      if (opts.full || prev === undefined || !sameLines(prev.get(c), lines)) write.push(c);
    }
    const jumps = (opts.insertJumps ?? []).filter((j) => j.table === table);
    if (write.length === 0 && stale.size === 0 && jumps.length === 0) continue;
    parts.push(`*${table}`);
    for (const c of write) parts.push(`:${c} - [0:0]`);
    for (const c of stale) parts.push(`:${c} - [0:0]`);
    for (const c of write) for (const line of want.get(c) ?? []) parts.push(line);
    for (const j of jumps) parts.push(jumpRuleLine(j));
    for (const c of stale) parts.push(`-X ${c}`);
    parts.push('COMMIT');
    rewritten += write.length;
    deleted += stale.size;
  }
  return { payload: parts.length === 0 ? '' : `${parts.join('\n')}\n`, rewritten, deleted };
}
