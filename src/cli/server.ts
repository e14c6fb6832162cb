// `kts server`: one command to a cluster on this machine. Today it runs the API server on
// its embedded defaults (sqlite in the data dir, port 6443); the controller manager,
// scheduler and node components join it as they land (see the README's status line).
import { accessSync, constants, mkdirSync } from 'node:fs';
import { startApiServer } from '../apiserver/server.js';
import { defaultDataDir } from './data-dir.js';
import { FlagError, parseFlags } from './flags.js';
import type { Command } from './main.js';

const USAGE = `Usage: kts server [--data-dir DIR] [--https-port 6443] [--bind-address 0.0.0.0]
  [--datastore-endpoint sqlite://PATH | etcd://HOST:PORT,... | memory://] [--advertise-address IP] [--tls-san NAME]...
`;

function fail(msg: string): number {
  process.stderr.write(`kts server: ${msg}\n`);
  return 1;
}

/** The server command. */
export const server: Command = async (args) => {
  let f: ReturnType<typeof parseFlags>;
  try {
    f = parseFlags(args, {
      'data-dir': 'string',
      'https-port': 'number',
      'bind-address': 'string',
      'datastore-endpoint': 'string',
      'advertise-address': 'string',
      'tls-san': 'list',
      help: 'boolean',
    });
  } catch (e) {
    if (e instanceof FlagError) {
      process.stderr.write(`kts server: ${e.message}\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  if (f.values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const dataDir = typeof f.values['data-dir'] === 'string' ? f.values['data-dir'] : defaultDataDir();
  const port = typeof f.values['https-port'] === 'number' ? f.values['https-port'] : 6443;
  try {
    mkdirSync(dataDir, { recursive: true });
    accessSync(dataDir, constants.W_OK);
  } catch (e) {
    return fail(
      `the data dir ${dataDir} is not writable (${(e as Error).message}); choose another with --data-dir`,
    );
  }
  const t0 = Date.now();
  process.stdout.write(`kts server: starting (data dir ${dataDir})\n`);
  let api: Awaited<ReturnType<typeof startApiServer>>;
  try {
    api = await startApiServer({
      dataDir,
      httpsPort: port,
      ...(typeof f.values['bind-address'] === 'string' ? { bindAddress: f.values['bind-address'] } : {}),
      ...(typeof f.values['datastore-endpoint'] === 'string'
        ? { datastoreEndpoint: f.values['datastore-endpoint'] }
        : {}),
      ...(typeof f.values['advertise-address'] === 'string'
        ? { advertiseAddress: f.values['advertise-address'] }
        : {}),
      ...(Array.isArray(f.values['tls-san']) ? { tlsSans: f.values['tls-san'] } : {}),
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EADDRINUSE')
      return fail(`port ${port} is already in use; stop what listens there or pass --https-port`);
    if (err.code === 'EACCES') return fail(`not allowed to listen on port ${port}: ${err.message}`);
    throw e;
  }
  process.stdout.write(`kts server: API server ready at ${api.url} (${Date.now() - t0} ms)\n`);
  process.stdout.write(
    `kts server: use it with: export KUBECONFIG=${api.kubeconfigPath}   (or: npx kts kubectl …)\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  process.stdout.write('kts server: shutting down\n');
  await api.close();
  return 0;
};
