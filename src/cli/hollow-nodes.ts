// `kts hollow-nodes --kubeconfig K --count N [...]`: registers N simulated nodes and runs
// them until SIGINT/SIGTERM (kubemark's hollow-node, many nodes in one process).
import { stderrLogger } from '../client/log.js';
import { startHollowNodes } from '../hollow/hollow-nodes.js';
import { FlagError, parseFlags } from './flags.js';
import type { Command } from './main.js';

const USAGE = `Usage: kts hollow-nodes --kubeconfig FILE --count N [--name-prefix hollow-node]
  [--cpu 4] [--memory 16Gi] [--pods 110] [--zones 3] [--job-completion-delay-ms 1000]
  [--deletion-delay-ms 1000] [--lease-renew-interval-ms 10000] [--node-status-interval-ms 60000]
  [--delete-nodes-on-exit] [--v]
`;

/** The hollow-nodes command: runs until SIGINT or SIGTERM. */
export const hollowNodes: Command = (args) =>
  runHollowNodes(
    args,
    new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    }),
  );

/** The command with an explicit stop condition (tests stop it without signals). */
export async function runHollowNodes(args: string[], stop: Promise<void>): Promise<number> {
  let f: ReturnType<typeof parseFlags>;
  try {
    f = parseFlags(args, {
      kubeconfig: 'string',
      count: 'number',
      'name-prefix': 'string',
      cpu: 'string',
      memory: 'string',
      pods: 'number',
      zones: 'number',
      'job-completion-delay-ms': 'number',
      'deletion-delay-ms': 'number',
      'lease-renew-interval-ms': 'number',
      'node-status-interval-ms': 'number',
      'delete-nodes-on-exit': 'boolean',
      v: 'boolean',
      help: 'boolean',
    });
  } catch (e) {
    if (e instanceof FlagError) {
      process.stderr.write(`kts hollow-nodes: ${e.message}\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  const v = f.values;
  if (v.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  const kubeconfig = v.kubeconfig;
  const count = v.count;
  if (typeof kubeconfig !== 'string' || typeof count !== 'number' || !Number.isInteger(count) || count < 0) {
    process.stderr.write(
      `kts hollow-nodes: --kubeconfig and a non-negative integer --count are required\n${USAGE}`,
    );
    return 2;
  }
  const num = (name: string): number | undefined =>
    typeof v[name] === 'number' ? (v[name] as number) : undefined;
  const str = (name: string): string | undefined =>
    typeof v[name] === 'string' ? (v[name] as string) : undefined;
  const optional = {
    namePrefix: str('name-prefix'),
    cpu: str('cpu'),
    memory: str('memory'),
    pods: num('pods'),
    zones: num('zones'),
    jobCompletionDelayMs: num('job-completion-delay-ms'),
    deletionDelayMs: num('deletion-delay-ms'),
    leaseRenewIntervalMs: num('lease-renew-interval-ms'),
    nodeStatusIntervalMs: num('node-status-interval-ms'),
  };
  const defined = Object.fromEntries(Object.entries(optional).filter(([, x]) => x !== undefined));
  const hollow = await startHollowNodes({
    kubeconfig,
    count,
    ...defined,
    deleteNodesOnClose: v['delete-nodes-on-exit'] === true,
    logger: stderrLogger('hollow-nodes', v.v === true),
  });
  const s = hollow.stats();
  process.stdout.write(`kts hollow-nodes: ${hollow.nodes.length} nodes registered in ${s.registerMs} ms\n`);
  await stop;
  await hollow.close();
  return 0;
}
