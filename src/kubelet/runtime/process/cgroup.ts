// Container cgroups for the process runtime: one cgroup per container under the pod's
// cgroup (the sandbox's cgroup_parent, else the runtime's own parent), on cgroup v1 (cpu,
// cpuacct, memory, pids hierarchies) or v2 (the unified hierarchy), carrying the CRI
// resources the kubelet computed — cpu shares, CFS quota, memory limit — so that a
// container that exceeds its memory limit is OOM-killed by the kernel and reported as
// `OOMKilled`, as with runc. When no hierarchy is usable (no root), nothing is limited.

import { type CgroupFs, hostCgroups } from '../cgroupfs.js';
import type { LinuxResources } from '../runtime.js';

/** A container's cgroup. */
export interface ContainerCgroup {
  /** The cgroup's path below the hierarchy roots (`/kubepods/besteffort/pod<uid>/<id>`). */
  path: string;
  /** Directories a process joins (one per v1 controller, one on v2) via `cgroup.procs`. */
  dirs: string[];
  /** How many times the kernel OOM-killed a process in it. */
  oomKills(): number;
  /** Bytes currently charged to it. */
  usageBytes(): number | undefined;
  /** CPU time of every process that ran in it, children included, in nanoseconds. */
  cpuUsageNanos(): number | undefined;
  /** Removes the (empty) cgroup. */
  remove(): void;
}

/** Which cgroup layout the machine has for memory, if any usable one. */
export function memoryCgroupVersion(fs: CgroupFs = hostCgroups): 1 | 2 | undefined {
  return fs.version();
}

/**
 * Creates `<parent>/<name>` with the container's resources; undefined when cgroups cannot
 * be used here (the caller then runs the container unconstrained).
 */
export function createContainerCgroup(
  parent: string,
  name: string,
  resources: LinuxResources | undefined,
  fs: CgroupFs = hostCgroups,
): ContainerCgroup | undefined {
  const path = `/${parent.replace(/^\/+|\/+$/g, '')}/${name}`;
  const r = resources ?? {};
  const dirs = fs.ensure(path, {
    ...(r.cpuShares !== undefined ? { cpuShares: r.cpuShares } : {}),
    ...(r.cpuQuota !== undefined ? { cpuQuota: r.cpuQuota } : {}),
    ...(r.cpuPeriod !== undefined ? { cpuPeriod: r.cpuPeriod } : {}),
    ...(r.memoryLimitInBytes !== undefined ? { memoryLimitInBytes: r.memoryLimitInBytes } : {}),
  });
  if (dirs.length === 0) return undefined;
  return {
    path,
    dirs,
    oomKills: () => fs.oomKills(path),
    usageBytes: () => fs.memoryUsage(path),
    cpuUsageNanos: () => fs.cpuUsageNanos(path),
    remove: () => fs.remove(path, { retryMs: 200 }),
  };
}

/** Removes a parent cgroup of container cgroups, and its ancestors, while they are empty. */
export function removeCgroupParent(parent: string, fs: CgroupFs = hostCgroups): void {
  fs.remove(parent, { retryMs: 0, ancestors: true });
}
