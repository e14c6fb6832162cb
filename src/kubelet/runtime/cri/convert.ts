// Mapping between kts's plain runtime types and CRI v1 protobuf messages (proto-loader
// objects with the proto's snake_case field names). Zero values are left out on the way in
// because proto3 cannot tell them from "unset" anyway.

import type {
  Container,
  ContainerConfig,
  ContainerFilter,
  ContainerStats,
  ContainerStatus,
  Image,
  LinuxResources,
  Mount,
  NamespaceOption,
  PodSandbox,
  PodSandboxConfig,
  PodSandboxFilter,
  PodSandboxStatus,
} from '../runtime.js';
import { big, list, type Message, msg, num, str, stringMap, strings } from './grpc-client.js';

function namespaceOptionToCri(n: NamespaceOption | undefined): Message | undefined {
  if (n === undefined) return undefined;
  return {
    network: n.network ?? 'POD',
    pid: n.pid ?? 'POD',
    ipc: n.ipc ?? 'POD',
    target_id: n.targetId ?? '',
  };
}

function resourcesToCri(r: LinuxResources | undefined): Message | undefined {
  if (r === undefined) return undefined;
  return {
    cpu_period: String(r.cpuPeriod ?? 0),
    cpu_quota: String(r.cpuQuota ?? 0),
    cpu_shares: String(r.cpuShares ?? 0),
    memory_limit_in_bytes: String(r.memoryLimitInBytes ?? 0),
    oom_score_adj: String(r.oomScoreAdj ?? 0),
    cpuset_cpus: r.cpusetCpus ?? '',
    unified: r.unified ?? {},
  };
}

function int64Value(v: number | undefined): Message | undefined {
  return v === undefined ? undefined : { value: String(v) };
}

/** PodSandboxConfig → runtime.v1.PodSandboxConfig. */
export function sandboxConfigToCri(c: PodSandboxConfig): Message {
  const l = c.linux;
  return {
    metadata: { ...c.metadata },
    hostname: c.hostname ?? '',
    log_directory: c.logDirectory,
    dns_config: c.dnsConfig,
    port_mappings: (c.portMappings ?? []).map((p) => ({
      protocol: p.protocol ?? 'TCP',
      container_port: p.containerPort,
      host_port: p.hostPort ?? 0,
      host_ip: p.hostIp ?? '',
    })),
    labels: c.labels ?? {},
    annotations: c.annotations ?? {},
    linux: {
      cgroup_parent: l?.cgroupParent ?? '',
      sysctls: l?.sysctls ?? {},
      resources: resourcesToCri(l?.resources),
      security_context: {
        namespace_options: namespaceOptionToCri(l?.namespaceOptions),
        privileged: l?.privileged ?? false,
        run_as_user: int64Value(l?.runAsUser),
        run_as_group: int64Value(l?.runAsGroup),
        supplemental_groups: (l?.supplementalGroups ?? []).map(String),
      },
    },
  };
}

function mountToCri(m: Mount): Message {
  return {
    container_path: m.containerPath,
    host_path: m.hostPath,
    readonly: m.readonly ?? false,
    propagation: m.propagation ?? 'PROPAGATION_PRIVATE',
  };
}

function mountFromCri(m: Message): Mount {
  const propagation = str(m, 'propagation');
  return {
    containerPath: str(m, 'container_path'),
    hostPath: str(m, 'host_path'),
    readonly: m.readonly === true,
    propagation:
      propagation === 'PROPAGATION_HOST_TO_CONTAINER' || propagation === 'PROPAGATION_BIDIRECTIONAL'
        ? propagation
        : 'PROPAGATION_PRIVATE',
  };
}

/** ContainerConfig → runtime.v1.ContainerConfig. */
export function containerConfigToCri(c: ContainerConfig): Message {
  const l = c.linux;
  return {
    metadata: { ...c.metadata },
    image: { image: c.image },
    command: c.command ?? [],
    args: c.args ?? [],
    working_dir: c.workingDir ?? '',
    envs: c.envs ?? [],
    mounts: (c.mounts ?? []).map(mountToCri),
    devices: (c.devices ?? []).map((d) => ({
      container_path: d.containerPath,
      host_path: d.hostPath,
      permissions: d.permissions,
    })),
    labels: c.labels ?? {},
    annotations: c.annotations ?? {},
    log_path: c.logPath,
    stdin: c.stdin ?? false,
    stdin_once: c.stdinOnce ?? false,
    tty: c.tty ?? false,
    linux: {
      resources: resourcesToCri(l?.resources),
      security_context: {
        capabilities: {
          add_capabilities: l?.capabilities?.add ?? [],
          drop_capabilities: l?.capabilities?.drop ?? [],
        },
        privileged: l?.privileged ?? false,
        namespace_options: namespaceOptionToCri(l?.namespaceOptions),
        run_as_user: int64Value(l?.runAsUser),
        run_as_group: int64Value(l?.runAsGroup),
        run_as_username: l?.runAsUsername ?? '',
        readonly_rootfs: l?.readonlyRootfs ?? false,
        supplemental_groups: (l?.supplementalGroups ?? []).map(String),
        no_new_privs: l?.noNewPrivs ?? false,
      },
    },
  };
}

/** PodSandboxFilter → runtime.v1.PodSandboxFilter. */
export function sandboxFilterToCri(f: PodSandboxFilter | undefined): Message | undefined {
  if (f === undefined) return undefined;
  return {
    id: f.id ?? '',
    state: f.state === undefined ? undefined : { state: f.state },
    label_selector: f.labelSelector ?? {},
  };
}

