// ContainerRuntime over CRI v1 gRPC (containerd's CRI plugin, or any CRI runtime): each
// method is one RPC, converted with ./convert.ts; streaming calls ask the runtime for a
// URL and connect to it with ./streaming.ts.

import type {
  AuthConfig,
  Container,
  ContainerConfig,
  ContainerFilter,
  ContainerRuntime,
  ContainerStats,
  ContainerStatus,
  ExecSession,
  ExecSyncResult,
  Image,
  PodSandbox,
  PodSandboxConfig,
  PodSandboxFilter,
  PodSandboxStatus,
  PortForwarder,
  RuntimeVersion,
  StreamOptions,
} from '../runtime.js';
import { RuntimeError } from '../runtime.js';
import {
  containerConfigToCri,
  containerFilterToCri,
  containerFromCri,
  containerStatsFromCri,
  containerStatusFromCri,
  imageFromCri,
  sandboxConfigToCri,
  sandboxFilterToCri,
  sandboxFromCri,
  sandboxStatusFromCri,
} from './convert.js';
import { bytes, CriConnection, list, msg, num, str } from './grpc-client.js';
import { portForwardConnection, streamSession } from './streaming.js';

/** Options of a CRI runtime client. */
export interface CriRuntimeOptions {
  /** `unix:///run/containerd/containerd.sock` or a socket path. */
  endpoint: string;
  /** Deadline of ordinary RPCs (default 2 min, like the kubelet's runtime-request-timeout). */
  requestTimeoutMs?: number;
  /** Deadline of PullImage (default 10 min). */
  pullTimeoutMs?: number;
}

/** The CRI runtime: kts's kubelet talking CRI v1 to containerd. */
export class CriRuntime implements ContainerRuntime {
  readonly type = 'cri';
  private readonly conn: CriConnection;
  private readonly pullTimeoutMs: number;

  constructor(options: CriRuntimeOptions) {
    this.conn = new CriConnection(options.endpoint, options.requestTimeoutMs);
    this.pullTimeoutMs = options.pullTimeoutMs ?? 600_000;
  }

  async version(): Promise<RuntimeVersion> {
    const r = await this.conn.runtimeCall('Version', { version: 'v1' }, 10_000);
    return {
      version: str(r, 'version'),
      runtimeName: str(r, 'runtime_name'),
      runtimeVersion: str(r, 'runtime_version'),
      runtimeApiVersion: str(r, 'runtime_api_version'),
    };
  }

