// The contract between the controller manager and its controllers. Every controller is a
// client of the API only (informers from the shared factory, writes through the client),
// level-based and idempotent; the manager builds them from a ControllerContext, starts the
// shared informers once all are registered, and runs them until the signal aborts.
import type { SharedInformerFactory } from '../client/cache/informer-factory.js';
import type { Clock } from '../client/clock.js';
import type { EventRecorder } from '../client/events.js';
import type { Client } from '../client/interface.js';
import type { Logger } from '../client/log.js';
import type { KeyPair } from '../pki/x509.js';

/** Settings shared by controllers (upstream kube-controller-manager flags). */
export interface ControllerOptions {
  /** Cluster pod CIDR for node IPAM (default 10.42.0.0/16) and per-node mask (24). */
  clusterCIDR: string;
  nodeCIDRMaskSize: number;
  /** Node lifecycle: how long a node may go without renewing its Lease (default 40 s). */
  nodeMonitorGracePeriodMs: number;
  /**
   * Node lifecycle: how long a node that never posted a Ready condition may take to post one
   * (upstream --node-startup-grace-period, default 60 s).
   */
  nodeStartupGracePeriodMs: number;
  /** Workers per controller (upstream's --concurrent-*-syncs, default 5). */
  workers: number;
  /** PodGC: terminated pods kept before deletion starts (upstream 12500). */
  terminatedPodGCThreshold: number;
  /** HPA: how often each autoscaler is reconciled (--horizontal-pod-autoscaler-sync-period, 15 s). */
  horizontalPodAutoscalerSyncPeriodMs: number;
  /** HPA: scale-down window without `behavior` (--horizontal-pod-autoscaler-downscale-stabilization, 5 min). */
  horizontalPodAutoscalerDownscaleStabilizationMs: number;
  /** HPA: usage ratios this close to 1 change nothing (--horizontal-pod-autoscaler-tolerance, 0.1). */
  horizontalPodAutoscalerTolerance: number;
  /** HPA: --horizontal-pod-autoscaler-cpu-initialization-period (5 min). */
  horizontalPodAutoscalerCpuInitializationPeriodMs: number;
  /** HPA: --horizontal-pod-autoscaler-initial-readiness-delay (30 s). */
  horizontalPodAutoscalerInitialReadinessDelayMs: number;
  /**
   * Local-path provisioner: the directory on every node under which its volumes are created
   * (`kts server` passes `<data dir>/storage`; default /var/lib/kts/storage, as k3s's
   * /var/lib/rancher/k3s/storage).
   */
  localPathDir: string;
}

/** What every controller is built from. */
export interface ControllerContext {
  client: Client;
  informers: SharedInformerFactory;
  /**
   * Metadata-only views (PartialObjectMetadata) for controllers that follow only metadata of
   * many resources (the garbage collector): the client under this controller's identity and a
   * shared informer factory on the manager's. Absent in tests that build contexts by hand.
   */
  metadataClient?: Client;
  metadataInformers?: SharedInformerFactory;
  /** Recorder whose events name this controller as their source. */
  recorder(component: string): EventRecorder;
  clock: Clock;
  log: Logger;
  options: ControllerOptions;
  /** PEM of the cluster CA, published as `kube-root-ca.crt` in every namespace. */
  rootCA?: string;
  /**
   * The CA csrsigning signs kubernetes.io/* CSRs with (upstream's
   * --cluster-signing-cert-file/--cluster-signing-key-file); without it csrsigning idles.
   */
  clusterSigning?: KeyPair;
}

/** A running controller. `run` resolves after the signal aborts and its workers stopped. */
export interface Controller {
  /** Upstream's controller name (`replicaset`, `deployment`, `garbage-collector`, …). */
  readonly name: string;
  /** Registers informer handlers; called before the shared informers start. */
  run(signal: AbortSignal): Promise<void>;
}

/** Builds a controller; the manager calls each factory once. */
export type ControllerFactory = (ctx: ControllerContext) => Controller;

/** Default options. */
export const DEFAULT_CONTROLLER_OPTIONS: ControllerOptions = {
  clusterCIDR: '10.42.0.0/16',
  nodeCIDRMaskSize: 24,
  nodeMonitorGracePeriodMs: 40_000,
  nodeStartupGracePeriodMs: 60_000,
  workers: 5,
  terminatedPodGCThreshold: 12500,
  horizontalPodAutoscalerSyncPeriodMs: 15_000,
  horizontalPodAutoscalerDownscaleStabilizationMs: 5 * 60_000,
  horizontalPodAutoscalerTolerance: 0.1,
  horizontalPodAutoscalerCpuInitializationPeriodMs: 5 * 60_000,
  horizontalPodAutoscalerInitialReadinessDelayMs: 30_000,
  localPathDir: '/var/lib/kts/storage',
};
