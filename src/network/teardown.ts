// Removing the pod network from a host, by name: everything kts made is found again from
// names it chose (the network name in plugin rule comments, the `KTSNET-` chains, the kts
// route protocol, the bridge name, the IPAM directory under the kts data dir), never from
// positions or guesses, and nothing else is touched.
//
// Order matters. Attachments go first, through CNI DEL, so each plugin undoes its own work
// (veths, host-local allocations, portmap chains, the bridge plugin's masquerade chains);
// then whatever a plugin could not undo (its sandbox already gone) is swept by name; then
// the node-level pieces: routes, rules, the bridge, the IPAM and cache directories.

import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  CniNetwork,
  type CniNetworkConfigList,
  type CniOptions,
  type CniRuntimeConf,
  cachedAttachments,
} from './cni.js';
import {
  DEFAULT_BRIDGE_NAME,
  POD_NETWORK_NAME,
  cniCacheDir,
  ipamDataDir,
  removeConflist,
} from './conflist.js';
import { type CommandRunner, execCommand } from './host-command.js';
import {
  HostIptables,
  KTSNET_CHAIN_PREFIX,
  type SavedTable,
  type Table,
  deleteChainsPayload,
  ruleComment,
  ruleTarget,
} from './iptables.js';
import { deleteLink, ip, listLinks } from './netns.js';
import { KTS_ROUTE_PROTOCOL } from './node-routes.js';

/** portmap's chains shared by every network on the host; removed only when unused. */
export const PORTMAP_SHARED_CHAINS = [
  'CNI-HOSTPORT-DNAT',
  'CNI-HOSTPORT-SETMARK',
  'CNI-HOSTPORT-MASQ',
] as const;

/** What to tear down. */
export interface TeardownOptions {
  /** The kts data dir (IPAM allocations and the CNI result cache live beneath it). */
  dataDir: string;
  /** The pod network's config list; when given, attachments are CNI-DELeted first. */
  conflist?: CniNetworkConfigList;
  /** Network name (default: the conflist's, else `kts`). */
  networkName?: string;
  /** Bridge name (default `kts0`). */
  bridgeName?: string;
  /** CNI conf_dirs to remove kts's conflist from. */
  confDirs?: string[];
  /** Plugin directories (CNI_PATH) for the DELs. */
  binDirs?: string[];
  /** Work inside this named network namespace. */
  netns?: string;
  /** Command runner. */
  run?: CommandRunner;
}

/** What teardown removed, and what it could not. */
export interface TeardownReport {
  /** `containerId/ifName` of each attachment DELeted through CNI. */
  detached: string[];
  routesRemoved: string[];
  chainsRemoved: string[];
  rulesRemoved: number;
  bridgeRemoved: boolean;
  errors: Error[];
}

/** One host-local allocation: the address file and who holds it. */
export interface IpamAllocation {
  ip: string;
  containerId: string;
  ifName: string;
}

/** The allocations host-local holds for `networkName` under `ipamDir`. */
export function listIpamAllocations(ipamDir: string, networkName: string): IpamAllocation[] {
  const dir = join(ipamDir, networkName);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: IpamAllocation[] = [];
  for (const name of names) {
    // Address files are named by the address; the rest is bookkeeping (lock, last_reserved_ip.N).
    if (!/^\d+\.\d+\.\d+\.\d+$/.test(name) && !name.includes(':')) continue;
    let text = '';
    try {
      text = readFileSync(join(dir, name), 'utf8');
    } catch {
      continue;
    }
    const [containerId = '', ifName = 'eth0'] = text.split(/\r?\n/);
    out.push({ ip: name, containerId: containerId.trim(), ifName: ifName.trim() || 'eth0' });
  }
  return out.sort((a, b) => a.ip.localeCompare(b.ip));
}

/** Rule comments CNI plugins give a network's per-container rules contain this. */
export function cniRuleMarker(networkName: string): string {
  return `name: "${networkName}" id: "`;
}

/**
 * The deletions for one table: the `KTSNET-` chains with their jumps, every rule a plugin
 * tagged with this network (plus the per-container `CNI-` chains those rules lead to), and
 * portmap's shared chains once no hostPort of any network is left in them.
 */
