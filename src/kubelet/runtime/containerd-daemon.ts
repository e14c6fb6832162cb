// A containerd that kts owns: started with a generated config in a kts data directory when
// no containerd socket is given, so a node needs nothing but the Debian packages
// `containerd`, `runc` and `containernetworking-plugins`. Everything it writes lives under
// one root (content, snapshots, state, socket, CNI config dir) and it is stopped by pid.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { PAUSE_IMAGE } from './images/build-image.js';

/** Options of a private containerd. */
export interface ContainerdDaemonOptions {
  /** Directory kts owns; the daemon keeps everything beneath it. */
  rootDir: string;
  /** Sandbox image (default `kts.local/pause:3.10`, which kts builds and imports itself). */
  sandboxImage?: string;
  /** `overlayfs` or `native`; by default overlayfs when the kernel supports it. */
  snapshotter?: 'overlayfs' | 'native';
  /** Directory of CNI plugin binaries (Debian's containernetworking-plugins: /usr/lib/cni). */
  cniBinDir?: string;
  /** Directory of CNI network configs (default `<rootDir>/cni/net.d`). */
  cniConfDir?: string;
  /** Port of containerd's streaming server on 127.0.0.1 (default: a free port). */
  streamPort?: number;
  /** Path of the containerd binary (default `containerd` on PATH). */
  containerdPath?: string;
  /** How long to wait for the socket (default 20 s). */
  startTimeoutMs?: number;
}

/** A running private containerd. */
export interface ContainerdDaemon {
  /** Unix socket path of its gRPC API (CRI and containerd services). */
  socket: string;
  /** The `address` form the CRI client takes (`unix://…`). */
  endpoint: string;
  pid: number;
  rootDir: string;
  snapshotter: 'overlayfs' | 'native';
  cniConfDir: string;
  /** Where its stdout/stderr go. */
  logFile: string;
  /** Stops the daemon (SIGTERM, then SIGKILL after `graceMs`) and waits for it to exit. */
  stop(graceMs?: number): Promise<void>;
}

/** The runtime-installation problem, worded for a human who has to fix it. */
export function containerdMissing(): string | undefined {
  for (const bin of ['containerd', 'ctr', 'runc']) {
    if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) {
      return `${bin} not found on PATH: install the Debian packages containerd and runc (apt-get install -y containerd runc containernetworking-plugins)`;
    }
  }
  return undefined;
}

