// Where the process runtime's commands are forked from. Linux fork() copies the parent's
// page tables, so its cost grows with the parent: measured 7.7 ms of main-thread CPU per
// spawn from a 198 MB kubelet against 1.8 ms from a 48 MB process — for a burst of 100 pods
// most of a second of the kubelet's one JS thread. The helper spawner forks from a small
// long-lived node process instead (on the other core), which passes each child's pipes back
// over its IPC channel; the kubelet only reads them.

import { type ChildProcess, spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { PassThrough, type Readable, type Writable } from 'node:stream';

/** What to run: the command, its arguments, working directory and whole environment. */
export interface SpawnRequest {
  cmd: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** A pipe for stdin (else /dev/null). */
  stdin: boolean;
}

/** How a spawned process ended: its exit code, or the signal that killed it. */
export interface SpawnExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running command: its own process group (pid = pgid) and its pipes. */
export interface SpawnedProcess {
  readonly pid: number;
  readonly stdin: Writable | null;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** True once the process has exited (its pipes may still be open in grandchildren). */
  readonly exited: boolean;
  /** Settles once the process has exited and both output pipes are closed. */
  readonly closed: Promise<SpawnExit>;
}

/** Starts commands, each in its own session and process group. */
export interface ProcessSpawner {
  /** Resolves once the process runs; rejects with the spawn error (e.g. `spawn x ENOENT`). */
  spawn(req: SpawnRequest): Promise<SpawnedProcess>;
  /** Stops the spawner itself; processes it started are left to their owner. */
  close(): void;
}

/** Spawns from this process: for small processes and platforms without the helper. */
export class LocalSpawner implements ProcessSpawner {
  spawn(req: SpawnRequest): Promise<SpawnedProcess> {
    const child = spawn(req.cmd, req.args, {
      cwd: req.cwd,
      env: req.env,
      detached: true,
      stdio: [req.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('spawn', () => {
        child.off('error', reject);
        resolve(localProcess(child));
      });
    });
  }

  close(): void {}
}

function localProcess(child: ChildProcess): SpawnedProcess {
  const closed = new Promise<SpawnExit>((resolve) => {
    // After a successful spawn 'error' can only mean a failed kill or pipe; the exit follows.
    child.on('error', () => {});
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  return {
    pid: child.pid as number,
    stdin: child.stdin,
    stdout: child.stdout as Readable,
    stderr: child.stderr as Readable,
    get exited() {
      return child.exitCode !== null || child.signalCode !== null;
    },
    closed,
  };
}

/** What the helper reports on its control pipe, per request id. */
type ControlMessage =
  | { id: number; kind: 'spawn'; pid: number }
  | { id: number; kind: 'error'; message: string }
  | { id: number; kind: 'exit'; code: number | null; signal: NodeJS.Signals | null };

/** What comes over IPC: one of a child's pipes, as a handle. */
interface PipeMessage {
  id: number;
  kind: 'stdin' | 'stdout' | 'stderr';
}

/**
 * The helper's whole program, run with `node -e`. It is source text rather than a module
 * so that it runs the same from sources (tsx), dist/ or a bundle, and loads nothing but
 * child_process and net. Per request it spawns the command and reports the pid, a spawn
 * error or the exit as JSON lines on its control pipe (fd 4), and passes the child's
 * stdout, stderr (and stdin) pipes as IPC handles. The two channels are apart because IPC
 * holds every message behind a handle until the receiver acknowledges the handle: the
 * kubelet, busy with a burst of pod starts, acknowledges late, and the pid must not wait
 * for that. Node starts reading a child's pipes at once, and a handle being sent keeps
 * reading — into a no-op — until acknowledged, so the output of a fast command would be
 * lost: reading is stopped before the event loop next polls, and the bytes wait in the
 * pipe for the kubelet.
 */
const HELPER_SOURCE = `
const cp = require('node:child_process');
const net = require('node:net');
const control = new net.Socket({ fd: 4, readable: false, writable: true });
control.on('error', () => process.exit(0));
const tell = (msg) => control.write(JSON.stringify(msg) + '\\n');
const send = (msg, handle) => { if (process.connected) process.send(msg, handle); };
process.on('message', (m) => {
  let child;
  try {
    child = cp.spawn(m.cmd, m.args, { cwd: m.cwd, env: m.env, detached: true,
      stdio: [m.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  } catch (err) {
    tell({ id: m.id, kind: 'error', message: err.message });
    return;
  }
  for (const pipe of [child.stdout, child.stderr]) if (pipe && pipe._handle) pipe._handle.readStop();
  child.once('error', (err) => tell({ id: m.id, kind: 'error', message: err.message }));
  child.once('spawn', () => {
    tell({ id: m.id, kind: 'spawn', pid: child.pid });
    send({ id: m.id, kind: 'stdout' }, child.stdout);
    send({ id: m.id, kind: 'stderr' }, child.stderr);
    if (child.stdin) send({ id: m.id, kind: 'stdin' }, child.stdin);
  });
  child.once('exit', (code, signal) => tell({ id: m.id, kind: 'exit', code, signal }));
});
process.on('disconnect', () => process.exit(0));
`;

/** A request in flight: from the spawn request until its exit and its last pipe arrived. */
interface Pending {
  req: SpawnRequest;
  resolve: (p: SpawnedProcess) => void;
  reject: (err: Error) => void;
  pid?: number;
  /** The caller's ends; the child's pipes are joined to them when their handles arrive. */
  stdout: PassThrough;
  stderr: PassThrough;
  stdin: PassThrough | null;
  pipesLeft: number;
  /** The pipes whose handles arrived. */
  arrived: Set<PipeMessage['kind']>;
  /** Settle when the child's stdout and stderr pipes are closed (read to EOF or gone). */
  outputClosed: Promise<unknown>;
  closeOutput: Record<'stdout' | 'stderr', () => void>;
  exit?: SpawnExit;
  onExit?: (e: SpawnExit) => void;
}

/**
 * Spawns through a small helper process, started on first use and again after it dies.
 * A spawn resolves as soon as the child runs; its pipes join the streams it returned when
 * they arrive, and the bytes written meanwhile wait in the pipes. If the helper dies, the
 * processes it started are killed (their exits can no longer be seen) and reported as
 * killed by SIGKILL, so their owner restarts them as after any other kill.
 */
export class HelperSpawner implements ProcessSpawner {
  private helper: ChildProcess | undefined;
  private control: Socket | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closing = false;

  spawn(req: SpawnRequest): Promise<SpawnedProcess> {
    if (this.closing) return Promise.reject(new Error('the process spawner is closed'));
    const helper = this.start();
    const id = this.nextId++;
    const closeOutput = { stdout: () => {}, stderr: () => {} };
    const outputClosed = Promise.all(
      (['stdout', 'stderr'] as const).map(
        (k) =>
          new Promise<void>((r) => {
            closeOutput[k] = r;
          }),
      ),
    );
    return new Promise((resolve, reject) => {
      this.pending.set(id, {
        outputClosed,
        closeOutput,
        req,
        resolve,
        reject,
        stdout: new PassThrough(),
        stderr: new PassThrough(),
        stdin: req.stdin ? new PassThrough() : null,
        pipesLeft: req.stdin ? 3 : 2,
        arrived: new Set(),
      });
      this.updateRef();
      helper.send({ id, ...req });
    });
  }

  /** The helper's pid while it runs (for CPU accounting). */
  get pid(): number | undefined {
    return this.helper?.pid;
  }

  close(): void {
    this.closing = true;
    this.helper?.disconnect();
    this.helper = undefined;
  }

  private start(): ChildProcess {
    if (this.helper !== undefined) return this.helper;
    // No execArgv (tsx's loader) and no NODE_OPTIONS: the helper needs plain node only.
    const helper = spawn(process.execPath, ['-e', HELPER_SOURCE], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    });
    helper.on('message', (m: PipeMessage, handle: unknown) => this.onPipe(m, handle as Socket | undefined));
    const control = helper.stdio[4] as Socket;
    let buffered = '';
    control.setEncoding('utf8');
    control.on('data', (chunk: string) => {
      buffered += chunk;
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        this.onControl(JSON.parse(line) as ControlMessage);
      }
    });
    control.on('error', () => {});
    helper.once('exit', () => this.onHelperExit(helper));
    // The helper keeps its owner alive only while a spawn or an exit is awaited from it.
    helper.unref();
    this.helper = helper;
    this.control = control;
    return helper;
  }

  private onControl(m: ControlMessage): void {
    const p = this.pending.get(m.id);
    if (p === undefined) return;
    switch (m.kind) {
      case 'spawn':
        p.pid = m.pid;
        p.resolve(this.running(p));
        break;
      case 'error':
        this.pending.delete(m.id);
        p.reject(new Error(m.message));
        break;
      case 'exit':
        p.exit = { code: m.code, signal: m.signal };
        p.onExit?.(p.exit);
        if (p.pipesLeft === 0) this.pending.delete(m.id);
        break;
    }
    this.updateRef();
  }

  private onPipe(m: PipeMessage, handle: Socket | undefined): void {
    const p = this.pending.get(m.id);
    if (p === undefined || handle === undefined) return;
    // The child may be gone by now (a write to its stdin fails): its exit tells the rest.
    handle.on('error', () => {});
    if (m.kind === 'stdin') p.stdin?.pipe(handle);
    else {
      const kind = m.kind;
      handle.once('close', () => p.closeOutput[kind]());
      handle.pipe(p[kind]);
    }
    p.arrived.add(m.kind);
    p.pipesLeft--;
    if (p.pipesLeft === 0 && p.exit !== undefined) this.pending.delete(m.id);
    this.updateRef();
  }

  private updateRef(): void {
    const channel = this.helper?.channel as { ref(): void; unref(): void } | null | undefined;
    if (this.pending.size > 0) {
      this.helper?.ref();
      channel?.ref();
      this.control?.ref();
    } else {
      this.helper?.unref();
      channel?.unref();
      this.control?.unref();
    }
  }

  /** The caller's view of a child that runs. */
  private running(p: Pending): SpawnedProcess {
    const exit = new Promise<SpawnExit>((resolve) => {
      if (p.exit !== undefined) resolve(p.exit);
      else p.onExit = resolve;
    });
    const closed = Promise.all([exit, p.outputClosed]).then(([e]) => e);
    return {
      pid: p.pid as number,
      stdin: p.stdin,
      stdout: p.stdout,
      stderr: p.stderr,
      get exited() {
        return p.exit !== undefined;
      },
      closed,
    };
  }

  private onHelperExit(helper: ChildProcess): void {
    if (this.helper === helper) {
      this.helper = undefined;
      this.control = undefined;
    }
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      if (p.pid === undefined) {
        p.reject(new Error('the process spawner exited'));
        continue;
      }
      // Pipes that never arrived end empty; what did arrive ends with the process.
      if (p.exit === undefined) {
        killGroup(p.pid);
        p.exit = { code: null, signal: 'SIGKILL' };
        p.onExit?.(p.exit);
      }
      for (const k of ['stdout', 'stderr'] as const) {
        if (p.arrived.has(k)) continue;
        p[k].end();
        p.closeOutput[k]();
      }
    }
  }
}

/** SIGKILL to a process group; a group already gone is not an error. */
export function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
