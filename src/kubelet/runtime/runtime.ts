// The container runtime interface the kubelet drives pods through. It mirrors CRI v1
// (`runtime.v1.RuntimeService` + `ImageService`): the same verbs, the same names, plain
// TypeScript types instead of generated protobuf classes. Timestamps are nanoseconds since
// the epoch as bigint, exactly as CRI carries them, so nothing is lost converting.
//
// Streaming (exec/attach/port-forward) is the one place that departs from CRI: CRI returns
// a URL of the runtime's own streaming server, which only a component that speaks its wire
// protocols can use. Here every runtime hands back live streams instead (`ExecSession`,
// `PortForwarder`), so the kubelet's streaming server serves both runtimes the same way.

import type { Duplex, Readable, Writable } from 'node:stream';

/** Identity of a pod sandbox (CRI `PodSandboxMetadata`). */
export interface PodSandboxMetadata {
  name: string;
  uid: string;
  namespace: string;
  attempt: number;
}

/** CRI `NamespaceMode`. */
export type NamespaceMode = 'POD' | 'CONTAINER' | 'NODE' | 'TARGET';

/** CRI `NamespaceOption`. */
export interface NamespaceOption {
  network?: NamespaceMode;
  pid?: NamespaceMode;
  ipc?: NamespaceMode;
  targetId?: string;
}

/** CRI `PortMapping`. */
export interface PortMapping {
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  containerPort: number;
  hostPort?: number;
  hostIp?: string;
}

/** CRI `DNSConfig`. */
export interface DnsConfig {
  servers: string[];
  searches: string[];
  options: string[];
}

/** CRI `LinuxContainerResources` (the subset kts sets). */
export interface LinuxResources {
  cpuPeriod?: number;
  cpuQuota?: number;
  cpuShares?: number;
  memoryLimitInBytes?: number;
  oomScoreAdj?: number;
  cpusetCpus?: string;
  unified?: Record<string, string>;
}

