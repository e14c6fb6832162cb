// Runs the real kubectl against a test server: a fresh HOME and KUBECACHEDIR per harness
// (kubectl caches discovery and picks its version from /version), asynchronous so an
// in-process server keeps serving while kubectl runs.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Result of one kubectl run. */
export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

// Homes not cleaned up by their test are removed when the test process exits.
const homes = new Set<string>();
process.once('exit', () => {
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

/** A kubectl bound to one kubeconfig with its own HOME and cache. */
export class Kubectl {
  readonly home: string;

  constructor(private readonly kubeconfig: string) {
    this.home = mkdtempSync(join(tmpdir(), 'kts-kubectl-'));
    homes.add(this.home);
  }

  /** Runs kubectl with args (and optional stdin); never throws on non-zero exit. */
  run(
    args: string[],
    opts: { stdin?: string; timeoutMs?: number; env?: Record<string, string> } = {},
  ): Promise<KubectlResult> {
    return new Promise((resolve, reject) => {
      const child = execFile(
        'kubectl',
        args,
        {
          env: {
            PATH: process.env.PATH ?? '/usr/bin:/bin',
            HOME: this.home,
            KUBECACHEDIR: join(this.home, 'cache'),
            KUBECONFIG: this.kubeconfig,
            ...opts.env,
          },
          timeout: opts.timeoutMs ?? 60_000,
          maxBuffer: 64 * 1024 * 1024,
        },
        (err, stdout, stderr) => {
          if (err && typeof (err as NodeJS.ErrnoException).code === 'string') {
            reject(err);
            return;
          }
          const code = err ? ((err as { code?: number }).code ?? 1) : 0;
          resolve({ code, stdout: String(stdout), stderr: String(stderr) });
        },
      );
      if (opts.stdin !== undefined) child.stdin?.end(opts.stdin);
      else child.stdin?.end();
    });
  }

  /** Runs kubectl and fails unless it exits 0 with nothing on stderr. */
  async ok(args: string[], opts: { stdin?: string } = {}): Promise<string> {
    const r = await this.run(args, opts);
    if (r.code !== 0 || r.stderr.trim() !== '') {
      throw new Error(`kubectl ${args.join(' ')} → exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    }
    return r.stdout;
  }

  /** Writes a manifest into this harness's temp dir and returns its path. */
  file(name: string, content: string): string {
    const p = join(this.home, name);
    writeFileSync(p, content);
    return p;
  }

  /** Removes the temp HOME. */
  cleanup(): void {
    rmSync(this.home, { recursive: true, force: true });
    homes.delete(this.home);
  }
}
