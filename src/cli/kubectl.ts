// `kts kubectl …`: runs the system's kubectl with the cluster's admin kubeconfig.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { defaultDataDir } from './data-dir.js';
import type { Command } from './main.js';

/** The kubectl command. */
export const kubectl: Command = async (args) => {
  let dataDir = defaultDataDir();
  let rest = args;
  if (args[0] === '--data-dir' && args[1] !== undefined) {
    dataDir = args[1];
    rest = args.slice(2);
  }
  const kubeconfig = join(dataDir, 'kubeconfig.yaml');
  if (!existsSync(kubeconfig)) {
    process.stderr.write(
      `kts kubectl: no kubeconfig at ${kubeconfig}; start a cluster with \`kts server\` first (or pass --data-dir DIR)\n`,
    );
    return 1;
  }
  return new Promise<number>((resolve) => {
    const child = spawn('kubectl', rest, {
      stdio: 'inherit',
      env: { ...process.env, KUBECONFIG: kubeconfig },
    });
    child.on('error', (e) => {
      process.stderr.write(`kts kubectl: cannot run kubectl: ${e.message}\n`);
      resolve(127);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
};
