// Every change the pod network makes to a host goes through a child process (`ip`,
// `iptables-restore`, CNI plugins), optionally run inside a named network namespace with
// `ip netns exec`, so tests can play a whole node inside a namespace and production code is
// the same code with no namespace. One runner, injectable, so unit tests record commands
// instead of touching the kernel.

import { spawn } from 'node:child_process';

/** What a finished command left behind. */
export interface CommandResult {
  /** Exit code (-1 when the process could not be started or was killed by a signal). */
  code: number;
  stdout: string;
  stderr: string;
}

/** How to run one command. */
export interface CommandOptions {
  /** Run inside this named network namespace (`/run/netns/<name>`); the host's when absent. */
  netns?: string;
  /** Written to the command's stdin, then stdin is closed. */
  input?: string;
  /** Extra environment variables (added to the current environment). */
  env?: Record<string, string>;
  /** Kill the command after this long (default 30 s). */
  timeoutMs?: number;
}

/** Runs host commands; replaced by a recorder in unit tests. */
export type CommandRunner = (argv: readonly string[], opts?: CommandOptions) => Promise<CommandResult>;

/** The argv that runs `argv` inside `netns` (or `argv` itself on the host). */
export function inNetns(netns: string | undefined, argv: readonly string[]): string[] {
  return netns === undefined ? [...argv] : ['ip', 'netns', 'exec', netns, ...argv];
}

/** The default runner: spawns the process, collects output, never rejects on a non-zero exit. */
export const execCommand: CommandRunner = (argv, opts = {}) => {
  const full = inNetns(opts.netns, argv);
  const [file, ...args] = full;
  if (file === undefined) return Promise.reject(new Error('execCommand: empty argv'));
  return new Promise((resolve) => {
    const child = spawn(file, args, {
      env: opts.env === undefined ? process.env : { ...process.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: opts.timeoutMs ?? 30_000,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    // A plugin that exits before reading stdin makes the write fail with EPIPE; the exit
    // code and output still say what happened, so the write error itself is not the story.
    child.stdin.on('error', () => {});
    child.on('error', (e) => resolve({ code: -1, stdout: '', stderr: e.message }));
    child.on('close', (code) => {
      resolve({
        code: code ?? -1,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    child.stdin.end(opts.input ?? '');
  });
};

/** A host command that exited non-zero. */
export class HostCommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly result: CommandResult,
  ) {
    super(`${argv.join(' ')}: exit ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`);
    this.name = 'HostCommandError';
  }
}

/** Runs a command and throws `HostCommandError` unless it exits 0; returns stdout. */
export async function mustRun(
  run: CommandRunner,
  argv: readonly string[],
  opts?: CommandOptions,
): Promise<string> {
  const r = await run(argv, opts);
  if (r.code !== 0) throw new HostCommandError(inNetns(opts?.netns, argv), r);
  return r.stdout;
}
