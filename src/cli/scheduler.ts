// `kts scheduler --kubeconfig K [--config FILE] [--leader-elect]`: runs the kube-scheduler
// against an API server until SIGINT/SIGTERM; exits non-zero when it loses its Lease, as
// upstream's scheduler does, so a supervisor restarts it as a standby.
import { stderrLogger } from '../client/log.js';
import { SchedulerConfigError } from '../scheduler/config.js';
import { LeaderElectionLostError, runScheduler } from '../scheduler/run.js';
import { FlagError, parseFlags } from './flags.js';
import type { Command } from './main.js';

const USAGE = `Usage: kts scheduler --kubeconfig FILE [--config FILE] [--leader-elect] [--kube-api-qps N]
  [--kube-api-burst N] [--v]
`;

/** The scheduler command. */
export const scheduler: Command = async (args) => {
  let f: ReturnType<typeof parseFlags>;
  try {
    f = parseFlags(args, {
      kubeconfig: 'string',
      config: 'string',
      'leader-elect': 'boolean',
      'kube-api-qps': 'number',
      'kube-api-burst': 'number',
      v: 'boolean',
      help: 'boolean',
    });
  } catch (e) {
    if (e instanceof FlagError) {
      process.stderr.write(`kts scheduler: ${e.message}\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  const v = f.values;
  if (v.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (typeof v.kubeconfig !== 'string' || f.positional.length > 0) {
    process.stderr.write(`kts scheduler: --kubeconfig is required\n${USAGE}`);
    return 2;
  }
  const ac = new AbortController();
  const stop = (): void => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await runScheduler({
      kubeconfig: v.kubeconfig,
      ...(typeof v.config === 'string' ? { configFile: v.config } : {}),
      ...(typeof v['leader-elect'] === 'boolean' ? { leaderElect: v['leader-elect'] } : {}),
      ...(typeof v['kube-api-qps'] === 'number' ? { qps: v['kube-api-qps'] } : {}),
      ...(typeof v['kube-api-burst'] === 'number' ? { burst: v['kube-api-burst'] } : {}),
      signal: ac.signal,
      logger: stderrLogger('scheduler', v.v === true),
      onReady: (s) =>
        process.stderr.write(`kts scheduler: scheduling (profiles: ${[...s.profiles.keys()].join(', ')})\n`),
    });
    return 0;
  } catch (e) {
    if (e instanceof SchedulerConfigError) {
      process.stderr.write(`kts scheduler: invalid configuration: ${e.message}\n`);
      return 1;
    }
    if (e instanceof LeaderElectionLostError) {
      process.stderr.write('kts scheduler: leaderelection lost\n');
      return 1;
    }
    throw e;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
};
