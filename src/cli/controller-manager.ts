// `kts controller-manager --kubeconfig K [--leader-elect] [--controllers '*,-foo']`: runs the
// controllers against an API server until SIGINT/SIGTERM (or, with leader election, until
// leadership is lost — exit code 1 then, as upstream exits so a supervisor restarts it).
// With --use-service-account-credentials (as `kts server` runs it) each controller acts as
// its own kube-system ServiceAccount; the kubeconfig's identity then needs only the
// system:kube-controller-manager role.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadKubeconfig } from '../client/kubeconfig.js';
import { stderrLogger } from '../client/log.js';
import { ServiceAccountClientBuilder } from '../client/controller-client-builder.js';
import { RestClient } from '../client/rest-client.js';
import {
  CONTROLLER_MANAGER_CLIENT_LIMITS,
  ControllerManager,
  unknownControllers,
} from '../controllers/manager.js';
import { controllerRegistry } from '../controllers/registry.js';
import type { KeyPair } from '../pki/x509.js';
import { FlagError, parseFlags } from './flags.js';
import type { Command } from './main.js';

const USAGE = `Usage: kts controller-manager --kubeconfig FILE [--leader-elect] [--controllers '*,-name,...']
  [--leader-elect-lease-duration SECONDS] [--leader-elect-renew-deadline SECONDS] [--leader-elect-retry-period SECONDS]
  [--concurrent-syncs N] [--use-service-account-credentials] [--kube-api-qps N] [--kube-api-burst N] [--v N]
  [--cluster-signing-cert-file FILE --cluster-signing-key-file FILE]   CA (PEM) that csrsigning signs with
`;

// Both files or neither, as upstream requires for the default signer's pair.
function readClusterSigning(cert: unknown, key: unknown): KeyPair | undefined {
  const c = typeof cert === 'string' ? cert : undefined;
  const k = typeof key === 'string' ? key : undefined;
  if (c === undefined && k === undefined) return undefined;
  if (c === undefined || k === undefined)
    throw new Error('--cluster-signing-cert-file and --cluster-signing-key-file must be given together');
  const pair = { certPem: readFileSync(c, 'utf8'), keyPem: readFileSync(k, 'utf8') };
  // A mismatched pair would only show when the first CSR fails to sign; refuse it now.
  if (!new X509Certificate(pair.certPem).checkPrivateKey(createPrivateKey(pair.keyPem)))
    throw new Error(`${k} is not the private key of ${c}`);
  return pair;
}

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
      'use-service-account-credentials': 'boolean',
      'kube-api-qps': 'number',
      'kube-api-burst': 'number',
      'cluster-signing-cert-file': 'string',
      'cluster-signing-key-file': 'string',
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
  let clusterSigning: KeyPair | undefined;
  try {
    clusterSigning = readClusterSigning(
      f.values['cluster-signing-cert-file'],
      f.values['cluster-signing-key-file'],
    );
  } catch (e) {
    process.stderr.write(`kts controller-manager: ${(e as Error).message}\n`);
    return 2;
  }
  const seconds = (name: string): number | undefined => {
    const v = f.values[name];
    return typeof v === 'number' ? v * 1000 : undefined;
  };
  const log = stderrLogger('kube-controller-manager', typeof f.values.v === 'number' && f.values.v >= 4);
  const restConfig = loadKubeconfig(kubeconfig);
  const qps =
    typeof f.values['kube-api-qps'] === 'number'
      ? f.values['kube-api-qps']
      : CONTROLLER_MANAGER_CLIENT_LIMITS.qps;
  const burst =
    typeof f.values['kube-api-burst'] === 'number'
      ? f.values['kube-api-burst']
      : CONTROLLER_MANAGER_CLIENT_LIMITS.burst;
  const config = { ...restConfig, qps, burst, userAgent: 'kube-controller-manager/v1.32.0 (kts)' };
  const client = new RestClient(config);
  const builder =
    f.values['use-service-account-credentials'] === true
      ? new ServiceAccountClientBuilder({ client, config, log })
      : undefined;
  const leaseDurationMs = seconds('leader-elect-lease-duration');
  const renewDeadlineMs = seconds('leader-elect-renew-deadline');
  const retryPeriodMs = seconds('leader-elect-retry-period');
  const manager = new ControllerManager({
    client,
    ...(builder !== undefined ? { clientBuilder: builder } : {}),
    // The kubeconfig's CA is the cluster CA the root-ca-cert-publisher hands to every namespace.
    ...(restConfig.caData !== undefined ? { rootCA: restConfig.caData } : {}),
    ...(clusterSigning !== undefined ? { clusterSigning } : {}),
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
  builder?.close();
  client.close();
  if (!ac.signal.aborted) {
    log.error('leaderelection lost');
    return 1;
  }
  return 0;
};
