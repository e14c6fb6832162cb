// `kts controller-manager --kubeconfig K [--leader-elect] [--controllers '*,-foo']`: runs the
// controllers against an API server until SIGINT/SIGTERM (or, with leader election, until
// leadership is lost — exit code 1 then, as upstream exits so a supervisor restarts it).
import { loadKubeconfig } from '../client/kubeconfig.js';
import { stderrLogger } from '../client/log.js';
import { RestClient } from '../client/rest-client.js';
import { ControllerManager, unknownControllers } from '../controllers/manager.js';
import { controllerRegistry } from '../controllers/registry.js';
import { FlagError, parseFlags } from './flags.js';
import type { Command } from './main.js';

const USAGE = `Usage: kts controller-manager --kubeconfig FILE [--leader-elect] [--controllers '*,-name,...']
  [--leader-elect-lease-duration SECONDS] [--leader-elect-renew-deadline SECONDS] [--leader-elect-retry-period SECONDS]
  [--concurrent-syncs N] [--v N]
`;

/** The controller-manager command. */
export const controllerManager: Command = async (args) => {
  let f: ReturnType<typeof parseFlags>;
  try {
    f = parseFlags(args, {
      kubeconfig: 'string',
      'leader-elect': 'boolean',
      controllers: 'list',
      'leader-elect-lease-duration': 'number',
      'leader-elect-renew-deadline': 'number',
      'leader-elect-retry-period': 'number',
      'concurrent-syncs': 'number',
      v: 'number',
      help: 'boolean',
    });
  } catch (e) {
    if (e instanceof FlagError) {
      process.stderr.write(`kts controller-manager: ${e.message}\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  if (f.values.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  const kubeconfig = f.values.kubeconfig;
  if (typeof kubeconfig !== 'string') {
    process.stderr.write(`kts controller-manager: --kubeconfig is required\n${USAGE}`);
    return 2;
  }
  const controllers = Array.isArray(f.values.controllers) ? f.values.controllers : ['*'];
  const unknown = unknownControllers(controllerRegistry, controllers);
  if (unknown.length > 0) {
    process.stderr.write(`kts controller-manager: unknown controllers: ${unknown.join(', ')}\n`);
    return 2;
  }
  const seconds = (name: string): number | undefined => {
    const v = f.values[name];
    return typeof v === 'number' ? v * 1000 : undefined;
  };
  const log = stderrLogger('kube-controller-manager', typeof f.values.v === 'number' && f.values.v >= 4);
  const restConfig = loadKubeconfig(kubeconfig);
  const client = new RestClient({ ...restConfig, userAgent: 'kube-controller-manager/v1.32.0 (kts)' });
  const leaseDurationMs = seconds('leader-elect-lease-duration');
  const renewDeadlineMs = seconds('leader-elect-renew-deadline');
  const retryPeriodMs = seconds('leader-elect-retry-period');
  const manager = new ControllerManager({
    client,
    // The kubeconfig's CA is the cluster CA the root-ca-cert-publisher hands to every namespace.
    ...(restConfig.caData !== undefined ? { rootCA: restConfig.caData } : {}),
    registry: controllerRegistry,
    controllers,
    leaderElect: f.values['leader-elect'] === true,
    leaderElection: {
      ...(leaseDurationMs !== undefined ? { leaseDurationMs } : {}),
      ...(renewDeadlineMs !== undefined ? { renewDeadlineMs } : {}),
      ...(retryPeriodMs !== undefined ? { retryPeriodMs } : {}),
    },
    ...(typeof f.values['concurrent-syncs'] === 'number'
      ? { options: { workers: f.values['concurrent-syncs'] } }
      : {}),
    log,
  });
  const ac = new AbortController();
  const stop = (): void => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await manager.run(ac.signal);
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  client.close();
  if (!ac.signal.aborted) {
    log.error('leaderelection lost');
    return 1;
  }
  return 0;
};