/** CRI `PodSandboxConfig`. */
export interface PodSandboxConfig {
  metadata: PodSandboxMetadata;
  hostname?: string;
  /** Absolute directory of the pod's container logs (`/var/log/pods/<ns>_<name>_<uid>`). */
  logDirectory: string;
  dnsConfig?: DnsConfig;
  portMappings?: PortMapping[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  linux?: {
    cgroupParent?: string;
    namespaceOptions?: NamespaceOption;
    privileged?: boolean;
    sysctls?: Record<string, string>;
    runAsUser?: number;
    runAsGroup?: number;
    supplementalGroups?: number[];
    resources?: LinuxResources;
  };
  /** Runtime handler (RuntimeClass); empty means the default. */
  runtimeHandler?: string;
}

/** CRI `PodSandboxState`. */
export type PodSandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';

/** CRI `PodSandbox` (list item). */
export interface PodSandbox {
  id: string;
  metadata: PodSandboxMetadata;
  state: PodSandboxState;
  createdAt: bigint;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  runtimeHandler: string;
}

/** CRI `PodSandboxStatus`. */
export interface PodSandboxStatus extends PodSandbox {
  /** Primary pod IP ('' when the pod uses the node's network). */
  ip: string;
  additionalIps: string[];
  namespaceOptions?: NamespaceOption;
}

/** CRI `PodSandboxFilter`. */
export interface PodSandboxFilter {
  id?: string;
  state?: PodSandboxState;
  labelSelector?: Record<string, string>;
}

/** CRI `Mount`. */
export interface Mount {
  containerPath: string;
  hostPath: string;
  readonly?: boolean;
  propagation?: 'PROPAGATION_PRIVATE' | 'PROPAGATION_HOST_TO_CONTAINER' | 'PROPAGATION_BIDIRECTIONAL';
}

/** CRI `Device`. */
export interface Device {
  containerPath: string;
  hostPath: string;
  permissions: string;
}

/** CRI `ContainerMetadata`. */
export interface ContainerMetadata {
  name: string;
  attempt: number;
}

/** CRI `ContainerConfig`. */
export interface ContainerConfig {
  metadata: ContainerMetadata;
  /** Image reference or ID (`ImageSpec.image`). */
  image: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  envs?: { key: string; value: string }[];
  mounts?: Mount[];
  devices?: Device[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Relative to the sandbox's `logDirectory`: `<container>/<attempt>.log`. */
  logPath: string;
  stdin?: boolean;
  stdinOnce?: boolean;
  tty?: boolean;
  linux?: {
    resources?: LinuxResources;
    privileged?: boolean;
    runAsUser?: number;
    runAsGroup?: number;
    runAsUsername?: string;
    readonlyRootfs?: boolean;
    supplementalGroups?: number[];
    capabilities?: { add?: string[]; drop?: string[] };
    namespaceOptions?: NamespaceOption;
    noNewPrivs?: boolean;
  };
}

/** CRI `ContainerState`. */
export type ContainerState =
  | 'CONTAINER_CREATED'
  | 'CONTAINER_RUNNING'
  | 'CONTAINER_EXITED'
  | 'CONTAINER_UNKNOWN';

/** CRI `Container` (list item). */
export interface Container {
  id: string;
  podSandboxId: string;
  metadata: ContainerMetadata;
  image: string;
  imageRef: string;
  state: ContainerState;
  createdAt: bigint;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** CRI `ContainerStatus`. */
export interface ContainerStatus {
  id: string;
  metadata: ContainerMetadata;
  state: ContainerState;
  createdAt: bigint;
  /** 0n when not started. */
  startedAt: bigint;
  /** 0n when not finished. */
  finishedAt: bigint;
  exitCode: number;
  image: string;
  imageRef: string;
  /** CamelCase reason: `Completed`, `Error`, `OOMKilled`, `ContainerCannotRun`… ('' if none). */
  reason: string;
  message: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  mounts: Mount[];
  /** Absolute path of the container's CRI-format log file. */
  logPath: string;
}

/** CRI `ContainerFilter`. */
export interface ContainerFilter {
  id?: string;
  state?: ContainerState;
  podSandboxId?: string;
  labelSelector?: Record<string, string>;
}

/** Result of `execSync`. */
export interface ExecSyncResult {
  stdout: Buffer;
  stderr: Buffer;
  exitCode: number;
}

/** Options of a streaming exec or attach. */
export interface StreamOptions {
  stdin: boolean;
  stdout: boolean;
  /** Must be false with `tty` (the terminal merges both streams into stdout). */
  stderr: boolean;
  tty: boolean;
}

/** Terminal size (columns × rows). */
export interface TerminalSize {
  width: number;
  height: number;
}

/** A live exec/attach: the process's streams, terminal resizing, and its end. */
export interface ExecSession {
  /** Null when stdin was not requested. Ending it closes the process's stdin. */
  stdin: Writable | null;
  /** Null when stdout was not requested. */
  stdout: Readable | null;
  /** Null when stderr was not requested or with a TTY. */
  stderr: Readable | null;
  resize(size: TerminalSize): void;
  /** Exit code of the exec'd process (for attach: resolves 0 when detached or the container ends). */
  exit: Promise<number>;
  /** Abandons the session (kills an exec'd process; detaches an attach). */
  close(): void;
}

/** Port forwarding into a sandbox's network namespace. */
export interface PortForwarder {
  /** A byte stream connected to `port` on the pod's loopback. */
  connect(port: number): Promise<Duplex>;
  close(): void;
}

/** CRI `AuthConfig`. */
export interface AuthConfig {
  username?: string;
  password?: string;
  auth?: string;
  serverAddress?: string;
  identityToken?: string;
  registryToken?: string;
}

/** CRI `Image`. */
export interface Image {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  size: number;
  uid?: number;
  username: string;
  pinned: boolean;
}

/** CRI `ContainerStats` flattened to the numbers the kubelet's summary API uses. */
export interface ContainerStats {
  id: string;
  name: string;
  /** Nanoseconds since the epoch when sampled. */
  timestamp: bigint;
  cpuUsageCoreNanoSeconds?: bigint;
  cpuUsageNanoCores?: bigint;
  memoryWorkingSetBytes?: bigint;
  memoryUsageBytes?: bigint;
  memoryRssBytes?: bigint;
  writableLayerUsedBytes?: bigint;
}

/** CRI `VersionResponse`. */
export interface RuntimeVersion {
  version: string;
  runtimeName: string;
  runtimeVersion: string;
  runtimeApiVersion: string;
}

/** Failure categories, so callers branch on a code and never on a message. */
export type RuntimeErrorCode =
  | 'NotFound'
  | 'AlreadyExists'
  | 'InvalidArgument'
  | 'Unavailable'
  | 'DeadlineExceeded'
  | 'Internal';

/** The one error type runtimes throw. */
export class RuntimeError extends Error {
  override readonly name = 'RuntimeError';
  /**
   * `code` and `message`; `rpcText` is the failure as upstream's kubelet prints a CRI error
   * (`rpc error: code = NotFound desc = …`), for messages it shows verbatim (image pulls).
   */
  constructor(
    readonly code: RuntimeErrorCode,
    message: string,
    readonly rpcText?: string,
  ) {
    super(message);
  }
}

/** True when `err` is a RuntimeError saying the object does not exist. */
export function isRuntimeNotFound(err: unknown): boolean {
  return err instanceof RuntimeError && err.code === 'NotFound';
}

/** The runtime service (pods and containers) of the CRI-shaped interface. */
export interface RuntimeService {
  version(): Promise<RuntimeVersion>;
  runPodSandbox(config: PodSandboxConfig): Promise<string>;
  /** Idempotent: stopping a stopped or missing sandbox succeeds. */
  stopPodSandbox(id: string): Promise<void>;
  /** Idempotent; running containers are forcibly removed too. */
  removePodSandbox(id: string): Promise<void>;
  podSandboxStatus(id: string): Promise<PodSandboxStatus>;
  listPodSandbox(filter?: PodSandboxFilter): Promise<PodSandbox[]>;
  createContainer(
    podSandboxId: string,
    config: ContainerConfig,
    sandboxConfig: PodSandboxConfig,
  ): Promise<string>;
  startContainer(id: string): Promise<void>;
  /** SIGTERM (or the image's stop signal), SIGKILL after `timeoutSeconds`; idempotent. */
  stopContainer(id: string, timeoutSeconds: number): Promise<void>;
  /** Idempotent; a running container is killed first. */
  removeContainer(id: string): Promise<void>;
  containerStatus(id: string): Promise<ContainerStatus>;
  listContainers(filter?: ContainerFilter): Promise<Container[]>;
  /** Runs `cmd` in the container; `timeoutSeconds` 0 means no timeout. */
  execSync(id: string, cmd: string[], timeoutSeconds: number): Promise<ExecSyncResult>;
  exec(id: string, cmd: string[], options: StreamOptions): Promise<ExecSession>;
  attach(id: string, options: StreamOptions): Promise<ExecSession>;
  portForward(podSandboxId: string): Promise<PortForwarder>;
  containerStats(id: string): Promise<ContainerStats>;
}

/** The image service of the CRI-shaped interface. */
export interface ImageService {
  /** Pulls `image` and resolves to its image reference (the image ID). */
  pullImage(image: string, auth?: AuthConfig, sandboxConfig?: PodSandboxConfig): Promise<string>;
  /** Null when the image is not present. */
  imageStatus(image: string): Promise<Image | null>;
  listImages(): Promise<Image[]>;
  /** Idempotent. */
  removeImage(image: string): Promise<void>;
}

/** A complete container runtime as the kubelet sees it. */
export interface ContainerRuntime extends RuntimeService, ImageService {
  /** `cri` or `process`: what the kubelet reports and how container IDs are prefixed. */
  readonly type: string;
  /** Releases connections and child processes the runtime object itself owns. */
  close(): Promise<void>;
}

/** Directory of a pod's container logs under `root` (upstream: `/var/log/pods`). */
export function podLogDirectory(root: string, namespace: string, name: string, uid: string): string {
  return `${root.replace(/\/+$/, '')}/${namespace}_${name}_${uid}`;
}

/** A container's log file path relative to its pod's log directory: `<name>/<restart>.log`. */
export function containerLogPath(containerName: string, restartCount: number): string {
  return `${containerName}/${restartCount}.log`;
}

/** Nanoseconds since the epoch now. */
export function nowNanos(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}
