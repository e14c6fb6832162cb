// A long-running kubectl (port-forward, logs -f, attach) as a child process of the test,
// with the same isolated HOME/KUBECACHEDIR as the test's `Kubectl`. Each child is added to
// the caller's set while it lives, so the test's after() can kill what is left by pid.

import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Kubectl } from './kubectl.js';

/** A running kubectl and what it has written so far. */
export interface KubectlChild {
  child: ChildProcess;
  /** Standard output so far. */
  out: () => string;
  /** Standard error so far. */
  err: () => string;
  /** Resolves with the exit code once the child exits. */
  exited: Promise<number | null>;
}

/** Starts `kubectl args` (plus `env`) against `kubeconfig`, tracking the child in `children` until it exits. */
export function startKubectl(
  kubectl: Kubectl,
  kubeconfig: string,
  args: string[],
  children: Set<ChildProcess>,
  env: Record<string, string> = {},
): KubectlChild {
  let out = '';
  let err = '';
  const child = spawn('kubectl', args, {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: kubectl.home,
      KUBECACHEDIR: join(kubectl.home, 'cache'),
      KUBECONFIG: kubeconfig,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      children.delete(child);
      resolve(code);
    }),
  );
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  return { child, out: () => out, err: () => err, exited };
}

/** Kills every child still in `children` by pid. */
export function killChildren(children: Set<ChildProcess>): void {
  for (const c of children) if (c.pid !== undefined) process.kill(c.pid, 'SIGKILL');
}
