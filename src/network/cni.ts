// The Container Network Interface, spec 1.0.0, from the runtime's side: plugins are
// executables found by `type` in CNI_PATH; each call passes CNI_COMMAND, CNI_CONTAINERID,
// CNI_NETNS, CNI_IFNAME, CNI_ARGS and CNI_PATH in the environment and the plugin's network
// config on stdin; a success prints a result (ADD) or nothing (DEL, CHECK); a failure exits
// non-zero and prints `{"code","msg","details"}`, which becomes a `CniError`.
//
// `CniNetwork` executes a network configuration list the way libcni does: ADD runs the
// plugins in order, each receiving the previous plugin's result as `prevResult`; DEL runs
// them in reverse; CHECK in order against the cached ADD result; every plugin gets `name`
// and `cniVersion` from the list and a `runtimeConfig` holding the capability arguments it
// declares (`portMappings`, `bandwidth`). ADD results are cached on disk so DEL and CHECK
// can pass `prevResult`, as the spec asks, even after a restart.

import { accessSync, constants, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CommandRunner, execCommand } from './host-command.js';

/** The CNI spec version kts speaks and writes into its configs. */
export const CNI_SPEC_VERSION = '1.0.0';

/** Where Debian's containernetworking-plugins package installs the plugins. */
export const DEFAULT_CNI_BIN_DIR = '/usr/lib/cni';

/** The four operations of the spec. */
export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'VERSION';

/** Well-known error codes of the spec (plugins may use 100 and above for their own). */
export const CniErrorCode = {
  IncompatibleVersion: 1,
  UnsupportedField: 2,
  UnknownContainer: 3,
  InvalidEnvironment: 4,
  IoFailure: 5,
  DecodingFailure: 6,
  InvalidNetworkConfig: 7,
  TryAgainLater: 11,
  /** libcni's code for failures that carry no structured error. */
  Internal: 999,
} as const;

/** A plugin's failure, with the plugin's own code, message and details. */
export class CniError extends Error {
  constructor(
    /** The spec's error code (see `CniErrorCode`). */
    readonly code: number,
    /** The plugin's short message. */
    readonly msg: string,
    /** The plugin's longer explanation, if any. */
    readonly details: string | undefined,
    /** The plugin type that failed. */
    readonly plugin: string,
    /** The operation that failed. */
    readonly command: CniCommand,
  ) {
    super(
      `plugin type="${plugin}" failed (${command.toLowerCase()}): ${msg}${details ? `: ${details}` : ''}`,
    );
    this.name = 'CniError';
  }
}

/** One interface in a result; `sandbox` is set for interfaces inside the container. */
export interface CniInterface {
  name: string;
  mac?: string;
  mtu?: number;
  sandbox?: string;
}

/** One address in a result; `interface` indexes `interfaces`. */
export interface CniIpConfig {
  /** CIDR notation: the address and its prefix (`10.42.1.2/24`). */
  address: string;
  gateway?: string;
  interface?: number;
}

/** One route in a result. */
export interface CniRoute {
  dst: string;
  gw?: string;
}

