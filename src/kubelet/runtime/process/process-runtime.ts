// The host-process runtime: what each verb of the runtime interface means when a
// "container" is a process group on the host and a "sandbox" is a directory. See ./index.ts
// for exactly what that isolates and what it does not.

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdir, rm, symlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname, isAbsolute, join } from 'node:path';
import { PassThrough, type Writable } from 'node:stream';
import { CriLogWriter, type LogRotation, type LogStream } from '../logs.js';
import {
  type AuthConfig,
  type Container,
  type ContainerConfig,
  type ContainerFilter,
  type ContainerRuntime,
  type ContainerStats,
  type ContainerStatus,
  type ExecSession,
  type ExecSyncResult,
  type Image,
  nowNanos,
  type PodSandbox,
  type PodSandboxConfig,
  type PodSandboxFilter,
  type PodSandboxStatus,
  type PortForwarder,
  RuntimeError,
  type RuntimeVersion,
  type StreamOptions,
  type TerminalSize,
} from '../runtime.js';
import { type ContainerCgroup, createContainerCgroup, removeCgroupParent } from './cgroup.js';
import {
  HelperSpawner,
  killGroup,
  type ProcessSpawner,
  type SpawnedProcess,
  type SpawnExit,
} from './spawner.js';

/** Options of the process runtime. */
export interface ProcessRuntimeOptions {
  /** Directory under the kts data dir holding sandbox and container directories. */
  rootDir: string;
  /** Log rotation of container logs. */
  logRotation?: LogRotation;
  /** Parent cgroup of container cgroups when the sandbox names none (default `kts-process`). */
  cgroupParent?: string;
  /** Where commands are forked from (default: a small helper process; see ./spawner.ts). */
  spawner?: ProcessSpawner;
}

interface SandboxRecord {
  id: string;
  config: PodSandboxConfig;
  dir: string;
  state: PodSandbox['state'];
  createdAt: bigint;
}

interface ContainerRecord {
  id: string;
  sandboxId: string;
  config: ContainerConfig;
  dir: string;
  logPath: string;
  state: ContainerStatus['state'];
  createdAt: bigint;
  startedAt: bigint;
  finishedAt: bigint;
  exitCode: number;
  reason: string;
  message: string;
  env: Record<string, string>;
  proc?: SpawnedProcess;
  exited?: Promise<void>;
  cgroup?: ContainerCgroup;
  /** Live output for attach. */
  output: EventEmitter;
}

const MAX_EXEC_OUTPUT = 16 * 1024 * 1024;
const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };

/** The exit code a shell would report: the code, or 128 + the signal's number. */
function exitCodeOf(e: SpawnExit): number {
  return e.code ?? 128 + (e.signal !== null ? (SIGNALS[e.signal] ?? 9) : 9);
}

function newId(): string {
  return randomBytes(32).toString('hex');
}

function matchesLabels(
  labels: Record<string, string>,
  selector: Record<string, string> | undefined,
): boolean {
  return Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);
}

function shellQuote(args: string[]): string {
  return args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
}

/** The pseudo-terminal a process's first child has on stdin (for `script`-run TTY execs). */
function childPts(pid: number): string | undefined {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/);
    const child = children[0];
    if (child === undefined || child === '') return undefined;
    const target = readlinkSync(`/proc/${child}/fd/0`);
    return target.startsWith('/dev/pts/') ? target : undefined;
  } catch {
    return undefined;
  }
}

/** ContainerRuntime that runs containers as host processes. */
export class ProcessRuntime implements ContainerRuntime {
  readonly type = 'process';
  private readonly sandboxes = new Map<string, SandboxRecord>();
  private readonly containers = new Map<string, ContainerRecord>();
  private readonly rootDir: string;
  private readonly spawner: ProcessSpawner;

  constructor(private readonly options: ProcessRuntimeOptions) {
    this.rootDir = options.rootDir;
    this.spawner = options.spawner ?? new HelperSpawner();
    mkdirSync(join(this.rootDir, 'sandboxes'), { recursive: true });
  }

