// The kubelet's resource arithmetic for cgroups (upstream pkg/kubelet/cm helpers_linux.go,
// qos/policy.go and kuberuntime_container_linux.go): a container's CRI
// `LinuxContainerResources` (cpu shares from requests, CFS quota from limits, memory limit,
// OOM score), a pod's own cgroup limits, and where that cgroup lives — `kubepods/pod<uid>`
// for Guaranteed pods, `kubepods/burstable/pod<uid>` and `kubepods/besteffort/pod<uid>` for
// the others, as the cgroupfs driver names them.

import type { Container, Pod } from '../api/generated/types/core-v1.js';
import { podQOSClass } from '../apiserver/registry/pod-qos.js';
import { quantityFromJSON } from '../machinery/quantity.js';
import type { CgroupLimits } from './runtime/cgroupfs.js';
import type { LinuxResources } from './runtime/runtime.js';

/** Smallest cpu.shares (what a BestEffort container gets). */
export const MIN_SHARES = 2;
/** Largest cpu.shares the kernel accepts. */
export const MAX_SHARES = 262144;
/** cpu.shares of one whole CPU. */
export const SHARES_PER_CPU = 1024;
/** The CFS period kts uses (upstream's default cpuCFSQuotaPeriod, 100 ms). */
export const QUOTA_PERIOD_US = 100_000;
/** The smallest CFS quota the kernel accepts (1 ms). */
export const MIN_QUOTA_PERIOD_US = 1000;

/** Upstream MilliCPUToShares: a cpu request in millicores as cpu.shares (at least 2). */
export function milliCPUToShares(milliCPU: number): number {
  if (milliCPU <= 0) return MIN_SHARES;
  const shares = Math.floor((milliCPU * SHARES_PER_CPU) / 1000);
  return Math.min(MAX_SHARES, Math.max(MIN_SHARES, shares));
}

/** Upstream MilliCPUToQuota: a cpu limit in millicores as a CFS quota (0: unlimited). */
export function milliCPUToQuota(milliCPU: number, period = QUOTA_PERIOD_US): number {
  if (milliCPU <= 0) return 0;
  return Math.max(MIN_QUOTA_PERIOD_US, Math.floor((milliCPU * period) / 1000));
}

function milli(v: unknown): number | undefined {
  const q = quantityFromJSON(v);
  return q === undefined ? undefined : q.milliValue();
}

function bytes(v: unknown): number | undefined {
  const q = quantityFromJSON(v);
  return q === undefined ? undefined : q.value();
}

/** The pod's QoS class: the API server's record, else computed from the spec. */
export function qosClassOf(pod: Pod): string {
  return pod.status?.qosClass ?? podQOSClass(pod.spec);
}

/** Upstream's OOM score adjustments per QoS class. */
const GUARANTEED_OOM_SCORE_ADJ = -997;
const BEST_EFFORT_OOM_SCORE_ADJ = 1000;

/** Upstream GetContainerOOMScoreAdjust: Guaranteed -997, BestEffort 1000, Burstable in between. */
export function containerOOMScoreAdjust(pod: Pod, c: Container, memoryCapacity: number): number {
  const qos = qosClassOf(pod);
  if (qos === 'Guaranteed') return GUARANTEED_OOM_SCORE_ADJ;
  if (qos === 'BestEffort') return BEST_EFFORT_OOM_SCORE_ADJ;
  const request = bytes(c.resources?.requests?.memory) ?? 0;
  if (memoryCapacity <= 0) return BEST_EFFORT_OOM_SCORE_ADJ - 1;
  const adj = 1000 - Math.floor((1000 * request) / memoryCapacity);
  // Burstable stays above every Guaranteed pod and below every BestEffort one.
  if (adj < 1000 + GUARANTEED_OOM_SCORE_ADJ) return 1000 + GUARANTEED_OOM_SCORE_ADJ;
  if (adj === BEST_EFFORT_OOM_SCORE_ADJ) return adj - 1;
  return adj;
}

/** A container's CRI resources (upstream generateLinuxContainerResources). */
export function containerResources(pod: Pod, c: Container, memoryCapacity = 0): LinuxResources {
  const req = c.resources?.requests ?? {};
  const lim = c.resources?.limits ?? {};
  const cpuRequest = milli(req.cpu);
  const cpuLimit = milli(lim.cpu);
  const out: LinuxResources = {
    // With no request but a limit, the limit is the request (as API defaulting would make it).
    cpuShares: milliCPUToShares(cpuRequest ?? cpuLimit ?? 0),
    oomScoreAdj: containerOOMScoreAdjust(pod, c, memoryCapacity),
  };
  if (cpuLimit !== undefined && cpuLimit > 0) {
    out.cpuPeriod = QUOTA_PERIOD_US;
    out.cpuQuota = milliCPUToQuota(cpuLimit);
  }
  const memoryLimit = bytes(lim.memory);
  if (memoryLimit !== undefined && memoryLimit > 0) out.memoryLimitInBytes = memoryLimit;
  return out;
}

/**
 * Sum over regular containers and sidecars, or the largest plain init container when that
 * is bigger (upstream PodRequests); `all` says every container declared a value.
 */
function podTotal(pod: Pod, pick: (c: Container) => number | undefined): { total: number; all: boolean } {
  let sum = 0;
  let largestInit = 0;
  let all = true;
  const init = pod.spec?.initContainers ?? [];
  for (const c of [...(pod.spec?.containers ?? []), ...init]) {
    const v = pick(c) ?? 0;
    if (v <= 0) all = false;
    if (init.includes(c) && c.restartPolicy !== 'Always') largestInit = Math.max(largestInit, v);
    else sum += v;
  }
  return { total: Math.max(sum, largestInit), all };
}

/** The pod cgroup's limits (upstream ResourceConfigForPod), with `--pod-max-pids`. */
export function podCgroupLimits(pod: Pod, podMaxPids = -1): CgroupLimits {
  const qos = qosClassOf(pod);
  const cpuReq = podTotal(pod, (c) => milli(c.resources?.requests?.cpu) ?? milli(c.resources?.limits?.cpu));
  const cpuLim = podTotal(pod, (c) => milli(c.resources?.limits?.cpu));
  const memLim = podTotal(pod, (c) => bytes(c.resources?.limits?.memory));
  const out: CgroupLimits = {};
  if (qos === 'BestEffort') out.cpuShares = MIN_SHARES;
  else {
    out.cpuShares = milliCPUToShares(cpuReq.total);
    // A limit on the pod only when every container declares one: one unlimited container
    // makes the pod unlimited.
    if (cpuLim.all && cpuLim.total > 0) {
      out.cpuPeriod = QUOTA_PERIOD_US;
      out.cpuQuota = milliCPUToQuota(cpuLim.total);
    }
    if (memLim.all && memLim.total > 0) out.memoryLimitInBytes = memLim.total;
  }
  if (podMaxPids > 0) out.pidsLimit = podMaxPids;
  return out;
}

/** The QoS-class cgroup a pod's cgroup sits in: `<root>`, `<root>/burstable` or `<root>/besteffort`. */
export function qosCgroup(root: string, qos: string): string {
  const r = root.replace(/\/+$/, '');
  if (qos === 'Guaranteed') return r;
  return `${r}/${qos === 'Burstable' ? 'burstable' : 'besteffort'}`;
}

/** The pod's cgroup (`/kubepods/burstable/pod<uid>` …), the runtime's cgroup_parent. */
export function podCgroupPath(root: string, pod: Pod): string {
  return `${qosCgroup(root, qosClassOf(pod))}/pod${pod.metadata?.uid ?? ''}`;
}