/** ContainerFilter → runtime.v1.ContainerFilter. */
export function containerFilterToCri(f: ContainerFilter | undefined): Message | undefined {
  if (f === undefined) return undefined;
  return {
    id: f.id ?? '',
    state: f.state === undefined ? undefined : { state: f.state },
    pod_sandbox_id: f.podSandboxId ?? '',
    label_selector: f.labelSelector ?? {},
  };
}

function sandboxMetadata(m: Message | undefined): PodSandbox['metadata'] {
  return {
    name: str(m, 'name'),
    uid: str(m, 'uid'),
    namespace: str(m, 'namespace'),
    attempt: num(m, 'attempt'),
  };
}

function sandboxState(m: Message): PodSandbox['state'] {
  return str(m, 'state') === 'SANDBOX_READY' ? 'SANDBOX_READY' : 'SANDBOX_NOTREADY';
}

function containerState(m: Message): Container['state'] {
  const s = str(m, 'state');
  return s === 'CONTAINER_CREATED' || s === 'CONTAINER_RUNNING' || s === 'CONTAINER_EXITED'
    ? s
    : 'CONTAINER_UNKNOWN';
}

/** runtime.v1.PodSandbox → PodSandbox. */
export function sandboxFromCri(m: Message): PodSandbox {
  return {
    id: str(m, 'id'),
    metadata: sandboxMetadata(msg(m, 'metadata')),
    state: sandboxState(m),
    createdAt: big(m, 'created_at'),
    labels: stringMap(m, 'labels'),
    annotations: stringMap(m, 'annotations'),
    runtimeHandler: str(m, 'runtime_handler'),
  };
}

function namespaceModeFromCri(v: string): NamespaceOption['network'] {
  return v === 'CONTAINER' || v === 'NODE' || v === 'TARGET' ? v : 'POD';
}

/** runtime.v1.PodSandboxStatus → PodSandboxStatus. */
export function sandboxStatusFromCri(m: Message): PodSandboxStatus {
  const network = msg(m, 'network');
  const nsOpts = msg(msg(msg(m, 'linux'), 'namespaces'), 'options');
  return {
    ...sandboxFromCri(m),
    ip: str(network, 'ip'),
    additionalIps: list(network, 'additional_ips').map((p) => str(p, 'ip')),
    ...(nsOpts !== undefined
      ? {
          namespaceOptions: {
            network: namespaceModeFromCri(str(nsOpts, 'network')),
            pid: namespaceModeFromCri(str(nsOpts, 'pid')),
            ipc: namespaceModeFromCri(str(nsOpts, 'ipc')),
          },
        }
      : {}),
  };
}

/** runtime.v1.Container → Container. */
export function containerFromCri(m: Message): Container {
  const meta = msg(m, 'metadata');
  return {
    id: str(m, 'id'),
    podSandboxId: str(m, 'pod_sandbox_id'),
    metadata: { name: str(meta, 'name'), attempt: num(meta, 'attempt') },
    image: str(msg(m, 'image'), 'image'),
    imageRef: str(m, 'image_ref'),
    state: containerState(m),
    createdAt: big(m, 'created_at'),
    labels: stringMap(m, 'labels'),
    annotations: stringMap(m, 'annotations'),
  };
}

/** runtime.v1.ContainerStatus → ContainerStatus. */
export function containerStatusFromCri(m: Message): ContainerStatus {
  const meta = msg(m, 'metadata');
  return {
    id: str(m, 'id'),
    metadata: { name: str(meta, 'name'), attempt: num(meta, 'attempt') },
    state: containerState(m),
    createdAt: big(m, 'created_at'),
    startedAt: big(m, 'started_at'),
    finishedAt: big(m, 'finished_at'),
    exitCode: num(m, 'exit_code'),
    image: str(msg(m, 'image'), 'image'),
    imageRef: str(m, 'image_ref'),
    reason: str(m, 'reason'),
    message: str(m, 'message'),
    labels: stringMap(m, 'labels'),
    annotations: stringMap(m, 'annotations'),
    mounts: list(m, 'mounts').map(mountFromCri),
    logPath: str(m, 'log_path'),
  };
}

/** runtime.v1.Image → Image. */
export function imageFromCri(m: Message): Image {
  const uid = msg(m, 'uid');
  return {
    id: str(m, 'id'),
    repoTags: strings(m, 'repo_tags'),
    repoDigests: strings(m, 'repo_digests'),
    size: num(m, 'size'),
    ...(uid !== undefined ? { uid: num(uid, 'value') } : {}),
    username: str(m, 'username'),
    pinned: m.pinned === true,
  };
}

function u64(m: Message | undefined, key: string): bigint | undefined {
  const v = msg(m, key);
  return v === undefined ? undefined : big(v, 'value');
}

/** runtime.v1.ContainerStats → ContainerStats. */
export function containerStatsFromCri(m: Message): ContainerStats {
  const attrs = msg(m, 'attributes');
  const cpu = msg(m, 'cpu');
  const mem = msg(m, 'memory');
  const out: ContainerStats = {
    id: str(attrs, 'id'),
    name: str(msg(attrs, 'metadata'), 'name'),
    timestamp: big(cpu, 'timestamp') || big(mem, 'timestamp'),
  };
  const set = <K extends keyof ContainerStats>(k: K, v: ContainerStats[K] | undefined): void => {
    if (v !== undefined) out[k] = v;
  };
  set('cpuUsageCoreNanoSeconds', u64(cpu, 'usage_core_nano_seconds'));
  set('cpuUsageNanoCores', u64(cpu, 'usage_nano_cores'));
  set('memoryWorkingSetBytes', u64(mem, 'working_set_bytes'));
  set('memoryUsageBytes', u64(mem, 'usage_bytes'));
  set('memoryRssBytes', u64(mem, 'rss_bytes'));
  set('writableLayerUsedBytes', u64(msg(m, 'writable_layer'), 'used_bytes'));
  return out;
}
