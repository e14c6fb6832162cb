// `kts <command>`: the one command-line entry point. Each command lives in its own module
// and is loaded only when run, so `kts --help` and small commands start fast.

import { stopWithNpmLauncher } from './launcher-watch.js';

/** A CLI command: parses its own arguments and resolves to a process exit code. */
export type Command = (args: string[]) => Promise<number>;

interface CommandEntry {
  summary: string;
  load?: () => Promise<Command>;
}

const commands: Record<string, CommandEntry> = {
  server: {
    summary: 'run a whole cluster (API server, controllers, scheduler, node) in one process',
    load: async () => (await import('./server.js')).server,
  },
  agent: {
    summary: 'join this machine to a cluster as a node',
    load: async () => (await import('./agent.js')).agent,
  },
  apiserver: {
    summary: 'run the Kubernetes API server',
    load: async () => (await import('./apiserver.js')).apiserver,
  },
  'controller-manager': {
    summary: 'run the controllers',
    load: async () => (await import('./controller-manager.js')).controllerManager,
  },
  scheduler: { summary: 'run the scheduler', load: async () => (await import('./scheduler.js')).scheduler },
  kubelet: { summary: 'run the node agent', load: async () => (await import('./kubelet.js')).kubelet },
  proxy: { summary: 'run the service proxy', load: async () => (await import('./proxy.js')).proxy },
  'hollow-nodes': {
    summary: 'register simulated nodes for scale tests',
    load: async () => (await import('./hollow-nodes.js')).hollowNodes,
  },
  image: {
    summary: 'manage node images (`kts image import FILE.tar`)',
    load: async () => (await import('./image.js')).image,
  },
  kubectl: {
    summary: 'run kubectl against this cluster',
    load: async () => (await import('./kubectl.js')).kubectl,
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `Usage: kts <command> [flags]\n\nCommands:\n${lines.join('\n')}\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const entry = commands[name];
  if (entry === undefined) {
    process.stderr.write(`kts: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  if (entry.load === undefined) {
    process.stderr.write(`kts: "${name}" is not available yet in this build of kts\n`);
    return 3;
  }
  const run = await entry.load();
  stopWithNpmLauncher();
  return run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    // Commands return once their work (or orderly shutdown) is done; leftover handles such
    // as keep-alive sockets of clients must not keep the process around.
    process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`kts: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
