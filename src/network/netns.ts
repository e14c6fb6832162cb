// Named network namespaces, veth pairs and links through `ip`. The process runtime gives
// each pod sandbox a named namespace (`/run/netns/<name>`, which CNI_NETNS points at and
// which outlives any process in it), and tests build whole "nodes" from them. Everything
// is addressed by name, and deletes of something already gone succeed, so cleanup code can
// run twice.

import { type CommandRunner, execCommand, HostCommandError, mustRun } from './host-command.js';

/** Where `ip netns` keeps its bind mounts. */
export const NETNS_DIR = '/run/netns';

/** Path of a named network namespace (what CNI_NETNS takes). */
export function netnsPath(name: string): string {
  return `${NETNS_DIR}/${name}`;
}

/** The prefix of the namespaces the process runtime gives pod sandboxes. */
export const POD_NETNS_PREFIX = 'kts-pod-';

/** The namespace name the process runtime gives a pod sandbox. */
export function podNetnsName(sandboxId: string, prefix: string = POD_NETNS_PREFIX): string {
  return `${prefix}${sandboxId}`;
}

/** Where one `ip` command runs. */
export interface IpOptions {
  /** Run inside this named namespace (`ip -n`). */
  netns?: string;
  /** Command runner (default: real processes). */
  run?: CommandRunner;
}

function ipArgv(netns: string | undefined, args: readonly string[]): string[] {
  return netns === undefined ? ['ip', ...args] : ['ip', '-n', netns, ...args];
}

/** Runs `ip <args>` (inside `opts.netns`); throws on failure, returns stdout. */
export function ip(args: readonly string[], opts: IpOptions = {}): Promise<string> {
  return mustRun(opts.run ?? execCommand, ipArgv(opts.netns, args));
}

/** Runs `ip <args>`; a failure whose message matches `ignore` is treated as success. */
async function ipTolerant(args: readonly string[], ignore: RegExp, opts: IpOptions): Promise<boolean> {
  try {
    await ip(args, opts);
    return true;
  } catch (e) {
    if (e instanceof HostCommandError && ignore.test(e.result.stderr)) return false;
    throw e;
  }
}

/** Names of the existing named network namespaces. */
export async function listNetns(run: CommandRunner = execCommand): Promise<string[]> {
  const r = await run(['ip', '-j', 'netns', 'list']);
  if (r.code !== 0 || r.stdout.trim() === '') return [];
  const v: unknown = JSON.parse(r.stdout);
  if (!Array.isArray(v)) return [];
  return v
    .map((e: unknown) => (typeof e === 'object' && e !== null && 'name' in e ? String(e.name) : ''))
    .filter((n) => n !== '');
}

/** Creates a named network namespace; with `loopbackUp`, its `lo` is brought up too. */
export async function createNetns(
  name: string,
  opts: { loopbackUp?: boolean; run?: CommandRunner } = {},
): Promise<string> {
  await ip(['netns', 'add', name], { run: opts.run });
  if (opts.loopbackUp === true) await ip(['link', 'set', 'lo', 'up'], { netns: name, run: opts.run });
  return netnsPath(name);
}

/** Deletes a named network namespace; returns false when it did not exist. */
export async function deleteNetns(name: string, run: CommandRunner = execCommand): Promise<boolean> {
  return ipTolerant(['netns', 'del', name], /No such file|not found|Invalid/i, { run });
}

/** Whether a named network namespace exists. */
export async function netnsExists(name: string, run: CommandRunner = execCommand): Promise<boolean> {
  return (await listNetns(run)).includes(name);
}

/** A veth pair to create: `name` in `netns`, `peer` in `peerNetns` (host's when absent). */
export interface VethSpec {
  name: string;
  peer: string;
  netns?: string;
  peerNetns?: string;
  mtu?: number;
}

