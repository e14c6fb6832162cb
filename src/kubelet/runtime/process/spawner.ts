// Where the process runtime's commands are forked from. Linux fork() copies the parent's
// page tables, so its cost grows with the parent: measured 7.7 ms of main-thread CPU per
// spawn from a 198 MB kubelet against 1.8 ms from a 48 MB process — for a burst of 100 pods
// most of a second of the kubelet's one JS thread. The helper spawner forks from a small
// long-lived node process instead (on the other core), which passes each child's pipes back
// over its IPC channel; the kubelet only reads them.

import { type ChildProcess, spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';

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

/** Messages from the helper to the spawner, per request id. */
type HelperMessage =
  | { id: number; kind: 'spawn'; pid: number }
  | { id: number; kind: 'stdin' | 'stdout' | 'stderr' }
  | { id: number; kind: 'error'; message: string }
  | { id: number; kind: 'exit'; code: number | null; signal: NodeJS.Signals | null };

/**
 * The helper's whole program, run with `node -e`. It is source text rather than a module
 * so that it runs the same from sources (tsx), dist/ or a bundle, and loads nothing but
 * child_process. Per request it spawns the command and sends back, in order: the pid, the
 * stdout, stderr (and stdin) pipes as handles (one per message; IPC keeps their order),
 * then the exit. Node starts reading a child's pipes at once, and a handle being sent keeps
 * reading — into a no-op — until the receiver acknowledges it, so the output of a fast
 * command would be lost: reading is stopped before the event loop next polls, and the
 * bytes wait in the pipe for the kubelet.
 */
const HELPER_SOURCE = `
const cp = require('node:child_process');
const send = (msg, handle) => { if (process.connected) process.send(msg, handle); };
process.on('message', (m) => {
  let child;
  try {
    child = cp.spawn(m.cmd, m.args, { cwd: m.cwd, env: m.env, detached: true,
      stdio: [m.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  } catch (err) {
    send({ id: m.id, kind: 'error', message: err.message });
    return;
  }
  for (const pipe of [child.stdout, child.stderr]) if (pipe && pipe._handle) pipe._handle.readStop();
  child.once('error', (err) => send({ id: m.id, kind: 'error', message: err.message }));
  child.once('spawn', () => {
    send({ id: m.id, kind: 'spawn', pid: child.pid });
    send({ id: m.id, kind: 'stdout' }, child.stdout);
    send({ id: m.id, kind: 'stderr' }, child.stderr);
    if (child.stdin) send({ id: m.id, kind: 'stdin' }, child.stdin);
  });
  child.once('exit', (code, signal) => send({ id: m.id, kind: 'exit', code, signal }));
});
process.on('disconnect', () => process.exit(0));
`;

interface Pending {
  req: SpawnRequest;
  resolve: (p: SpawnedProcess) => void;
  reject: (err: Error) => void;
  pid?: number;
  stdin?: Socket;
  stdout?: Socket;
  stderr?: Socket;
  onExit?: (exit: SpawnExit) => void;
}

/**
 * Spawns through a small helper process, started on first use and again after it dies.
 * If it dies, the processes it started are killed (their exits can no longer be seen) and
 * reported as killed by SIGKILL, so their owner restarts them as after any other kill.
 */
export class HelperSpawner implements ProcessSpawner {
  private helper: ChildProcess | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closing = false;

  spawn(req: SpawnRequest): Promise<SpawnedProcess> {
    if (this.closing) return Promise.reject(new Error('the process spawner is closed'));
    const helper = this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { req, resolve, reject });
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
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    });
    helper.on('message', (m: HelperMessage, handle: unknown) =>
      this.onMessage(m, handle as Socket | undefined),
    );
    helper.once('exit', () => this.onHelperExit(helper));
    // The helper keeps its owner alive only while a spawn or an exit is awaited from it.
    helper.unref();
    this.helper = helper;
    return helper;
  }

  private onMessage(m: HelperMessage, handle: Socket | undefined): void {
    const p = this.pending.get(m.id);
    if (p === undefined) return;
    switch (m.kind) {
      case 'spawn':
        p.pid = m.pid;
        break;
      case 'stdin':
      case 'stdout':
      case 'stderr':
        if (handle !== undefined) p[m.kind] = handle;
        this.settle(p);
        break;
      case 'error':
        this.pending.delete(m.id);
        p.reject(new Error(m.message));
        break;
      case 'exit':
        this.pending.delete(m.id);
        p.onExit?.({ code: m.code, signal: m.signal });
        break;
    }
    this.updateRef();
  }

  private updateRef(): void {
    const channel = this.helper?.channel as { ref(): void; unref(): void } | null | undefined;
    if (this.pending.size > 0) channel?.ref();
    else channel?.unref();
  }

  /** Resolves the spawn once every pipe it asked for has arrived. */
  private settle(p: Pending): void {
    if (p.pid === undefined || p.stdout === undefined || p.stderr === undefined) return;
    if (p.req.stdin && p.stdin === undefined) return;
    if (p.onExit !== undefined) return;
    let exited = false;
    const exit = new Promise<SpawnExit>((resolve) => {
      p.onExit = (e) => {
        exited = true;
        resolve(e);
      };
    });
    const { stdout, stderr } = p;
    const closed = Promise.all([exit, streamClosed(stdout), streamClosed(stderr)]).then(([e]) => e);
    p.resolve({
      pid: p.pid,
      stdin: p.stdin ?? null,
      stdout,
      stderr,
      get exited() {
        return exited;
      },
      closed,
    });
  }

  private onHelperExit(helper: ChildProcess): void {
    if (this.helper === helper) this.helper = undefined;
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      if (p.onExit === undefined) {
        p.reject(new Error('the process spawner exited'));
        continue;
      }
      if (p.pid !== undefined) killGroup(p.pid);
      p.onExit({ code: null, signal: 'SIGKILL' });
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

function streamClosed(s: Readable): Promise<void> {
  return new Promise((resolve) => {
    if (s.destroyed) return resolve();
    s.once('close', () => resolve());
  });
}
