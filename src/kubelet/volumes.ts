// Pod volumes (upstream pkg/volume plugins, reduced to what a single node needs): every
// volume of a pod becomes a directory on the node, `<dataDir>/pods/<uid>/volumes/<plugin>/<name>`
// (hostPath volumes are their host path), handed to the runtime as CRI mounts at each
// volumeMount's path (subPath and readOnly honoured). containerd bind-mounts them; the
// process runtime, which cannot mount, makes them visible as symlinks at the mount path
// under the container's working directory and sets `KTS_VOLUME_<NAME>` to the directory.
//
// ConfigMap, Secret, downwardAPI and projected contents are written like upstream's
// AtomicWriter: files live in a timestamped directory reached through the `..data`
// symlink, which is swapped in one rename, so a running container never sees half an
// update; each sync rewrites them only when the content changed.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { chmod, lstat, mkdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type {
  ConfigMap,
  Container,
  KeyToPath,
  PersistentVolume,
  PersistentVolumeClaim,
  Pod,
  Secret,
  Volume,
  VolumeProjection,
} from '../api/generated/types/core-v1.js';
import type { Mount } from './runtime/runtime.js';
import { type EnvContext, podFieldValue, resourceFieldValue } from './env.js';
import { quantityFromJSON } from '../machinery/quantity.js';

/**
 * The process's file creation mask, read once (reading it means setting it; nothing in the
 * kubelet changes it later).
 */
const UMASK = (() => {
  const m = process.umask(0o022);
  process.umask(m);
  return m;
})();

/** What volume contents come from. */
export interface VolumeSources {
  configMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
  secret(namespace: string, name: string): Promise<Secret | undefined>;
  /** A bound service-account token (TokenRequest with the pod as boundObjectRef). */
  serviceAccountToken(pod: Pod, audience: string | undefined, expirationSeconds: number): Promise<string>;
  /** A claim a pod's volume names (absent: claims get a plain pod directory, as before). */
  persistentVolumeClaim?(namespace: string, name: string): Promise<PersistentVolumeClaim | undefined>;
  /** The volume a claim is bound to. */
  persistentVolume?(name: string): Promise<PersistentVolume | undefined>;
}

/** A failure to set a volume up (upstream's `MountVolume.SetUp failed …` event message). */
export class VolumeError extends Error {
  override readonly name = 'VolumeError';
}

/** The directory holding a pod's kubelet state (`<dataDir>/pods/<uid>`). */
export function podDir(dataDir: string, uid: string): string {
  return join(dataDir, 'pods', uid);
}

function pluginDir(v: Volume): string {
  if (v.emptyDir !== undefined) return 'kubernetes.io~empty-dir';
  if (v.configMap !== undefined) return 'kubernetes.io~configmap';
  if (v.secret !== undefined) return 'kubernetes.io~secret';
  if (v.downwardAPI !== undefined) return 'kubernetes.io~downward-api';
  if (v.projected !== undefined) return 'kubernetes.io~projected';
  return 'kubernetes.io~unsupported';
}

type FileSet = Map<string, { data: Buffer; mode: number }>;

function addItems(
  files: FileSet,
  entries: Record<string, Buffer>,
  items: KeyToPath[] | undefined,
  mode: number,
  what: string,
  optional: boolean,
): void {
  if (items === undefined || items.length === 0) {
    for (const [k, v] of Object.entries(entries)) files.set(k, { data: v, mode });
    return;
  }
  for (const it of items) {
    const v = entries[it.key];
    if (v === undefined) {
      if (optional) continue;
      throw new VolumeError(
        `configmap references non-existent config key: ${it.key}`.replace('configmap', what),
      );
    }
    files.set(it.path, { data: v, mode: it.mode ?? mode });
  }
}

function configMapEntries(cm: ConfigMap): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(cm.data ?? {})) out[k] = Buffer.from(v, 'utf8');
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) out[k] = Buffer.from(v, 'base64');
  return out;
}

function secretEntries(s: Secret): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(s.data ?? {})) out[k] = Buffer.from(v, 'base64');
  return out;
}

