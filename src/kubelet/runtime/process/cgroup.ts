// Optional memory limits for the process runtime: one memory cgroup per container, on
// cgroup v1 (the `memory` hierarchy) or v2 (the unified hierarchy), so that a container that
// exceeds its limit is OOM-killed by the kernel and reported as `OOMKilled`, as with runc.
// When the hierarchy is missing or not writable (no root), limits are simply not applied.

import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A container's memory cgroup. */
export interface MemoryCgroup {
  /** Directory of the cgroup; a process joins by writing its pid to `cgroup.procs`. */
  dir: string;
  /** How many times the kernel OOM-killed a process in it. */
  oomKills(): number;
  /** Bytes currently charged to it. */
  usageBytes(): number | undefined;
  /** Removes the (empty) cgroup. */
  remove(): void;
}

const V1_MEMORY = '/sys/fs/cgroup/memory';
const V2_ROOT = '/sys/fs/cgroup';

function readKeyed(path: string, key: string): number {
  try {
    const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(readFileSync(path, 'utf8'));
    return m?.[1] !== undefined ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function readNumber(path: string): number | undefined {
  try {
    const n = Number(readFileSync(path, 'utf8').trim());
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/** Which cgroup layout the machine has for memory, if any usable one. */
export function memoryCgroupVersion(): 1 | 2 | undefined {
  if (existsSync(join(V1_MEMORY, 'memory.limit_in_bytes'))) return 1;
  if (existsSync(join(V2_ROOT, 'cgroup.controllers'))) {
    try {
      return readFileSync(join(V2_ROOT, 'cgroup.controllers'), 'utf8').includes('memory') ? 2 : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * Creates `<parent>/<name>` with a memory limit; undefined when cgroups cannot be used here
 * (the caller then runs the container without a limit).
 */
export function createMemoryCgroup(
  parent: string,
  name: string,
  limitBytes: number,
): MemoryCgroup | undefined {
  const version = memoryCgroupVersion();
  if (version === undefined) return undefined;
  try {
    if (version === 1) {
      const dir = join(V1_MEMORY, parent, name);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'memory.limit_in_bytes'), String(limitBytes));
      // Without a swap limit a v1 cgroup swaps instead of OOM-killing; ignore if swap accounting is off.
      try {
        writeFileSync(join(dir, 'memory.memsw.limit_in_bytes'), String(limitBytes));
      } catch {
        // swap accounting disabled
      }
      return {
        dir,
        oomKills: () => readKeyed(join(dir, 'memory.oom_control'), 'oom_kill'),
        usageBytes: () => readNumber(join(dir, 'memory.usage_in_bytes')),
        remove: () => removeDir(dir),
      };
    }
    const parentDir = join(V2_ROOT, parent);
    mkdirSync(parentDir, { recursive: true });
    try {
      writeFileSync(join(parentDir, 'cgroup.subtree_control'), '+memory');
    } catch {
      // already enabled, or delegated differently
    }
    const dir = join(parentDir, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'memory.max'), String(limitBytes));
    try {
      writeFileSync(join(dir, 'memory.swap.max'), '0');
    } catch {
      // no swap controller
    }
    return {
      dir,
      oomKills: () => readKeyed(join(dir, 'memory.events'), 'oom_kill'),
      usageBytes: () => readNumber(join(dir, 'memory.current')),
      remove: () => removeDir(dir),
    };
  } catch {
    return undefined;
  }
}

function removeDir(dir: string): void {
  // A cgroup disappears only once its last process has been reaped; retry briefly.
  for (let i = 0; i < 20; i++) {
    try {
      rmdirSync(dir);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
}

/** Removes the parent cgroup of a runtime's container cgroups if it is empty. */
export function removeCgroupParent(parent: string): void {
  const version = memoryCgroupVersion();
  if (version === undefined) return;
  try {
    rmdirSync(join(version === 1 ? V1_MEMORY : V2_ROOT, parent));
  } catch {
    // still in use by another runtime instance, or never created
  }
}