  async version(): Promise<RuntimeVersion> {
    return { version: '0.1.0', runtimeName: 'kts-process', runtimeVersion: '0.1.0', runtimeApiVersion: 'v1' };
  }

  private sandbox(id: string): SandboxRecord {
    const s = this.sandboxes.get(id);
    if (s === undefined) throw new RuntimeError('NotFound', `pod sandbox ${id} not found`);
    return s;
  }

  private container(id: string): ContainerRecord {
    const c = this.containers.get(id);
    if (c === undefined) throw new RuntimeError('NotFound', `container ${id} not found`);
    return c;
  }

  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    const id = newId();
    const dir = join(this.rootDir, 'sandboxes', id);
    // Asynchronous: pods starting together must not queue behind each other's file system work.
    await Promise.all([
      mkdir(join(dir, 'containers'), { recursive: true }),
      mkdir(config.logDirectory, { recursive: true }),
    ]);
    this.sandboxes.set(id, { id, config, dir, state: 'SANDBOX_READY', createdAt: nowNanos() });
    return id;
  }

  async stopPodSandbox(id: string): Promise<void> {
    const s = this.sandboxes.get(id);
    if (s === undefined) return;
    await Promise.all(
      [...this.containers.values()].filter((c) => c.sandboxId === id).map((c) => this.stopContainer(c.id, 0)),
    );
    s.state = 'SANDBOX_NOTREADY';
  }

  async removePodSandbox(id: string): Promise<void> {
    const s = this.sandboxes.get(id);
    if (s === undefined) return;
    await this.stopPodSandbox(id);
    for (const c of [...this.containers.values()]) if (c.sandboxId === id) await this.removeContainer(c.id);
    // Gone from listings only once its files are, as with a real runtime.
    await rm(s.dir, { recursive: true, force: true });
    this.sandboxes.delete(id);
  }

  async podSandboxStatus(id: string): Promise<PodSandboxStatus> {
    const s = this.sandbox(id);
    return {
      ...this.sandboxItem(s),
      ip: '',
      additionalIps: [],
      namespaceOptions: { network: 'NODE', pid: 'NODE', ipc: 'NODE' },
    };
  }

  private sandboxItem(s: SandboxRecord): PodSandbox {
    return {
      id: s.id,
      metadata: { ...s.config.metadata },
      state: s.state,
      createdAt: s.createdAt,
      labels: { ...(s.config.labels ?? {}) },
      annotations: { ...(s.config.annotations ?? {}) },
      runtimeHandler: s.config.runtimeHandler ?? '',
    };
  }

  async listPodSandbox(filter?: PodSandboxFilter): Promise<PodSandbox[]> {
    return [...this.sandboxes.values()]
      .filter((s) => filter?.id === undefined || filter.id === '' || s.id.startsWith(filter.id))
      .filter((s) => filter?.state === undefined || s.state === filter.state)
      .filter((s) => matchesLabels(s.config.labels ?? {}, filter?.labelSelector))
      .map((s) => this.sandboxItem(s));
  }

  async createContainer(
    podSandboxId: string,
    config: ContainerConfig,
    sandboxConfig: PodSandboxConfig,
  ): Promise<string> {
    const s = this.sandbox(podSandboxId);
    if (s.state !== 'SANDBOX_READY')
      throw new RuntimeError('InvalidArgument', `pod sandbox ${podSandboxId} is not ready`);
    for (const c of this.containers.values()) {
      if (
        c.sandboxId === podSandboxId &&
        c.config.metadata.name === config.metadata.name &&
        c.config.metadata.attempt === config.metadata.attempt
      ) {
        throw new RuntimeError(
          'AlreadyExists',
          `container ${config.metadata.name} attempt ${config.metadata.attempt} already exists in sandbox ${podSandboxId}`,
        );
      }
    }
    const id = newId();
    const dir = join(s.dir, 'containers', id);
    await mkdir(dir, { recursive: true });
    // Volumes cannot be mounted without a mount namespace; a symlink at the container path
    // (relative to the working directory) is the closest a host process gets.
    for (const m of config.mounts ?? []) {
      const link = join(dir, m.containerPath.replace(/^\/+/, ''));
      await mkdir(dirname(link), { recursive: true });
      try {
        await symlink(m.hostPath, link);
      } catch {
        // an earlier mount already provides this path
      }
    }
    const env: Record<string, string> = {
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: dir,
      HOSTNAME: sandboxConfig.hostname || sandboxConfig.metadata.name,
    };
    for (const e of config.envs ?? []) env[e.key] = e.value;
    this.containers.set(id, {
      id,
      sandboxId: podSandboxId,
      config,
      dir,
      logPath: join(s.config.logDirectory, config.logPath),
      state: 'CONTAINER_CREATED',
      createdAt: nowNanos(),
      startedAt: 0n,
      finishedAt: 0n,
      exitCode: 0,
      reason: '',
      message: '',
      env,
      output: new EventEmitter(),
    });
    return id;
  }

  /** The working directory of a container: its own directory, or an absolute workingDir. */
  private cwd(c: ContainerRecord): string {
    const wd = c.config.workingDir;
    return wd !== undefined && wd !== '' && isAbsolute(wd) ? join(c.dir, wd) : c.dir;
  }

  async startContainer(id: string): Promise<void> {
    const c = this.container(id);
    if (c.state !== 'CONTAINER_CREATED')
      throw new RuntimeError('InvalidArgument', `container ${id} is not in created state`);
    const argv = [...(c.config.command ?? []), ...(c.config.args ?? [])];
    await mkdir(dirname(c.logPath), { recursive: true });
    const log = new CriLogWriter(c.logPath, this.options.logRotation);
    const fail = (message: string): void => {
      c.state = 'CONTAINER_EXITED';
      c.exitCode = 128;
      c.reason = 'ContainerCannotRun';
      c.message = message;
      c.finishedAt = nowNanos();
      log.close();
      c.cgroup?.remove();
      c.output.emit('exit');
    };
    if (argv.length === 0) {
      fail('the process runtime has no image entrypoint: the container needs a command or args');
      throw new RuntimeError('InvalidArgument', c.message);
    }
    const cwd = this.cwd(c);
    // The container's own directory exists since createContainer.
    if (cwd !== c.dir) await mkdir(cwd, { recursive: true });
    const resources = c.config.linux?.resources;
    const podParent = this.sandboxes.get(c.sandboxId)?.config.linux?.cgroupParent;
    // A pod cgroup from the kubelet always gets container cgroups (cpu shares apply to
    // everyone); without one, only a memory limit is worth a cgroup of the runtime's own.
    if (podParent !== undefined && podParent !== '')
      c.cgroup = createContainerCgroup(podParent, id, resources);
    else if ((resources?.memoryLimitInBytes ?? 0) > 0)
      c.cgroup = createContainerCgroup(this.options.cgroupParent ?? 'kts-process', id, resources);
    // Joining the cgroup before exec means the command's first allocation is already limited.
    const [cmd, ...args] =
      c.cgroup !== undefined
        ? [
            '/bin/sh',
            '-c',
            'for d in $0; do echo $$ > "$d/cgroup.procs" || exit 126; done; exec "$@"',
            c.cgroup.dirs.join(' '),
            ...argv,
          ]
        : (argv as [string, ...string[]]);
    let proc: SpawnedProcess;
    try {
      proc = await this.spawner.spawn({
        cmd: cmd as string,
        args,
        cwd,
        env: c.env,
        stdin: c.config.stdin === true,
      });
    } catch (err) {
      fail((err as Error).message);
      c.exited = Promise.resolve();
      throw new RuntimeError(
        'InvalidArgument',
        `cannot start container ${c.config.metadata.name}: ${(err as Error).message}`,
      );
    }
    c.proc = proc;
    const pipe = (stream: LogStream, from: NodeJS.ReadableStream): void => {
      from.on('data', (d: Buffer) => {
        log.write(stream, d);
        c.output.emit(stream, d);
      });
      from.on('end', () => log.endStream(stream));
    };
    pipe('stdout', proc.stdout);
    pipe('stderr', proc.stderr);
    c.exited = proc.closed.then((e) => {
      if (c.state === 'CONTAINER_EXITED') return;
      c.state = 'CONTAINER_EXITED';
      c.finishedAt = nowNanos();
      c.exitCode = exitCodeOf(e);
      if (c.cgroup !== undefined && c.cgroup.oomKills() > 0) c.reason = 'OOMKilled';
      else c.reason = c.exitCode === 0 ? 'Completed' : 'Error';
      log.close();
      c.cgroup?.remove();
      c.output.emit('exit');
    });
    c.state = 'CONTAINER_RUNNING';
    c.startedAt = nowNanos();
  }

  private signal(c: ContainerRecord, sig: NodeJS.Signals): void {
    const pid = c.proc?.pid;
    if (pid === undefined || c.state !== 'CONTAINER_RUNNING') return;
    try {
      process.kill(-pid, sig); // the whole process group the container started
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        // already gone
      }
    }
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    const c = this.containers.get(id);
    if (c === undefined) return;
    if (c.state === 'CONTAINER_CREATED') {
      c.state = 'CONTAINER_EXITED';
      c.finishedAt = nowNanos();
      return;
    }
    if (c.state !== 'CONTAINER_RUNNING') return;
    if (timeoutSeconds > 0) {
      this.signal(c, 'SIGTERM');
      const timer = new Promise<'timeout'>((r) =>
        setTimeout(() => r('timeout'), timeoutSeconds * 1000).unref(),
      );
      if ((await Promise.race([c.exited, timer])) !== 'timeout') return;
    }
    this.signal(c, 'SIGKILL');
    await c.exited;
  }

  async removeContainer(id: string): Promise<void> {
    const c = this.containers.get(id);
    if (c === undefined) return;
    await this.stopContainer(id, 0);
    await rm(c.dir, { recursive: true, force: true });
    this.containers.delete(id);
  }

  async containerStatus(id: string): Promise<ContainerStatus> {
    const c = this.container(id);
    return {
      id: c.id,
      metadata: { ...c.config.metadata },
      state: c.state,
      createdAt: c.createdAt,
      startedAt: c.startedAt,
      finishedAt: c.finishedAt,
      exitCode: c.exitCode,
      image: c.config.image,
      imageRef: processImageRef(c.config.image),
      reason: c.reason,
      message: c.message,
      labels: { ...(c.config.labels ?? {}) },
      annotations: { ...(c.config.annotations ?? {}) },
      mounts: [...(c.config.mounts ?? [])],
      logPath: c.logPath,
    };
  }

  async listContainers(filter?: ContainerFilter): Promise<Container[]> {
    return [...this.containers.values()]
      .filter((c) => filter?.id === undefined || filter.id === '' || c.id.startsWith(filter.id))
      .filter((c) => filter?.state === undefined || c.state === filter.state)
      .filter(
        (c) =>
          filter?.podSandboxId === undefined ||
          filter.podSandboxId === '' ||
          c.sandboxId === filter.podSandboxId,
      )
      .filter((c) => matchesLabels(c.config.labels ?? {}, filter?.labelSelector))
      .map((c) => ({
        id: c.id,
        podSandboxId: c.sandboxId,
        metadata: { ...c.config.metadata },
        image: c.config.image,
        imageRef: processImageRef(c.config.image),
        state: c.state,
        createdAt: c.createdAt,
        labels: { ...(c.config.labels ?? {}) },
        annotations: { ...(c.config.annotations ?? {}) },
      }));
  }

  private running(id: string): ContainerRecord {
    const c = this.container(id);
    if (c.state !== 'CONTAINER_RUNNING')
      throw new RuntimeError('InvalidArgument', `container ${id} is not running`);
    return c;
  }

  async execSync(id: string, cmd: string[], timeoutSeconds: number): Promise<ExecSyncResult> {
    const c = this.running(id);
    const [bin, ...args] = cmd;
    if (bin === undefined) throw new RuntimeError('InvalidArgument', 'exec: empty command');
    let proc: SpawnedProcess;
    try {
      proc = await this.spawner.spawn({ cmd: bin, args, cwd: this.cwd(c), env: c.env, stdin: false });
    } catch (e) {
      throw new RuntimeError('InvalidArgument', `exec ${JSON.stringify(bin)}: ${(e as Error).message}`);
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outLen = 0;
    let errLen = 0;
    proc.stdout.on('data', (d: Buffer) => {
      if (outLen < MAX_EXEC_OUTPUT) out.push(d.subarray(0, MAX_EXEC_OUTPUT - outLen));
      outLen += d.length;
    });
    proc.stderr.on('data', (d: Buffer) => {
      if (errLen < MAX_EXEC_OUTPUT) err.push(d.subarray(0, MAX_EXEC_OUTPUT - errLen));
      errLen += d.length;
    });
    let timedOut = false;
    const timer =
      timeoutSeconds > 0
        ? setTimeout(() => {
            timedOut = true;
            killGroup(proc.pid);
          }, timeoutSeconds * 1000)
        : undefined;
    const exit = await proc.closed;
    clearTimeout(timer);
    if (timedOut)
      throw new RuntimeError(
        'DeadlineExceeded',
        `command ${JSON.stringify(cmd)} timed out after ${timeoutSeconds}s`,
      );
    return { stdout: Buffer.concat(out), stderr: Buffer.concat(err), exitCode: exitCodeOf(exit) };
  }

  async exec(id: string, cmd: string[], options: StreamOptions): Promise<ExecSession> {
    const c = this.running(id);
    if (cmd.length === 0) throw new RuntimeError('InvalidArgument', 'exec: empty command');
    // Node cannot allocate a pseudo-terminal itself; util-linux `script` runs the command on one.
    const [bin, ...args] = options.tty ? ['script', '-qfec', shellQuote(cmd), '/dev/null'] : cmd;
    let proc: SpawnedProcess;
    try {
      proc = await this.spawner.spawn({
        cmd: bin as string,
        args,
        cwd: this.cwd(c),
        env: options.tty ? { ...c.env, TERM: c.env.TERM ?? 'xterm' } : c.env,
        stdin: options.stdin,
      });
    } catch (e) {
      throw new RuntimeError('InvalidArgument', `exec ${JSON.stringify(cmd[0])}: ${(e as Error).message}`);
    }
    const exit = proc.closed.then(exitCodeOf);
    // Unwanted streams are drained so the process never blocks on a full pipe.
    if (!options.stdout) proc.stdout.resume();
    if (!options.stderr || options.tty) proc.stderr.resume();
    // The first size comes as soon as the client is attached, often before `script` has
    // opened the terminal: the newest size is kept and applied once the terminal exists.
    let wanted: TerminalSize | undefined;
    let retry: NodeJS.Timeout | undefined;
    const applySize = (tries: number): void => {
      retry = undefined;
      const size = wanted;
      if (size === undefined || proc.exited) return;
      const pts = childPts(proc.pid);
      if (pts === undefined) {
        if (tries < 100) retry = setTimeout(() => applySize(tries + 1), 20).unref();
        return;
      }
      wanted = undefined;
      spawnSync('stty', ['-F', pts, 'cols', String(size.width), 'rows', String(size.height)]);
    };
    return {
      stdin: proc.stdin,
      stdout: options.stdout ? proc.stdout : null,
      stderr: options.stderr && !options.tty ? proc.stderr : null,
      resize: (size: TerminalSize) => {
        if (!options.tty) return;
        wanted = size;
        if (retry === undefined) applySize(0);
      },
      exit,
      close: () => {
        if (!proc.exited) killGroup(proc.pid);
      },
    };
  }

  async attach(id: string, options: StreamOptions): Promise<ExecSession> {
    const c = this.running(id);
    const stdout = options.stdout ? new PassThrough() : null;
    const stderr = options.stderr && !options.tty ? new PassThrough() : null;
    const onOut = (d: Buffer): void => void stdout?.write(d);
    // With a TTY the terminal merges stderr into stdout.
    const onErr = (d: Buffer): void => void (options.tty ? stdout?.write(d) : stderr?.write(d));
    c.output.on('stdout', onOut);
    c.output.on('stderr', onErr);
    let detach: () => void = () => {};
    const exit = new Promise<number>((resolve) => {
      const finish = (): void => {
        c.output.off('stdout', onOut);
        c.output.off('stderr', onErr);
        c.output.off('exit', finish);
        stdout?.end();
        stderr?.end();
        resolve(c.state === 'CONTAINER_EXITED' ? c.exitCode : 0);
      };
      detach = finish;
      c.output.on('exit', finish);
    });
    const target = c.proc?.stdin ?? null;
    let stdin: Writable | null = null;
    if (options.stdin && target !== null) {
      const pass = new PassThrough();
      // Without stdinOnce the container keeps its stdin when one attach session ends.
      pass.pipe(target, { end: c.config.stdinOnce === true });
      stdin = pass;
    }
    return { stdin, stdout, stderr, resize: () => {}, exit, close: () => detach() };
  }

  async portForward(podSandboxId: string): Promise<PortForwarder> {
    this.sandbox(podSandboxId);
    // The sandbox shares the node's network: the pod's port is the host's loopback port.
    return {
      connect: (port: number) =>
        new Promise((resolve, reject) => {
          const socket = connect({ host: '127.0.0.1', port });
          socket.once('connect', () => resolve(socket));
          socket.once('error', (e) =>
            reject(new RuntimeError('Unavailable', `port-forward to port ${port}: ${e.message}`)),
          );
        }),
      close: () => {},
    };
  }

  async containerStats(id: string): Promise<ContainerStats> {
    const c = this.container(id);
    const stats: ContainerStats = { id, name: c.config.metadata.name, timestamp: nowNanos() };
    const pid = c.proc?.pid;
    if (pid === undefined || c.state !== 'CONTAINER_RUNNING') return stats;
    try {
      // /proc/<pid>/stat: fields 14 and 15 are user and system time in clock ticks (100 Hz).
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      const ticks = BigInt(fields[11] ?? '0') + BigInt(fields[12] ?? '0');
      // The container's cgroup counts every process it started; /proc only the first one.
      const cgroupCpu = c.cgroup?.cpuUsageNanos();
      stats.cpuUsageCoreNanoSeconds = cgroupCpu !== undefined ? BigInt(cgroupCpu) : ticks * 10_000_000n;
      const rssPages = BigInt(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1] ?? '0');
      stats.memoryRssBytes = rssPages * 4096n;
      const usage = c.cgroup?.usageBytes();
      stats.memoryUsageBytes = usage !== undefined ? BigInt(usage) : stats.memoryRssBytes;
      stats.memoryWorkingSetBytes = stats.memoryUsageBytes;
    } catch {
      // exited between the check and the read
    }
    return stats;
  }

  async pullImage(image: string, _auth?: AuthConfig): Promise<string> {
    return processImageRef(image);
  }

  async imageStatus(image: string): Promise<Image | null> {
    return {
      id: processImageRef(image),
      repoTags: [image],
      repoDigests: [],
      size: 0,
      username: '',
      pinned: false,
    };
  }

  async listImages(): Promise<Image[]> {
    const names = new Set([...this.containers.values()].map((c) => c.config.image));
    return [...names].map((n) => ({
      id: processImageRef(n),
      repoTags: [n],
      repoDigests: [],
      size: 0,
      username: '',
      pinned: false,
    }));
  }

  async removeImage(_image: string): Promise<void> {}

  /**
   * Kills every container (SIGKILL) and removes the cgroups left empty: the runtime's own
   * parent and its pods' (their containers die with the runtime, so nothing else will).
   */
  async close(): Promise<void> {
    await Promise.all([...this.containers.keys()].map((id) => this.stopContainer(id, 0)));
    this.spawner.close();
    removeCgroupParent(this.options.cgroupParent ?? 'kts-process');
    for (const s of this.sandboxes.values()) {
      const parent = s.config.linux?.cgroupParent;
      if (parent !== undefined && parent !== '') removeCgroupParent(parent);
    }
  }
}

/** The image reference the process runtime reports: images are names only, never pulled. */
export function processImageRef(image: string): string {
  return `process://${image}`;
}