/** The files of a configMap/secret/downwardAPI/projected volume. */
async function volumeFiles(v: Volume, pod: Pod, ctx: EnvContext, sources: VolumeSources): Promise<FileSet> {
  const ns = pod.metadata?.namespace ?? '';
  const files: FileSet = new Map();
  const projections: VolumeProjection[] = [];
  let mode = 0o644;
  if (v.configMap !== undefined) {
    projections.push({ configMap: v.configMap });
    mode = v.configMap.defaultMode ?? mode;
  } else if (v.secret !== undefined) {
    projections.push({
      secret: { name: v.secret.secretName, items: v.secret.items, optional: v.secret.optional },
    });
    mode = v.secret.defaultMode ?? mode;
  } else if (v.downwardAPI !== undefined) {
    projections.push({ downwardAPI: v.downwardAPI });
    mode = v.downwardAPI.defaultMode ?? mode;
  } else if (v.projected !== undefined) {
    projections.push(...(v.projected.sources ?? []));
    mode = v.projected.defaultMode ?? mode;
  }
  for (const p of projections) {
    if (p.configMap !== undefined) {
      const name = p.configMap.name ?? '';
      const cm = await sources.configMap(ns, name);
      const optional = p.configMap.optional === true;
      if (cm === undefined) {
        if (optional) continue;
        throw new VolumeError(`configmap "${name}" not found`);
      }
      addItems(files, configMapEntries(cm), p.configMap.items, mode, 'configmap', optional);
    } else if (p.secret !== undefined) {
      const name = p.secret.name ?? '';
      const s = await sources.secret(ns, name);
      const optional = p.secret.optional === true;
      if (s === undefined) {
        if (optional) continue;
        throw new VolumeError(`secret "${name}" not found`);
      }
      addItems(files, secretEntries(s), p.secret.items, mode, 'secret', optional);
    } else if (p.downwardAPI !== undefined) {
      for (const it of p.downwardAPI.items ?? []) {
        let value = '';
        if (it.fieldRef !== undefined) value = podFieldValue(ctx, it.fieldRef.fieldPath);
        else if (it.resourceFieldRef !== undefined) {
          const r = it.resourceFieldRef;
          const c = pod.spec?.containers.find((x) => x.name === r.containerName) ?? pod.spec?.containers[0];
          if (c !== undefined) value = resourceFieldValue(c, r.resource, r.divisor, ctx.node);
        }
        files.set(it.path, { data: Buffer.from(value, 'utf8'), mode: it.mode ?? mode });
      }
    } else if (p.serviceAccountToken !== undefined) {
      const t = p.serviceAccountToken;
      const token = await sources.serviceAccountToken(pod, t.audience, t.expirationSeconds ?? 3607);
      files.set(t.path, { data: Buffer.from(token, 'utf8'), mode });
    }
  }
  return files;
}

function fingerprint(files: FileSet): string {
  const h = createHash('sha256');
  for (const [path, f] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
    h.update(`${path}\0${f.mode}\0`).update(f.data).update('\0');
  }
  return h.digest('hex').slice(0, 16);
}

/**
 * Writes `files` into `dir` atomically (the `..data` symlink swap); resolves to false when
 * unchanged. Asynchronous, so pods setting up volumes at once do not stall the kubelet.
 */