  /** Runtime conditions (RuntimeReady, NetworkReady) as the runtime reports them. */
  async status(): Promise<{ type: string; status: boolean; reason: string; message: string }[]> {
    const r = await this.conn.runtimeCall('Status', { verbose: false }, 10_000);
    return list(msg(r, 'status'), 'conditions').map((c) => ({
      type: str(c, 'type'),
      status: c.status === true,
      reason: str(c, 'reason'),
      message: str(c, 'message'),
    }));
  }

  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    const r = await this.conn.runtimeCall('RunPodSandbox', {
      config: sandboxConfigToCri(config),
      runtime_handler: config.runtimeHandler ?? '',
    });
    return str(r, 'pod_sandbox_id');
  }

  async stopPodSandbox(id: string): Promise<void> {
    await this.conn.runtimeCall('StopPodSandbox', { pod_sandbox_id: id });
  }

  async removePodSandbox(id: string): Promise<void> {
    await this.conn.runtimeCall('RemovePodSandbox', { pod_sandbox_id: id });
  }

  async podSandboxStatus(id: string): Promise<PodSandboxStatus> {
    const r = await this.conn.runtimeCall('PodSandboxStatus', { pod_sandbox_id: id, verbose: false });
    const s = msg(r, 'status');
    if (s === undefined) throw new RuntimeError('NotFound', `pod sandbox ${id} not found`);
    return sandboxStatusFromCri(s);
  }

  async listPodSandbox(filter?: PodSandboxFilter): Promise<PodSandbox[]> {
    const r = await this.conn.runtimeCall('ListPodSandbox', { filter: sandboxFilterToCri(filter) });
    return list(r, 'items').map(sandboxFromCri);
  }

  async createContainer(
    podSandboxId: string,
    config: ContainerConfig,
    sandboxConfig: PodSandboxConfig,
  ): Promise<string> {
    const r = await this.conn.runtimeCall('CreateContainer', {
      pod_sandbox_id: podSandboxId,
      config: containerConfigToCri(config),
      sandbox_config: sandboxConfigToCri(sandboxConfig),
    });
    return str(r, 'container_id');
  }

  async startContainer(id: string): Promise<void> {
    await this.conn.runtimeCall('StartContainer', { container_id: id });
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    // The RPC itself waits out the grace period, so its deadline must outlast it.
    await this.conn.runtimeCall(
      'StopContainer',
      { container_id: id, timeout: String(timeoutSeconds) },
      (timeoutSeconds + 60) * 1000,
    );
  }

  async removeContainer(id: string): Promise<void> {
    await this.conn.runtimeCall('RemoveContainer', { container_id: id });
  }

  async containerStatus(id: string): Promise<ContainerStatus> {
    const r = await this.conn.runtimeCall('ContainerStatus', { container_id: id, verbose: false });
    const s = msg(r, 'status');
    if (s === undefined) throw new RuntimeError('NotFound', `container ${id} not found`);
    return containerStatusFromCri(s);
  }

  async listContainers(filter?: ContainerFilter): Promise<Container[]> {
    const r = await this.conn.runtimeCall('ListContainers', { filter: containerFilterToCri(filter) });
    return list(r, 'containers').map(containerFromCri);
  }

  async execSync(id: string, cmd: string[], timeoutSeconds: number): Promise<ExecSyncResult> {
    const deadlineMs = timeoutSeconds > 0 ? (timeoutSeconds + 10) * 1000 : 24 * 3600 * 1000;
    const r = await this.conn.runtimeCall(
      'ExecSync',
      { container_id: id, cmd, timeout: String(timeoutSeconds) },
      deadlineMs,
    );
    return { stdout: bytes(r, 'stdout'), stderr: bytes(r, 'stderr'), exitCode: num(r, 'exit_code') };
  }

  async exec(id: string, cmd: string[], options: StreamOptions): Promise<ExecSession> {
    const r = await this.conn.runtimeCall('Exec', {
      container_id: id,
      cmd,
      tty: options.tty,
      stdin: options.stdin,
      stdout: options.stdout,
      stderr: options.stderr && !options.tty,
    });
    return streamSession(str(r, 'url'), options);
  }

  async attach(id: string, options: StreamOptions): Promise<ExecSession> {
    const r = await this.conn.runtimeCall('Attach', {
      container_id: id,
      tty: options.tty,
      stdin: options.stdin,
      stdout: options.stdout,
      stderr: options.stderr && !options.tty,
    });
    return streamSession(str(r, 'url'), options);
  }

  async portForward(podSandboxId: string): Promise<PortForwarder> {
    // Check the sandbox exists now, so a bad id fails here rather than on first connect.
    await this.podSandboxStatus(podSandboxId);
    return {
      connect: async (port: number) => {
        // Each URL carries a single-use token, so every connection asks for a fresh one.
        const r = await this.conn.runtimeCall('PortForward', { pod_sandbox_id: podSandboxId, port: [port] });
        return portForwardConnection(str(r, 'url'), port);
      },
      close: () => {},
    };
  }

  async containerStats(id: string): Promise<ContainerStats> {
    const r = await this.conn.runtimeCall('ContainerStats', { container_id: id });
    const s = msg(r, 'stats');
    if (s === undefined) throw new RuntimeError('NotFound', `stats of container ${id} not found`);
    return containerStatsFromCri(s);
  }

  async pullImage(image: string, auth?: AuthConfig, sandboxConfig?: PodSandboxConfig): Promise<string> {
    const r = await this.conn.imageCall(
      'PullImage',
      {
        image: { image },
        auth:
          auth === undefined
            ? undefined
            : {
                username: auth.username ?? '',
                password: auth.password ?? '',
                auth: auth.auth ?? '',
                server_address: auth.serverAddress ?? '',
                identity_token: auth.identityToken ?? '',
                registry_token: auth.registryToken ?? '',
              },
        sandbox_config: sandboxConfig === undefined ? undefined : sandboxConfigToCri(sandboxConfig),
      },
      this.pullTimeoutMs,
    );
    return str(r, 'image_ref');
  }

  async imageStatus(image: string): Promise<Image | null> {
    const r = await this.conn.imageCall('ImageStatus', { image: { image }, verbose: false });
    const i = msg(r, 'image');
    return i === undefined || str(i, 'id') === '' ? null : imageFromCri(i);
  }

  async listImages(): Promise<Image[]> {
    const r = await this.conn.imageCall('ListImages', {});
    return list(r, 'images').map(imageFromCri);
  }

  async removeImage(image: string): Promise<void> {
    await this.conn.imageCall('RemoveImage', { image: { image } });
  }

  async close(): Promise<void> {
    this.conn.close();
  }
}
