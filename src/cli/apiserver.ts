// `kts apiserver --data-dir DIR --https-port N [--datastore-endpoint URL]`: runs the API
// server alone until SIGINT/SIGTERM.
import { startApiServer } from '../apiserver/server.js';
import { startResourceMetrics } from '../metrics/index.js';
import type { Command } from './main.js';
import { FlagError, parseFlags } from './flags.js';

const USAGE = `Usage: kts apiserver --data-dir DIR [--https-port 6443] [--bind-address 0.0.0.0]
  [--datastore-endpoint memory:// | sqlite://PATH | etcd://HOST:PORT,...] [--advertise-address IP] [--tls-san NAME]...
  [--token-auth-file FILE]
`;

/** The apiserver command. */
export const apiserver: Command = async (args) => {
  let f: ReturnType<typeof parseFlags>;
  try {
    f = parseFlags(args, {
      'data-dir': 'string',
      'https-port': 'number',
      'bind-address': 'string',
      'datastore-endpoint': 'string',
      'advertise-address': 'string',
      'tls-san': 'list',
      'service-cluster-ip-range': 'string',
      'token-auth-file': 'string',
      help: 'boolean',
    });
  } catch (e) {
    if (e instanceof FlagError) {
      process.stderr.write(`kts apiserver: ${e.message}\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  if (f.values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const dataDir = f.values['data-dir'];
  if (typeof dataDir !== 'string') {
    process.stderr.write(`kts apiserver: --data-dir is required\n${USAGE}`);
    return 2;
  }
  const server = await startApiServer({
    dataDir,
    httpsPort: typeof f.values['https-port'] === 'number' ? f.values['https-port'] : 6443,
    ...(typeof f.values['bind-address'] === 'string' ? { bindAddress: f.values['bind-address'] } : {}),
    ...(typeof f.values['datastore-endpoint'] === 'string'
      ? { datastoreEndpoint: f.values['datastore-endpoint'] }
      : {}),
    ...(typeof f.values['advertise-address'] === 'string'
      ? { advertiseAddress: f.values['advertise-address'] }
      : {}),
    ...(Array.isArray(f.values['tls-san']) ? { tlsSans: f.values['tls-san'] } : {}),
    ...(typeof f.values['token-auth-file'] === 'string'
      ? { tokenAuthFile: f.values['token-auth-file'] }
      : {}),
    ...(typeof f.values['service-cluster-ip-range'] === 'string'
      ? { serviceCIDR: f.values['service-cluster-ip-range'] }
      : {}),
  });
  // metrics.k8s.io, as the metrics-server k3s bundles would serve it.
  const metrics = startResourceMetrics(server);
  process.stdout.write(`kts apiserver: serving on ${server.url}\nkubeconfig: ${server.kubeconfigPath}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await metrics.stop();
  await server.close();
  return 0;
};