/** Creates a veth pair, each end in its namespace; both ends are left down. */
export async function createVeth(spec: VethSpec, run: CommandRunner = execCommand): Promise<void> {
  for (const n of [spec.name, spec.peer]) {
    if (n.length > 15) throw new Error(`interface name ${JSON.stringify(n)} is longer than 15 characters`);
  }
  const args = ['link', 'add', spec.name];
  if (spec.mtu !== undefined) args.push('mtu', String(spec.mtu));
  args.push('type', 'veth', 'peer', 'name', spec.peer);
  if (spec.peerNetns !== undefined) args.push('netns', spec.peerNetns);
  await ip(args, { netns: spec.netns, run });
}

/** Deletes a link by name (the peer of a veth goes with it); false when it did not exist. */
export async function deleteLink(name: string, opts: IpOptions = {}): Promise<boolean> {
  return ipTolerant(['link', 'del', name], /Cannot find device|does not exist/i, opts);
}

/** One link as `ip -j link show` reports it. */
export interface LinkInfo {
  name: string;
  /** `veth`, `bridge`, … (absent for plain devices). */
  kind?: string;
  /** The bridge a port is attached to. */
  master?: string;
  up: boolean;
}

/** The links of a namespace (the host's when `netns` is absent). */
export async function listLinks(opts: IpOptions = {}): Promise<LinkInfo[]> {
  const out = await ip(['-j', '-d', 'link', 'show'], opts);
  const v: unknown = JSON.parse(out || '[]');
  if (!Array.isArray(v)) return [];
  const links: LinkInfo[] = [];
  for (const e of v) {
    if (typeof e !== 'object' || e === null) continue;
    const r = e as Record<string, unknown>;
    const info = r.linkinfo as Record<string, unknown> | undefined;
    const link: LinkInfo = {
      name: String(r.ifname ?? ''),
      up: Array.isArray(r.flags) && r.flags.includes('UP'),
    };
    if (typeof info?.info_kind === 'string') link.kind = info.info_kind;
    if (typeof r.master === 'string') link.master = r.master;
    links.push(link);
  }
  return links;
}

/** Whether a link exists in a namespace. */
export async function linkExists(name: string, opts: IpOptions = {}): Promise<boolean> {
  const r = await (opts.run ?? execCommand)(ipArgv(opts.netns, ['link', 'show', 'dev', name]));
  return r.code === 0;
}

/** Brings a link up. */
export async function setLinkUp(name: string, opts: IpOptions = {}): Promise<void> {
  await ip(['link', 'set', name, 'up'], opts);
}

/** Sets an address (CIDR form) on a link; already present is fine. */
export async function replaceAddress(cidr: string, dev: string, opts: IpOptions = {}): Promise<void> {
  await ip(['addr', 'replace', cidr, 'dev', dev], opts);
}

/** How the kernel would route a packet to one destination. */
export interface RouteLookup {
  dst: string;
  dev: string;
  gateway?: string;
  prefsrc?: string;
  /** `unicast`, `local`, `unreachable`, … */
  type?: string;
}

/**
 * `ip route get <dst>` (inside `opts.netns`): the safety check before sending anything to
 * a 10.x address, so a test can prove the packet stays on a bridge or namespace device.
 */
export async function routeGet(dst: string, opts: IpOptions = {}): Promise<RouteLookup> {
  const out = await ip(['-j', 'route', 'get', dst], opts);
  const v: unknown = JSON.parse(out);
  const r = Array.isArray(v) ? (v[0] as Record<string, unknown> | undefined) : undefined;
  if (r === undefined) throw new Error(`ip route get ${dst}: no answer`);
  const lookup: RouteLookup = { dst: String(r.dst ?? dst), dev: String(r.dev ?? '') };
  if (typeof r.gateway === 'string') lookup.gateway = r.gateway;
  if (typeof r.prefsrc === 'string') lookup.prefsrc = r.prefsrc;
  if (typeof r.type === 'string') lookup.type = r.type;
  return lookup;
}
