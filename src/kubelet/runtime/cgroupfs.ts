// Cgroups written straight through the cgroup file system (upstream's `cgroupfs` driver, as
// libcontainer's fs and fs2 managers do it): one path such as `/kubepods/burstable/pod<uid>`
// becomes a directory in each v1 controller hierarchy kts limits (cpu, cpuacct, memory,
// pids), or one directory of the v2 unified hierarchy with the controllers enabled in every
// ancestor's `cgroup.subtree_control`. Limits are given in CRI/v1 terms (cpu shares, CFS
// quota and period, bytes, pids) and converted for v2 the way runc converts them.
// Everything is best effort: without root or without a hierarchy, nothing is limited and
// nothing fails — the container simply runs unconstrained, as it did before.

import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Limits of one cgroup (unset fields are left as the kernel has them). */
export interface CgroupLimits {
  cpuShares?: number;
  /** CFS quota in microseconds per period; 0 or unset means unlimited. */
  cpuQuota?: number;
  cpuPeriod?: number;
  memoryLimitInBytes?: number;
  /** Maximum number of tasks; unset or negative means unlimited (upstream's -1). */
  pidsLimit?: number;
}

/** The v1 hierarchies kts creates cgroups in (cpuacct for usage, the rest for limits). */
const V1_CONTROLLERS = ['cpu', 'cpuacct', 'memory', 'pids'] as const;

/** The controllers a v2 cgroup needs enabled in its parent. */
const V2_CONTROLLERS = ['cpu', 'memory', 'pids'];

