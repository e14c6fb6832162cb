// `kts image import [--data-dir DIR] [--container-runtime-endpoint unix:///SOCK] FILE.tar...`:
// loads docker-archive or OCI image tarballs into the node's containerd (namespace k8s.io),
// so pods can use images on machines that cannot reach a registry. When the node's own
// containerd is not running, the tarballs are queued in the data dir for the kubelet to
// import at start.

import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  containerdPaths,
  nodeContainerdRoot,
  nodeImagesDir,
  socketServing,
} from '../kubelet/runtime/containerd-daemon.js';
import { importImageArchive, socketPath } from '../kubelet/runtime/images/import.js';
import { defaultDataDir } from './data-dir.js';
import { FlagError, parseFlags } from './flags.js';
import type { Command } from './main.js';

const USAGE = `Usage: kts image import [--data-dir DIR] [--container-runtime-endpoint unix:///PATH] FILE.tar...
  Imports docker-archive or OCI image tarballs into the node's containerd (namespace k8s.io).
`;

async function importCommand(args: string[]): Promise<number> {
  let f: ReturnType<typeof parseFlags>;
  try {
    f = parseFlags(args, { 'data-dir': 'string', 'container-runtime-endpoint': 'string', help: 'boolean' });
  } catch (e) {
    if (e instanceof FlagError) {
      process.stderr.write(`kts image import: ${e.message}\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  if (f.values.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (f.positional.length === 0) {
    process.stderr.write(`kts image import: no image tarball given\n${USAGE}`);
    return 2;
  }
  for (const file of f.positional) {
    if (!existsSync(file)) {
      process.stderr.write(`kts image import: ${file}: no such file\n`);
      return 1;
    }
  }
  const dataDir = typeof f.values['data-dir'] === 'string' ? f.values['data-dir'] : defaultDataDir();
  const endpoint = f.values['container-runtime-endpoint'];
  const socket =
    typeof endpoint === 'string' ? socketPath(endpoint) : containerdPaths(nodeContainerdRoot(dataDir)).socket;
  if (!(await socketServing(socket))) {
    if (typeof endpoint === 'string') {
      process.stderr.write(`kts image import: no container runtime is serving ${socket}\n`);
      return 1;
    }
    const queue = nodeImagesDir(dataDir);
    mkdirSync(queue, { recursive: true });
    for (const file of f.positional) copyFileSync(file, join(queue, basename(file)));
    process.stdout.write(
      `containerd of this node is not running; queued ${f.positional.length} tarball(s) in ${queue} for the kubelet to import at start\n`,
    );
    return 0;
  }
  for (const file of f.positional) {
    try {
      const names = await importImageArchive(file, { socket });
      process.stdout.write(
        `imported ${file}: ${names.length > 0 ? names.join(', ') : '(no named images)'}\n`,
      );
    } catch (e) {
      process.stderr.write(`kts image import: ${e instanceof Error ? e.message : String(e)}\n`);
      return 1;
    }
  }
  return 0;
}

/** The `image` command (subcommands: import). */
export const image: Command = async (args) => {
  const [sub, ...rest] = args;
  if (sub === 'import') return importCommand(rest);
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(USAGE);
    return sub === undefined ? 2 : 0;
  }
  process.stderr.write(`kts image: unknown subcommand "${sub}"\n${USAGE}`);
  return 2;
};