/** DNS settings in a result. */
export interface CniDns {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

/** The result of ADD (spec 1.0.0 shape). */
export interface CniResult {
  cniVersion: string;
  interfaces?: CniInterface[];
  ips?: CniIpConfig[];
  routes?: CniRoute[];
  dns?: CniDns;
}

/** The result of VERSION. */
export interface CniVersionResult {
  cniVersion: string;
  supportedVersions: string[];
}

/** One plugin's configuration inside a list (`type` names the executable). */
export type CniPluginConfig = { type: string } & Record<string, unknown>;

/** A network configuration list (`.conflist`). */
export interface CniNetworkConfigList {
  cniVersion: string;
  name: string;
  disableCheck?: boolean;
  plugins: CniPluginConfig[];
}

/** A hostPort mapping, the `portMappings` capability (what the portmap plugin consumes). */
export interface CniPortMapping {
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp' | 'sctp';
  hostIP?: string;
}

/** The `bandwidth` capability (bits per second and bits of burst). */
export interface CniBandwidth {
  ingressRate?: number;
  ingressBurst?: number;
  egressRate?: number;
  egressBurst?: number;
}

/** Capability arguments a runtime passes; a plugin sees those it declares in `capabilities`. */
export interface CniCapabilityArgs {
  portMappings?: CniPortMapping[];
  bandwidth?: CniBandwidth;
  [capability: string]: unknown;
}

/** The per-container half of a call: which sandbox and which interface inside it. */
export interface CniRuntimeConf {
  /** The sandbox's id (CNI_CONTAINERID). */
  containerId: string;
  /** Path of the sandbox's network namespace (CNI_NETNS), e.g. `/run/netns/<name>`. */
  netns: string;
  /** Interface name inside the sandbox (CNI_IFNAME), `eth0` for pods. */
  ifName: string;
  /** CNI_ARGS pairs, e.g. K8S_POD_NAMESPACE/K8S_POD_NAME (IgnoreUnknown=1 is added). */
  args?: Record<string, string>;
  /** Capability arguments (`portMappings`, `bandwidth`). */
  capabilityArgs?: CniCapabilityArgs;
}

/** How plugins are found and run. */
export interface CniOptions {
  /** Directories searched for plugin executables (CNI_PATH); default `/usr/lib/cni`. */
  binDirs?: string[];
  /** Runs the plugin inside this named network namespace (the "host" side of the pod). */
  hostNetns?: string;
  /** Directory for cached ADD results; without it DEL and CHECK get no prevResult. */
  cacheDir?: string;
  /** Command runner (tests inject one). */
  run?: CommandRunner;
  /** Per-plugin timeout (default 60 s). */
  timeoutMs?: number;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The executable for plugin `type`, searched in `binDirs` in order. */
export function findPlugin(type: string, binDirs: readonly string[]): string {
  if (type === '' || type.includes('/')) {
    throw new CniError(
      CniErrorCode.InvalidNetworkConfig,
      `invalid plugin type ${JSON.stringify(type)}`,
      undefined,
      type,
      'ADD',
    );
  }
  for (const dir of binDirs) {
    const p = join(dir, type);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not in this directory
    }
  }
  throw new CniError(
    CniErrorCode.Internal,
    `failed to find plugin "${type}" in path [${binDirs.join(' ')}]`,
    undefined,
    type,
    'ADD',
  );
}

/** The CNI_ARGS value: `IgnoreUnknown=1;K=V;…` (plugins reject unknown keys without it). */
export function formatCniArgs(args: Record<string, string> | undefined): string {
  const pairs = Object.entries(args ?? {});
  if (pairs.length === 0) return '';
  return ['IgnoreUnknown=1', ...pairs.map(([k, v]) => `${k}=${v}`)].join(';');
}

/** The environment of one plugin call. */
export function pluginEnv(
  command: CniCommand,
  rt: CniRuntimeConf | undefined,
  binDirs: readonly string[],
): Record<string, string> {
  const env: Record<string, string> = { CNI_COMMAND: command, CNI_PATH: binDirs.join(':') };
  if (rt !== undefined && command !== 'VERSION') {
    env.CNI_CONTAINERID = rt.containerId;
    env.CNI_NETNS = rt.netns;
    env.CNI_IFNAME = rt.ifName;
    env.CNI_ARGS = formatCniArgs(rt.args);
  }
  return env;
}

/**
 * The config one plugin of a list receives: its own JSON plus the list's `name` and
 * `cniVersion`, `runtimeConfig` with the capabilities it declares, and `prevResult`.
 */
export function pluginStdinConfig(
  list: Pick<CniNetworkConfigList, 'name' | 'cniVersion'>,
  plugin: CniPluginConfig,
  capabilityArgs: CniCapabilityArgs | undefined,
  prevResult: CniResult | undefined,
): Record<string, unknown> {
  const conf: Record<string, unknown> = { ...plugin, name: list.name, cniVersion: list.cniVersion };
  const caps = plugin.capabilities;
  if (isRecord(caps) && capabilityArgs !== undefined) {
    const runtimeConfig: Record<string, unknown> = isRecord(plugin.runtimeConfig)
      ? { ...plugin.runtimeConfig }
      : {};
    for (const [cap, enabled] of Object.entries(caps)) {
      if (enabled === true && capabilityArgs[cap] !== undefined) runtimeConfig[cap] = capabilityArgs[cap];
    }
    if (Object.keys(runtimeConfig).length > 0) conf.runtimeConfig = runtimeConfig;
  }
  if (prevResult !== undefined) conf.prevResult = prevResult;
  return conf;
}

/** Parses a plugin's error output; `undefined` when it is not a CNI error object. */
export function parseCniError(stdout: string, plugin: string, command: CniCommand): CniError | undefined {
  let v: unknown;
  try {
    v = JSON.parse(stdout);
  } catch {
    return undefined;
  }
  if (!isRecord(v) || typeof v.code !== 'number') return undefined;
  const msg = typeof v.msg === 'string' ? v.msg : '';
  const details = typeof v.details === 'string' && v.details !== '' ? v.details : undefined;
  return new CniError(v.code, msg, details, plugin, command);
}

/** Parses an ADD result, converting pre-0.3.0 (`ip4`/`ip6`) results to the 1.0.0 shape. */
export function parseCniResult(stdout: string, plugin = 'unknown'): CniResult {
  let v: unknown;
  try {
    v = JSON.parse(stdout);
  } catch (e) {
    throw new CniError(CniErrorCode.DecodingFailure, 'cannot decode plugin result', String(e), plugin, 'ADD');
  }
  if (!isRecord(v))
    throw new CniError(
      CniErrorCode.DecodingFailure,
      'plugin result is not an object',
      undefined,
      plugin,
      'ADD',
    );
  const cniVersion = typeof v.cniVersion === 'string' ? v.cniVersion : '0.1.0';
  const result: CniResult = { cniVersion };
  if (Array.isArray(v.interfaces)) result.interfaces = v.interfaces.filter(isRecord).map(toInterface);
  if (Array.isArray(v.ips)) result.ips = v.ips.filter(isRecord).map(toIpConfig);
  else {
    // Results before 0.3.0 carry one address per family and no interface list.
    const legacy = [v.ip4, v.ip6].filter(isRecord);
    if (legacy.length > 0) result.ips = legacy.map((l) => toIpConfig({ address: l.ip, gateway: l.gateway }));
  }
  if (Array.isArray(v.routes)) result.routes = v.routes.filter(isRecord).map(toRoute);
  if (isRecord(v.dns)) result.dns = toDns(v.dns);
  return result;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function strings(v: unknown): string[] | undefined {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined;
}

function toInterface(r: Record<string, unknown>): CniInterface {
  const i: CniInterface = { name: str(r.name) ?? '' };
  if (str(r.mac) !== undefined) i.mac = str(r.mac);
  if (typeof r.mtu === 'number') i.mtu = r.mtu;
  if (str(r.sandbox) !== undefined) i.sandbox = str(r.sandbox);
  return i;
}

function toIpConfig(r: Record<string, unknown>): CniIpConfig {
  const ip: CniIpConfig = { address: str(r.address) ?? '' };
  if (str(r.gateway) !== undefined) ip.gateway = str(r.gateway);
  if (typeof r.interface === 'number') ip.interface = r.interface;
  return ip;
}

function toRoute(r: Record<string, unknown>): CniRoute {
  const route: CniRoute = { dst: str(r.dst) ?? '' };
  if (str(r.gw) !== undefined) route.gw = str(r.gw);
  return route;
}

function toDns(r: Record<string, unknown>): CniDns {
  const dns: CniDns = {};
  if (strings(r.nameservers) !== undefined) dns.nameservers = strings(r.nameservers);
  if (str(r.domain) !== undefined) dns.domain = str(r.domain);
  if (strings(r.search) !== undefined) dns.search = strings(r.search);
  if (strings(r.options) !== undefined) dns.options = strings(r.options);
  return dns;
}

/** The sandbox-side addresses of a result (without prefix), e.g. `['10.42.1.2']`. */
export function resultPodIPs(result: CniResult): string[] {
  const ifaces = result.interfaces ?? [];
  return (result.ips ?? [])
    .filter((ip) => {
      // An address with no interface index, or one on a sandbox interface, is the pod's.
      if (ip.interface === undefined) return true;
      return ifaces[ip.interface]?.sandbox !== undefined;
    })
    .map((ip) => ip.address.split('/')[0] ?? '')
    .filter((a) => a !== '');
}

/** Runs single plugins per the spec; the building block of `CniNetwork`. */
export class CniPluginRunner {
  /** Directories searched for plugins. */
  readonly binDirs: string[];
  private readonly run: CommandRunner;

  constructor(private readonly opts: CniOptions = {}) {
    this.binDirs = opts.binDirs ?? [DEFAULT_CNI_BIN_DIR];
    this.run = opts.run ?? execCommand;
  }

  /** Runs `type` with `command`; returns the plugin's stdout, or throws its `CniError`. */
  async exec(
    type: string,
    command: CniCommand,
    stdinConfig: Record<string, unknown>,
    rt?: CniRuntimeConf,
  ): Promise<string> {
    let path: string;
    try {
      path = findPlugin(type, this.binDirs);
    } catch (e) {
      if (e instanceof CniError) throw new CniError(e.code, e.msg, e.details, type, command);
      throw e;
    }
    const r = await this.run([path], {
      netns: this.opts.hostNetns,
      input: JSON.stringify(stdinConfig),
      env: pluginEnv(command, rt, this.binDirs),
      timeoutMs: this.opts.timeoutMs ?? 60_000,
    });
    if (r.code === 0) return r.stdout;
    const structured = parseCniError(r.stdout, type, command);
    if (structured !== undefined) throw structured;
    const text = r.stderr.trim() || r.stdout.trim() || `exit status ${r.code}`;
    throw new CniError(
      CniErrorCode.Internal,
      `netplugin failed: ${JSON.stringify(text)}`,
      undefined,
      type,
      command,
    );
  }

  /** VERSION of one plugin. */
  async version(type: string, cniVersion = CNI_SPEC_VERSION): Promise<CniVersionResult> {
    const out = await this.exec(type, 'VERSION', { cniVersion });
    const v: unknown = JSON.parse(out);
    if (!isRecord(v) || !Array.isArray(v.supportedVersions)) {
      throw new CniError(CniErrorCode.DecodingFailure, 'cannot decode VERSION result', out, type, 'VERSION');
    }
    return { cniVersion: str(v.cniVersion) ?? '', supportedVersions: strings(v.supportedVersions) ?? [] };
  }
}

/** What is cached per attachment between ADD and DEL. */
interface CacheEntry {
  kind: 'ktsCniCacheV1';
  networkName: string;
  containerId: string;
  ifName: string;
  netns: string;
  args?: Record<string, string>;
  capabilityArgs?: CniCapabilityArgs;
  result: CniResult;
}

function readCacheEntry(path: string): CacheEntry | undefined {
  try {
    const v: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (!isRecord(v) || v.kind !== 'ktsCniCacheV1' || !isRecord(v.result)) return undefined;
    const entry: CacheEntry = {
      kind: 'ktsCniCacheV1',
      networkName: str(v.networkName) ?? '',
      containerId: str(v.containerId) ?? '',
      ifName: str(v.ifName) ?? '',
      netns: str(v.netns) ?? '',
      result: parseCniResult(JSON.stringify(v.result)),
    };
    if (isRecord(v.args)) {
      entry.args = Object.fromEntries(
        Object.entries(v.args).filter((e): e is [string, string] => typeof e[1] === 'string'),
      );
    }
    if (isRecord(v.capabilityArgs)) entry.capabilityArgs = v.capabilityArgs as CniCapabilityArgs;
    return entry;
  } catch {
    return undefined;
  }
}

/**
 * The attachments of network `networkName` whose ADD results are cached in `cacheDir`:
 * what is still attached as far as kts knows (teardown DELs each of them).
 */
export function cachedAttachments(cacheDir: string, networkName: string): CniRuntimeConf[] {
  let names: string[];
  try {
    names = readdirSync(cacheDir);
  } catch {
    return [];
  }
  const out: CniRuntimeConf[] = [];
  for (const name of names.filter((n) => n.startsWith(`${networkName}-`)).sort()) {
    const e = readCacheEntry(join(cacheDir, name));
    if (e === undefined || e.networkName !== networkName) continue;
    const rt: CniRuntimeConf = { containerId: e.containerId, netns: e.netns, ifName: e.ifName };
    if (e.args !== undefined) rt.args = e.args;
    if (e.capabilityArgs !== undefined) rt.capabilityArgs = e.capabilityArgs;
    out.push(rt);
  }
  return out;
}

/** A network configuration list bound to a plugin runner: ADD/DEL/CHECK for one attachment. */
export class CniNetwork {
  private readonly runner: CniPluginRunner;

  constructor(
    /** The configuration list executed. */
    readonly config: CniNetworkConfigList,
    private readonly opts: CniOptions = {},
  ) {
    if (config.plugins.length === 0) throw new Error(`CNI network ${config.name} has no plugins`);
    this.runner = new CniPluginRunner(opts);
  }

  /**
   * Attaches the sandbox: runs every plugin's ADD in order and caches the final result.
   * A failure part-way runs DEL for the whole list (best effort) before rethrowing, so a
   * half-made attachment leaves no veth or address behind.
   */
  async add(rt: CniRuntimeConf): Promise<CniResult> {
    let prev: CniResult | undefined;
    try {
      for (const plugin of this.config.plugins) {
        const conf = pluginStdinConfig(this.config, plugin, rt.capabilityArgs, prev);
        prev = parseCniResult(await this.runner.exec(plugin.type, 'ADD', conf, rt), plugin.type);
      }
    } catch (e) {
      await this.del(rt).catch(() => {});
      throw e;
    }
    const result = prev ?? { cniVersion: this.config.cniVersion };
    this.writeCache(rt, result);
    return result;
  }

  /**
   * Detaches the sandbox: every plugin's DEL in reverse order with the cached result as
   * prevResult. All plugins run even if one fails (the first failure is thrown after), so
   * one plugin's trouble does not leak another plugin's state. Idempotent.
   */
  async del(rt: CniRuntimeConf): Promise<void> {
    const cached = this.readCache(rt);
    const capabilityArgs = rt.capabilityArgs ?? cached?.capabilityArgs;
    let first: unknown;
    for (const plugin of [...this.config.plugins].reverse()) {
      const conf = pluginStdinConfig(this.config, plugin, capabilityArgs, cached?.result);
      try {
        await this.runner.exec(plugin.type, 'DEL', conf, rt);
      } catch (e) {
        first ??= e;
      }
    }
    if (first !== undefined) throw first;
    this.removeCache(rt);
  }

  /** Verifies the attachment is as ADD left it (every plugin's CHECK, in order). */
  async check(rt: CniRuntimeConf): Promise<void> {
    if (this.config.disableCheck === true) return;
    const cached = this.readCache(rt);
    if (cached === undefined) {
      throw new CniError(
        CniErrorCode.UnknownContainer,
        `no cached result for ${rt.containerId}`,
        undefined,
        this.config.plugins[0]?.type ?? '',
        'CHECK',
      );
    }
    for (const plugin of this.config.plugins) {
      const conf = pluginStdinConfig(
        this.config,
        plugin,
        rt.capabilityArgs ?? cached.capabilityArgs,
        cached.result,
      );
      await this.runner.exec(plugin.type, 'CHECK', conf, rt);
    }
  }

  /** VERSION of every distinct plugin in the list. */
  async version(): Promise<Record<string, CniVersionResult>> {
    const out: Record<string, CniVersionResult> = {};
    for (const p of this.config.plugins) {
      if (out[p.type] === undefined) out[p.type] = await this.runner.version(p.type, this.config.cniVersion);
    }
    return out;
  }

  /** The result cached by the last ADD for this attachment, if any. */
  cachedResult(rt: Pick<CniRuntimeConf, 'containerId' | 'ifName'>): CniResult | undefined {
    return this.readCache(rt)?.result;
  }

  private cachePath(rt: Pick<CniRuntimeConf, 'containerId' | 'ifName'>): string | undefined {
    if (this.opts.cacheDir === undefined) return undefined;
    return join(this.opts.cacheDir, `${this.config.name}-${rt.containerId}-${rt.ifName}`);
  }

  private writeCache(rt: CniRuntimeConf, result: CniResult): void {
    const p = this.cachePath(rt);
    if (p === undefined || this.opts.cacheDir === undefined) return;
    mkdirSync(this.opts.cacheDir, { recursive: true });
    const entry: CacheEntry = {
      kind: 'ktsCniCacheV1',
      networkName: this.config.name,
      containerId: rt.containerId,
      ifName: rt.ifName,
      netns: rt.netns,
      result,
    };
    if (rt.args !== undefined) entry.args = rt.args;
    if (rt.capabilityArgs !== undefined) entry.capabilityArgs = rt.capabilityArgs;
    writeFileSync(p, JSON.stringify(entry));
  }

  private readCache(rt: Pick<CniRuntimeConf, 'containerId' | 'ifName'>): CacheEntry | undefined {
    const p = this.cachePath(rt);
    return p === undefined ? undefined : readCacheEntry(p);
  }

  private removeCache(rt: CniRuntimeConf): void {
    const p = this.cachePath(rt);
    if (p !== undefined) rmSync(p, { force: true });
  }
}