/** runc's conversion of v1 cpu shares [2, 262144] to a v2 cpu.weight [1, 10000]. */
export function cpuSharesToWeight(shares: number): number {
  if (shares <= 0) return 0;
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

function readNumber(path: string): number | undefined {
  try {
    const text = readFileSync(path, 'utf8').trim();
    if (text === 'max') return undefined;
    const n = Number(text);
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

function readKeyed(path: string, key: string): number {
  try {
    const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(readFileSync(path, 'utf8'));
    return m?.[1] !== undefined ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function tryWrite(path: string, value: string): boolean {
  try {
    writeFileSync(path, value);
    return true;
  } catch {
    return false;
  }
}

/** A cgroup file system mounted at `root` (default `/sys/fs/cgroup`). */
export class CgroupFs {
  private detected: 1 | 2 | undefined | null = null;
  /** The v1 controllers mounted here (fixed once the machine booted; probed once). */
  private v1Mounted: readonly (typeof V1_CONTROLLERS)[number][] | undefined;

  /** A view of the hierarchy at `root` (tests point it at a temporary directory). */
  constructor(readonly root = '/sys/fs/cgroup') {}

  /** 2 for the unified hierarchy, 1 for v1 (hybrid included), undefined when unusable. */
  version(): 1 | 2 | undefined {
    if (this.detected !== null) return this.detected;
    let v: 1 | 2 | undefined;
    if (existsSync(join(this.root, 'cgroup.controllers'))) v = 2;
    else if (existsSync(join(this.root, 'memory')) || existsSync(join(this.root, 'cpu'))) v = 1;
    this.detected = v;
    return v;
  }

  private rel(path: string): string {
    return path.replace(/^\/+/, '').replace(/\/+$/, '');
  }

  /** Directories (one per v1 controller, one on v2) a process joins to enter `path`. */
  dirs(path: string): string[] {
    const v = this.version();
    if (v === undefined) return [];
    if (v === 2) return [join(this.root, this.rel(path))];
    return this.v1Controllers().map((c) => join(this.root, c, this.rel(path)));
  }

  private v1Controllers(): readonly (typeof V1_CONTROLLERS)[number][] {
    this.v1Mounted ??= V1_CONTROLLERS.filter((c) => existsSync(join(this.root, c)));
    return this.v1Mounted;
  }

  /** Whether `path` exists (in the memory hierarchy on v1): one stat, no writes. */
  exists(path: string): boolean {
    const v = this.version();
    if (v === undefined) return false;
    return existsSync(v === 2 ? join(this.root, this.rel(path)) : join(this.root, 'memory', this.rel(path)));
  }

  /**
   * Creates `path` (and its ancestors) and writes `limits`; resolves to the directories a
   * process joins, or [] when cgroups cannot be used here.
   */
  ensure(path: string, limits: CgroupLimits): string[] {
    const v = this.version();
    if (v === undefined) return [];
    try {
      if (v === 2) return [this.ensureV2(path, limits)];
      return this.ensureV1(path, limits);
    } catch {
      return [];
    }
  }

  private ensureV1(path: string, l: CgroupLimits): string[] {
    const rel = this.rel(path);
    const out: string[] = [];
    for (const c of this.v1Controllers()) {
      const dir = join(this.root, c, rel);
      mkdirSync(dir, { recursive: true });
      out.push(dir);
      if (c === 'cpu') {
        if (l.cpuShares !== undefined && l.cpuShares > 0)
          tryWrite(join(dir, 'cpu.shares'), String(l.cpuShares));
        // The period goes first: the kernel checks the quota against the current period.
        if (l.cpuPeriod !== undefined && l.cpuPeriod > 0)
          tryWrite(join(dir, 'cpu.cfs_period_us'), String(l.cpuPeriod));
        tryWrite(
          join(dir, 'cpu.cfs_quota_us'),
          String(l.cpuQuota !== undefined && l.cpuQuota > 0 ? l.cpuQuota : -1),
        );
      } else if (c === 'memory') {
        const limit =
          l.memoryLimitInBytes !== undefined && l.memoryLimitInBytes > 0 ? l.memoryLimitInBytes : -1;
        // memsw must stay >= the limit: lower it first when shrinking, raise it after when growing.
        const memsw = join(dir, 'memory.memsw.limit_in_bytes');
        if (limit > 0) {
          if (!tryWrite(join(dir, 'memory.limit_in_bytes'), String(limit))) {
            tryWrite(memsw, String(limit));
            tryWrite(join(dir, 'memory.limit_in_bytes'), String(limit));
          }
          // Without a swap limit a v1 cgroup swaps instead of OOM-killing (off without swap accounting).
          tryWrite(memsw, String(limit));
        } else {
          tryWrite(memsw, '-1');
          tryWrite(join(dir, 'memory.limit_in_bytes'), '-1');
        }
      } else if (c === 'pids') {
        tryWrite(
          join(dir, 'pids.max'),
          l.pidsLimit !== undefined && l.pidsLimit > 0 ? String(l.pidsLimit) : 'max',
        );
      }
    }
    return out;
  }

  private ensureV2(path: string, l: CgroupLimits): string {
    const parts = this.rel(path)
      .split('/')
      .filter((p) => p !== '');
    let dir = this.root;
    for (const p of parts) {
      // Children get a controller's files only once their parent delegates it.
      tryWrite(join(dir, 'cgroup.subtree_control'), V2_CONTROLLERS.map((c) => `+${c}`).join(' '));
      dir = join(dir, p);
      mkdirSync(dir, { recursive: true });
    }
    if (l.cpuShares !== undefined && l.cpuShares > 0)
      tryWrite(join(dir, 'cpu.weight'), String(cpuSharesToWeight(l.cpuShares)));
    const period = l.cpuPeriod !== undefined && l.cpuPeriod > 0 ? l.cpuPeriod : 100_000;
    tryWrite(
      join(dir, 'cpu.max'),
      `${l.cpuQuota !== undefined && l.cpuQuota > 0 ? l.cpuQuota : 'max'} ${period}`,
    );
    const mem =
      l.memoryLimitInBytes !== undefined && l.memoryLimitInBytes > 0 ? String(l.memoryLimitInBytes) : 'max';
    tryWrite(join(dir, 'memory.max'), mem);
    if (mem !== 'max') tryWrite(join(dir, 'memory.swap.max'), '0');
    tryWrite(
      join(dir, 'pids.max'),
      l.pidsLimit !== undefined && l.pidsLimit > 0 ? String(l.pidsLimit) : 'max',
    );
    return dir;
  }

  /** How many times the kernel OOM-killed a task in `path`. */
  oomKills(path: string): number {
    const v = this.version();
    if (v === 2) return readKeyed(join(this.root, this.rel(path), 'memory.events'), 'oom_kill');
    if (v === 1)
      return readKeyed(join(this.root, 'memory', this.rel(path), 'memory.oom_control'), 'oom_kill');
    return 0;
  }

  /** CPU time used by every task that ran in `path` (children included), in nanoseconds. */
  cpuUsageNanos(path: string): number | undefined {
    const v = this.version();
    if (v === 1) return readNumber(join(this.root, 'cpuacct', this.rel(path), 'cpuacct.usage'));
    if (v === 2) {
      const file = join(this.root, this.rel(path), 'cpu.stat');
      if (!existsSync(file)) return undefined;
      return readKeyed(file, 'usage_usec') * 1000;
    }
    return undefined;
  }

  /** Bytes charged to `path`, if readable. */
  memoryUsage(path: string): number | undefined {
    const v = this.version();
    if (v === 2) return readNumber(join(this.root, this.rel(path), 'memory.current'));
    if (v === 1) return readNumber(join(this.root, 'memory', this.rel(path), 'memory.usage_in_bytes'));
    return undefined;
  }

  /** The working set of `path`: usage less inactive file pages, as cAdvisor computes it. */
  memoryWorkingSet(path: string): number | undefined {
    const usage = this.memoryUsage(path);
    if (usage === undefined) return undefined;
    const v = this.version();
    const stat =
      v === 2
        ? readKeyed(join(this.root, this.rel(path), 'memory.stat'), 'inactive_file')
        : readKeyed(join(this.root, 'memory', this.rel(path), 'memory.stat'), 'total_inactive_file');
    return Math.max(0, usage - stat);
  }

  /** Number of tasks in `path`, if readable. */
  pidsCurrent(path: string): number | undefined {
    const v = this.version();
    if (v === 2) return readNumber(join(this.root, this.rel(path), 'pids.current'));
    if (v === 1) return readNumber(join(this.root, 'pids', this.rel(path), 'pids.current'));
    return undefined;
  }

  /**
   * Removes `path` in every hierarchy; with `ancestors`, also its parents while they are
   * empty. A cgroup goes only once its last task was reaped: retried briefly.
   */
  remove(path: string, opts: { ancestors?: boolean; retryMs?: number } = {}): void {
    const rel = this.rel(path);
    const v = this.version();
    if (v === undefined || rel === '') return;
    // Every v1 hierarchy, not only the ones kts writes: runc creates the path in all of them.
    const roots = v === 2 ? [this.root] : this.hierarchies();
    const parts = rel.split('/');
    for (const root of roots) {
      if (!existsSync(root)) continue;
      for (let n = parts.length; n > 0; n--) {
        const dir = join(root, ...parts.slice(0, n));
        if (!removeDir(dir, n === parts.length ? (opts.retryMs ?? 200) : 0) || opts.ancestors !== true) break;
      }
    }
  }

  private hierarchies(): string[] {
    try {
      return readdirSync(this.root, { withFileTypes: true })
        .filter((d) => d.isDirectory() || d.isSymbolicLink())
        .map((d) => join(this.root, d.name));
    } catch {
      return [];
    }
  }

  /** Child cgroup names of `path` (from the memory hierarchy on v1). */
  children(path: string): string[] {
    const v = this.version();
    const dir =
      v === 2
        ? join(this.root, this.rel(path))
        : v === 1
          ? join(this.root, 'memory', this.rel(path))
          : undefined;
    if (dir === undefined) return [];
    try {
      return readdirSync(dir, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name);
    } catch {
      return [];
    }
  }
}

/** rmdir with a short retry; true when the directory is gone. */
function removeDir(dir: string, retryMs: number): boolean {
  const deadline = Date.now() + retryMs;
  for (;;) {
    try {
      rmdirSync(dir);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return true;
      if (code !== 'EBUSY' || Date.now() >= deadline) return false;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
}

/** The machine's cgroup file system. */
export const hostCgroups = new CgroupFs();