export async function atomicWrite(dir: string, files: FileSet): Promise<boolean> {
  const version = `..${fingerprint(files)}`;
  const dataLink = join(dir, '..data');
  let current: string | undefined;
  try {
    current = await readlink(dataLink);
  } catch {
    current = undefined;
  }
  if (current === version) return false;
  // Every operation counts when a burst of pods sets up volumes at once (they queue for
  // the same few I/O threads), so a first write does only what it must. A version
  // directory is named after its content: one left over by an interrupted write is simply
  // written over.
  const target = join(dir, version);
  await mkdir(target, { recursive: true });
  const parents = new Set([...files.keys()].map((p) => dirname(join(target, p))));
  parents.delete(target);
  await Promise.all([...parents].map((d) => mkdir(d, { recursive: true })));
  await Promise.all(
    [...files].map(async ([path, f]) => {
      const file = join(target, path);
      await writeFile(file, f.data, { mode: f.mode });
      // The mode only applies to a new file, less the umask: fixed when that is not enough.
      if ((f.mode & UMASK) !== 0) await chmod(file, f.mode);
    }),
  );
  const tmp = join(dir, '..data_tmp');
  await replaceSymlink(version, tmp);
  await rename(tmp, dataLink);
  // User-visible names point through ..data, so the swap above updates them all at once.
  for (const path of new Set([...files.keys()].map((p) => p.split('/')[0] ?? p))) {
    const link = join(dir, path);
    if (current !== undefined) {
      try {
        if ((await lstat(link)).isSymbolicLink()) continue;
      } catch {
        // not there yet
      }
    }
    try {
      await symlink(join('..data', path), link);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  if (current !== undefined && current !== version)
    await rm(join(dir, current), { recursive: true, force: true });
  return true;
}

/** Creates the symlink `path` → `target`, replacing whatever a crashed write left there. */
async function replaceSymlink(target: string, path: string): Promise<void> {
  try {
    await symlink(target, path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    await rm(path, { force: true });
    await symlink(target, path);
  }
}

function ensureHostPath(path: string, type: string | undefined): void {
  switch (type ?? '') {
    case 'DirectoryOrCreate':
      mkdirSync(path, { recursive: true, mode: 0o755 });
      return;
    case 'FileOrCreate':
      if (!existsSync(path)) {
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, '', { mode: 0o644 });
      }
      return;
    case 'Directory':
      if (!existsSync(path) || !statSync(path).isDirectory())
        throw new VolumeError(`hostPath type check failed: ${path} is not a directory`);
      return;
    case 'File':
      if (!existsSync(path) || !statSync(path).isFile())
        throw new VolumeError(`hostPath type check failed: ${path} is not a file`);
      return;
    default:
      if (type !== undefined && type !== '' && !existsSync(path))
        throw new VolumeError(`hostPath type check failed: ${path} does not exist`);
  }
}

/** The provisioner whose volumes are world-writable directories (k3s's local-path). */
const LOCAL_PATH_PROVISIONER = 'rancher.io/local-path';

/**
 * The host directory of a claim's volume: the bound PersistentVolume's hostPath (its type
 * honoured) or local path. Only those two sources live on the node itself; a claim that is
 * not bound yet fails the sync, which is retried until the PV controller has bound it.
 */
async function claimVolumePath(
  pod: Pod,
  volume: string,
  claimName: string,
  sources: VolumeSources,
): Promise<string> {
  const ns = pod.metadata?.namespace ?? '';
  const fail = (why: string): VolumeError =>
    new VolumeError(
      `Unable to attach or mount volumes: unmounted volumes=[${volume}], unattached volumes=[], failed to process volumes=[${volume}]: error processing PVC ${ns}/${claimName}: ${why}`,
    );
  const claim = await sources.persistentVolumeClaim?.(ns, claimName);
  if (claim === undefined) throw fail(`persistentvolumeclaim "${claimName}" not found`);
  if (claim.metadata?.deletionTimestamp !== undefined) throw fail('PVC is being deleted');
  const pvName = claim.spec?.volumeName ?? '';
  if (pvName === '' || claim.status?.phase !== 'Bound') throw fail('PVC is not bound');
  const pv = await sources.persistentVolume?.(pvName);
  if (pv === undefined) throw fail(`persistentvolume "${pvName}" not found`);
  const hostPath = pv.spec?.hostPath;
  if (hostPath !== undefined) {
    // Its pods may run as any user: upstream's helper pod makes these directories 0777.
    if (
      pv.metadata?.annotations?.['pv.kubernetes.io/provisioned-by'] === LOCAL_PATH_PROVISIONER &&
      !existsSync(hostPath.path)
    ) {
      await mkdir(hostPath.path, { recursive: true });
      await chmod(hostPath.path, 0o777);
    }
    try {
      ensureHostPath(hostPath.path, hostPath.type);
    } catch (e) {
      if (e instanceof VolumeError)
        throw new VolumeError(`MountVolume.SetUp failed for volume "${pvName}" : ${e.message}`);
      throw e;
    }
    return hostPath.path;
  }
  const local = pv.spec?.local?.path;
  if (local !== undefined) {
    if (!existsSync(local))
      throw new VolumeError(
        `MountVolume.NewMounter initialization failed for volume "${pvName}" : path "${local}" does not exist`,
      );
    return local;
  }
  throw new VolumeError(
    `MountVolume.SetUp failed for volume "${pvName}" : volume source not supported by kts`,
  );
}

/** Sets up (or refreshes) every volume of a pod; resolves to each volume's host directory. */
export async function setUpVolumes(
  dataDir: string,
  pod: Pod,
  ctx: EnvContext,
  sources: VolumeSources,
): Promise<Map<string, string>> {
  const uid = pod.metadata?.uid ?? '';
  const out = new Map<string, string>();
  for (const v of pod.spec?.volumes ?? []) {
    if (v.hostPath !== undefined) {
      ensureHostPath(v.hostPath.path, v.hostPath.type);
      out.set(v.name, v.hostPath.path);
      continue;
    }
    if (v.persistentVolumeClaim !== undefined && sources.persistentVolumeClaim !== undefined) {
      out.set(v.name, await claimVolumePath(pod, v.name, v.persistentVolumeClaim.claimName, sources));
      continue;
    }
    const dir = join(podDir(dataDir, uid), 'volumes', pluginDir(v), v.name);
    if (v.emptyDir !== undefined) {
      await mkdir(dir, { recursive: true, mode: 0o777 });
      if (v.emptyDir.medium === 'Memory') mountTmpfs(dir, memoryVolumeSize(v, pod, ctx));
      await chmod(dir, 0o777);
    } else if (
      v.configMap !== undefined ||
      v.secret !== undefined ||
      v.downwardAPI !== undefined ||
      v.projected !== undefined
    ) {
      try {
        await atomicWrite(dir, await volumeFiles(v, pod, ctx, sources));
      } catch (e) {
        if (e instanceof VolumeError) {
          throw new VolumeError(`MountVolume.SetUp failed for volume "${v.name}" : ${e.message}`);
        }
        throw e;
      }
    } else {
      // Unsupported sources (PVCs, CSI, …) still get a directory so the pod can start.
      await mkdir(dir, { recursive: true });
    }
    out.set(v.name, dir);
  }
  return out;
}

/** The CRI mounts of a container for its volumeMounts. */
export function containerMounts(container: Container, volumes: Map<string, string>): Mount[] {
  const mounts: Mount[] = [];
  for (const vm of container.volumeMounts ?? []) {
    const host = volumes.get(vm.name);
    if (host === undefined) continue;
    let hostPath = host;
    if (vm.subPath !== undefined && vm.subPath !== '') {
      hostPath = join(host, vm.subPath);
      if (!existsSync(hostPath)) mkdirSync(hostPath, { recursive: true });
    }
    mounts.push({ containerPath: vm.mountPath, hostPath, readonly: vm.readOnly === true });
  }
  return mounts;
}

/** `KTS_VOLUME_<NAME>` variables for the process runtime (name upper-cased, non-alnum → `_`). */
export function processVolumeEnv(
  container: Container,
  volumes: Map<string, string>,
): { key: string; value: string }[] {
  return (container.volumeMounts ?? []).flatMap((vm) => {
    const host = volumes.get(vm.name);
    if (host === undefined) return [];
    return [{ key: `KTS_VOLUME_${vm.name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`, value: host }];
  });
}

/**
 * The size of a memory-backed emptyDir (upstream SizeMemoryBackedVolumes): its sizeLimit,
 * else the pod's memory limit when every container has one, else the node's allocatable
 * memory; undefined leaves tmpfs's own default (half the RAM).
 */
export function memoryVolumeSize(v: Volume, pod: Pod, ctx: EnvContext): number | undefined {
  const limit = quantityFromJSON(v.emptyDir?.sizeLimit)?.value();
  if (limit !== undefined && limit > 0) return limit;
  const containers = pod.spec?.containers ?? [];
  const limits = containers.map((c) => quantityFromJSON(c.resources?.limits?.memory)?.value() ?? 0);
  if (limits.length > 0 && limits.every((l) => l > 0)) return limits.reduce((a, b) => a + b, 0);
  const allocatable = quantityFromJSON(ctx.node?.status?.allocatable?.memory)?.value();
  return allocatable !== undefined && allocatable > 0 ? allocatable : undefined;
}

/** Mount points at or below `dir`, deepest first (from /proc/self/mountinfo). */
export function mountsUnder(dir: string, mountinfo?: string): string[] {
  let text = mountinfo;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/mountinfo', 'utf8');
    } catch {
      return [];
    }
  }
  const prefix = dir.replace(/\/+$/, '');
  const out: string[] = [];
  for (const line of text.split('\n')) {
    // Field 5 is the mount point, with spaces and the like octal-escaped.
    const raw = line.split(' ')[4];
    if (raw === undefined) continue;
    const mp = raw.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
    if (mp === prefix || mp.startsWith(`${prefix}/`)) out.push(mp);
  }
  return out.sort((a, b) => b.length - a.length);
}

/** Mounts a tmpfs of `sizeBytes` at `dir` unless one is there (no root: the directory stays disk-backed). */
function mountTmpfs(dir: string, sizeBytes: number | undefined): void {
  if (mountsUnder(dir).includes(dir)) return;
  const opts = ['mode=0777', ...(sizeBytes !== undefined ? [`size=${sizeBytes}`] : [])].join(',');
  spawnSync('mount', ['-t', 'tmpfs', '-o', opts, 'tmpfs', dir], { stdio: 'ignore' });
}

/** Unmounts every mount left under a pod's directory (memory-backed emptyDirs). */
export function unmountPodDir(dataDir: string, uid: string): void {
  if (uid === '') return;
  for (const mp of mountsUnder(podDir(dataDir, uid))) spawnSync('umount', [mp], { stdio: 'ignore' });
}

/** Removes a pod's kubelet directory (volumes included; hostPath volumes are never touched). */
export async function cleanupPodDir(dataDir: string, uid: string): Promise<void> {
  if (uid === '') return;
  // Unmounted first: removing through a mount point would only empty the tmpfs.
  unmountPodDir(dataDir, uid);
  await rm(podDir(dataDir, uid), { recursive: true, force: true });
}