/** The installed containerd's version, e.g. `1.6.20`. */
export function containerdVersion(containerdPath = 'containerd'): string {
  const r = spawnSync(containerdPath, ['--version'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${containerdPath} --version failed: ${r.stderr || r.error?.message}`);
  const m = /\s v?(\d+\.\d+\.\d+)/.exec(r.stdout);
  if (m?.[1] === undefined) throw new Error(`cannot parse containerd version from: ${r.stdout.trim()}`);
  return m[1];
}

/** True when the kernel offers overlayfs (the snapshotter containerd uses by default). */
export function overlaySupported(): boolean {
  try {
    return /\toverlay$/m.test(readFileSync('/proc/filesystems', 'utf8'));
  } catch {
    return false;
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const CAP_SYS_RESOURCE = 24;

/**
 * Whether this process holds a capability. Some sandboxes (VMs, nested containers) give
 * root no CAP_SYS_RESOURCE; then runc fails to set the negative oom_score_adj containerd
 * asks for ("failed to update /proc/self/oom_score_adj"), unless CRI restricts it.
 */
export function hasCapability(bit: number): boolean {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m?.[1] !== undefined && ((BigInt(`0x${m[1]}`) >> BigInt(bit)) & 1n) === 1n;
  } catch {
    return false;
  }
}

function tomlString(s: string): string {
  return JSON.stringify(s);
}

function tomlList(l: readonly string[]): string {
  return `[${l.map(tomlString).join(', ')}]`;
}

/** containerd plugins a kts node never uses (ids as `ctr plugins ls` shows them). */
export const DISABLED_PLUGINS: readonly string[] = [
  'io.containerd.snapshotter.v1.aufs',
  'io.containerd.snapshotter.v1.btrfs',
  'io.containerd.snapshotter.v1.devmapper',
  'io.containerd.snapshotter.v1.zfs',
  'io.containerd.internal.v1.restart',
  'io.containerd.monitor.v1.cgroups',
];

/** Paths a private containerd uses under `rootDir`. */
export function containerdPaths(rootDir: string): {
  root: string;
  state: string;
  socket: string;
  config: string;
  opt: string;
  log: string;
  runcRoot: string;
  cniConfDir: string;
  registryConfigDir: string;
  netnsDir: string;
} {
  return {
    root: join(rootDir, 'root'),
    state: join(rootDir, 'state'),
    socket: join(rootDir, 'containerd.sock'),
    config: join(rootDir, 'config.toml'),
    opt: join(rootDir, 'opt'),
    log: join(rootDir, 'containerd.log'),
    runcRoot: join(rootDir, 'runc'),
    cniConfDir: join(rootDir, 'cni', 'net.d'),
    // containerd's hosts.toml directory: `<host[:port]>/hosts.toml` per registry (mirrors,
    // plain HTTP, CAs). Loopback registries need none: containerd speaks HTTP to them.
    registryConfigDir: join(rootDir, 'certs.d'),
    // Sandbox network namespaces (`cni-<uuid>` bind mounts; netns_mounts_under_state_dir).
    netnsDir: join(rootDir, 'state', 'io.containerd.grpc.v1.cri', 'netns'),
  };
}

/**
 * The containerd config (format version 2, read by containerd 1.5–1.7). Only what differs
 * from containerd's defaults is written, plus the paths that must not collide with a
 * system containerd.
 */
export function containerdConfig(opts: {
  rootDir: string;
  sandboxImage: string;
  snapshotter: string;
  cniBinDir: string;
  cniConfDir: string;
  streamPort: number;
  /** Without CAP_SYS_RESOURCE nothing may lower an oom_score_adj (see `canLowerOomScore`). */
  canLowerOomScore: boolean;
}): string {
  const p = containerdPaths(opts.rootDir);
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return `# generated by kts; rewritten every time kts starts this containerd
version = 2
root = ${tomlString(p.root)}
state = ${tomlString(p.state)}
${opts.canLowerOomScore ? 'oom_score = -999' : '# no CAP_SYS_RESOURCE here: leave oom_score alone'}
# Nothing here uses them: snapshotters other than overlayfs/native, the restart monitor
# (it re-reads every container every 10 s) and the cgroups task monitor (metrics nobody
# scrapes; the runc shim reports OOM kills itself).
disabled_plugins = ${tomlList(DISABLED_PLUGINS)}

[grpc]
  address = ${tomlString(p.socket)}

[ttrpc]
  address = ${tomlString(`${p.socket}.ttrpc`)}

[debug]
  level = "info"

[plugins."io.containerd.internal.v1.opt"]
  path = ${tomlString(p.opt)}

[${cri}]
  sandbox_image = ${tomlString(opts.sandboxImage)}
  stream_server_address = "127.0.0.1"
  stream_server_port = ${tomlString(String(opts.streamPort))}
  enable_selinux = false
  max_container_log_line_size = 16384
  restrict_oom_score_adj = ${!opts.canLowerOomScore}
  # Sandbox network namespaces live under the state dir, not /run/netns, so removing this
  # containerd's root (cleanupContainerdRoot) takes every one of them along.
  netns_mounts_under_state_dir = true

[${cri}.containerd]
  snapshotter = ${tomlString(opts.snapshotter)}
  default_runtime_name = "runc"
  # Images imported by kts are never pulled again, so keep their layers unpacked.
  discard_unpacked_layers = false

[${cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[${cri}.containerd.runtimes.runc.options]
  SystemdCgroup = false
  Root = ${tomlString(p.runcRoot)}

[${cri}.registry]
  config_path = ${tomlString(p.registryConfigDir)}

[${cri}.cni]
  bin_dir = ${tomlString(opts.cniBinDir)}
  conf_dir = ${tomlString(opts.cniConfDir)}
`;
}

function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Starts a private containerd and resolves once its socket accepts connections. */
export async function startContainerd(options: ContainerdDaemonOptions): Promise<ContainerdDaemon> {
  const missing = containerdMissing();
  if (missing !== undefined) throw new Error(missing);
  const p = containerdPaths(options.rootDir);
  const snapshotter = options.snapshotter ?? (overlaySupported() ? 'overlayfs' : 'native');
  const cniConfDir = options.cniConfDir ?? p.cniConfDir;
  for (const d of [options.rootDir, p.root, p.state, p.opt, cniConfDir, p.registryConfigDir])
    mkdirSync(d, { recursive: true });
  const streamPort = options.streamPort ?? (await freeLoopbackPort());
  writeFileSync(
    p.config,
    containerdConfig({
      rootDir: options.rootDir,
      sandboxImage: options.sandboxImage ?? PAUSE_IMAGE,
      snapshotter,
      cniBinDir: options.cniBinDir ?? '/usr/lib/cni',
      cniConfDir,
      streamPort,
      canLowerOomScore: hasCapability(CAP_SYS_RESOURCE),
    }),
  );
  if (existsSync(p.socket) && (await socketAnswers(p.socket))) {
    throw new Error(`a containerd is already serving ${p.socket}; stop it or pass its socket instead`);
  }
  const logFd = openSync(p.log, 'a');
  const child = spawn(options.containerdPath ?? 'containerd', ['--config', p.config], {
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  let spawnError: Error | undefined;
  child.once('error', (err) => {
    spawnError = err;
  });
  const deadline = Date.now() + (options.startTimeoutMs ?? 20_000);
  for (;;) {
    if (spawnError !== undefined) throw new Error(`cannot start containerd: ${spawnError.message}`);
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `containerd exited during startup (${child.exitCode ?? child.signalCode}); see ${p.log}`,
      );
    }
    if (existsSync(p.socket) && (await socketAnswers(p.socket))) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`containerd did not open ${p.socket} in time; see ${p.log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error('containerd has no pid');
  return {
    socket: p.socket,
    endpoint: `unix://${p.socket}`,
    pid,
    rootDir: options.rootDir,
    snapshotter,
    cniConfDir,
    logFile: p.log,
    async stop(graceMs = 5000): Promise<void> {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited(child);
      clearTimeout(timer);
    },
  };
}

/** Pids of processes whose command line names `needle` (e.g. shims serving a socket). */
export function pidsMentioning(needle: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(needle)) out.push(Number(entry));
    } catch {
      // the process exited while we looked
    }
  }
  return out.filter((pid) => pid !== process.pid);
}

/** Mount points at or beneath `dir`, deepest first. */
export function mountsUnder(dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const out: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    // field 5 is the mount point, with spaces etc. octal-escaped
    const mp = line.split(' ')[4];
    if (mp === undefined) continue;
    const path = mp.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
    if (path === dir || path.startsWith(prefix)) out.push(path);
  }
  return out.sort((a, b) => b.length - a.length);
}

/**
 * Removes every trace of a private containerd under `rootDir`: kills the containerd still
 * running on its config (its owner was killed outright) and the runc shims that still serve
 * its socket (they outlive containerd by design), unmounts container root filesystems,
 * sandbox mounts and network namespaces, then deletes the directory. For tests and `kts`
 * uninstall.
 */
export function cleanupContainerdRoot(rootDir: string): void {
  const { socket, config } = containerdPaths(rootDir);
  for (const pid of [...pidsMentioning(config), ...pidsMentioning(socket)]) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const mp of mountsUnder(rootDir)) spawnSync('umount', ['-l', mp]);
  rmSync(rootDir, { recursive: true, force: true });
}

/** Where a node keeps its private containerd under the kts data dir. */
export function nodeContainerdRoot(dataDir: string): string {
  return join(dataDir, 'agent', 'containerd');
}

/**
 * Where `kts image import` leaves tarballs when the node's containerd is not running; the
 * kubelet imports every `*.tar` there once its containerd is up (as k3s does).
 */
export function nodeImagesDir(dataDir: string): string {
  return join(dataDir, 'agent', 'images');
}

/** True when something accepts connections on the unix socket `path`. */
export function socketServing(path: string): Promise<boolean> {
  return existsSync(path) ? socketAnswers(path) : Promise.resolve(false);
}