export function teardownTablePayload(
  saved: SavedTable,
  networkName: string,
): { lines: string[]; chains: string[] } {
  const marker = cniRuleMarker(networkName);
  const chains = new Set<string>();
  for (const name of saved.chains.keys()) if (name.startsWith(KTSNET_CHAIN_PREFIX)) chains.add(name);
  const ruleDeletes: string[] = [];
  for (const [chain, specs] of saved.chains) {
    for (const spec of specs) {
      if (!ruleComment(spec)?.includes(marker)) continue;
      const target = ruleTarget(spec);
      const shared = (PORTMAP_SHARED_CHAINS as readonly string[]).includes(target ?? '');
      if (target?.startsWith('CNI-') && !shared && !saved.builtins.has(target)) chains.add(target);
      if (!chains.has(chain)) ruleDeletes.push(`-D ${chain} ${spec}`);
    }
  }
  // portmap's top-level DNAT chain holds one jump per container with hostPorts, of any
  // network; once every one of them is ours (and going), the shared chains go too.
  const dnat = saved.chains.get('CNI-HOSTPORT-DNAT');
  if (dnat?.every((s) => ruleComment(s)?.includes(marker))) {
    for (const c of PORTMAP_SHARED_CHAINS) if (saved.chains.has(c)) chains.add(c);
  }
  const lines = deleteChainsPayload(saved, chains);
  // Rules inside chains being deleted go with the chain; the others are deleted one by one.
  const seen = new Set(lines);
  for (const d of ruleDeletes) if (!seen.has(d)) lines.unshift(d);
  return { lines, chains: [...chains].filter((c) => saved.chains.has(c)) };
}

/** Removes the pod network from the host (or from `opts.netns`); safe to run twice. */
export async function teardownPodNetwork(opts: TeardownOptions): Promise<TeardownReport> {
  const run = opts.run ?? execCommand;
  const io = { netns: opts.netns, run };
  const networkName = opts.networkName ?? opts.conflist?.name ?? POD_NETWORK_NAME;
  const bridge = opts.bridgeName ?? DEFAULT_BRIDGE_NAME;
  const report: TeardownReport = {
    detached: [],
    routesRemoved: [],
    chainsRemoved: [],
    rulesRemoved: 0,
    bridgeRemoved: false,
    errors: [],
  };
  const fail = (e: unknown): void => {
    report.errors.push(e instanceof Error ? e : new Error(String(e)));
  };

  if (opts.conflist !== undefined) {
    const cacheDir = cniCacheDir(opts.dataDir);
    const cniOpts: CniOptions = { cacheDir, run };
    if (opts.binDirs !== undefined) cniOpts.binDirs = opts.binDirs;
    if (opts.netns !== undefined) cniOpts.hostNetns = opts.netns;
    const network = new CniNetwork(opts.conflist, cniOpts);
    const attachments: CniRuntimeConf[] = cachedAttachments(cacheDir, networkName);
    const known = new Set(attachments.map((a) => `${a.containerId}/${a.ifName}`));
    // Allocations without a cached result (containerd's pods, a lost cache) are released
    // with an empty netns: plugins then free their host-side state and skip the sandbox.
    for (const a of listIpamAllocations(ipamDataDir(opts.dataDir), networkName)) {
      if (!known.has(`${a.containerId}/${a.ifName}`) && a.containerId !== '') {
        known.add(`${a.containerId}/${a.ifName}`);
        attachments.push({ containerId: a.containerId, ifName: a.ifName, netns: '' });
      }
    }
    for (const rt of attachments) {
      try {
        await network.del(rt);
        report.detached.push(`${rt.containerId}/${rt.ifName}`);
      } catch (e) {
        fail(e);
      }
    }
  }

  try {
    const out = await ip(['-j', 'route', 'show', 'proto', KTS_ROUTE_PROTOCOL], io);
    const routes: unknown = JSON.parse(out.trim() === '' ? '[]' : out);
    for (const r of Array.isArray(routes) ? routes : []) {
      const dst = typeof r === 'object' && r !== null && 'dst' in r ? String(r.dst) : '';
      if (dst === '') continue;
      try {
        await ip(['route', 'del', dst, 'proto', KTS_ROUTE_PROTOCOL], io);
        report.routesRemoved.push(dst);
      } catch (e) {
        fail(e);
      }
    }
  } catch (e) {
    fail(e);
  }

  const ipt = new HostIptables(opts.netns, run);
  for (const table of ['nat', 'filter'] as Table[]) {
    try {
      const { lines, chains } = teardownTablePayload(await ipt.save(table), networkName);
      if (lines.length === 0) continue;
      await ipt.restore(`*${table}\n${lines.join('\n')}\nCOMMIT\n`);
      report.chainsRemoved.push(...chains.map((c) => `${table}/${c}`));
      report.rulesRemoved += lines.filter((l) => l.startsWith('-D ')).length;
    } catch (e) {
      fail(e);
    }
  }

  try {
    const link = (await listLinks(io)).find((l) => l.name === bridge);
    if (link?.kind === 'bridge') report.bridgeRemoved = await deleteLink(bridge, io);
  } catch (e) {
    fail(e);
  }

  rmSync(join(ipamDataDir(opts.dataDir), networkName), { recursive: true, force: true });
  const cacheDir = cniCacheDir(opts.dataDir);
  try {
    for (const name of readdirSync(cacheDir)) {
      if (name.startsWith(`${networkName}-`)) rmSync(join(cacheDir, name), { force: true });
    }
  } catch {
    // no cache directory: nothing cached
  }
  for (const dir of opts.confDirs ?? []) removeConflist(dir);
  return report;
}
