// The container runtime of the node `kts server` (and `kts agent`) runs: `cri` drives a
// private containerd kts starts under the data dir (pods get CNI networking and real
// images), `process` runs containers as child processes of kts (no root, no images, pods
// share the node's network). The default is cri when containerd and runc are installed.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../client/log.js';
import { nodeContainerdRoot, nodeImagesDir, startContainerd } from '../kubelet/runtime/containerd-daemon.js';
import { ensureBuiltinImages, importImageArchive } from '../kubelet/runtime/images/import.js';
import { ProcessRuntime } from '../kubelet/runtime/process/process-runtime.js';
import type { ContainerRuntime } from '../kubelet/runtime/runtime.js';

/** The runtimes a kts node can use. */
export type RuntimeKind = 'cri' | 'process';

/** A runtime opened for a kubelet, with whatever it started. */
export interface NodeRuntime {
  kind: RuntimeKind;
  runtime: ContainerRuntime;
  /** CNI config dir of the private containerd (cri only): the kubelet networks pods there. */
  cniConfDir?: string;
  /**
   * Closes the runtime. Process-runtime containers are children of kts and end with it;
   * containerd is stopped but its shims keep cri containers running, as upstream k3s does.
   */
  close(): Promise<void>;
}

function onPath(bin: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
}

/** The binaries the cri runtime needs that are missing from PATH. */
export function missingCriBinaries(): string[] {
  return ['containerd', 'runc'].filter((b) => !onPath(b));
}

/** cri when containerd and runc are installed, else process. */
export function defaultRuntimeKind(): RuntimeKind {
  return missingCriBinaries().length === 0 ? 'cri' : 'process';
}

/** The problem with using `kind` here, worded with the fix; undefined when it can run. */
export function runtimeProblem(kind: RuntimeKind): string | undefined {
  if (kind !== 'cri') return undefined;
  const missing = missingCriBinaries();
  if (missing.length === 0) return undefined;
  return `${missing.join(' and ')} not found: install it with apt-get install containerd runc containernetworking-plugins, or use --runtime process`;
}

/** Opens the node's runtime under `dataDir` (the cri kind starts containerd and imports images). */
export async function openNodeRuntime(kind: RuntimeKind, dataDir: string, log: Logger): Promise<NodeRuntime> {
  if (kind === 'process') {
    const runtime = new ProcessRuntime({ rootDir: join(dataDir, 'agent', 'process') });
    return { kind, runtime, close: () => runtime.close() };
  }
  const daemon = await startContainerd({ rootDir: nodeContainerdRoot(dataDir) });
  try {
    const images = { socket: daemon.socket, snapshotter: daemon.snapshotter };
    await ensureBuiltinImages(images);
    let queued: string[] = [];
    try {
      queued = readdirSync(nodeImagesDir(dataDir)).filter((n) => n.endsWith('.tar'));
    } catch {
      // nothing queued by `kts image import`
    }
    for (const file of queued) {
      await importImageArchive(join(nodeImagesDir(dataDir), file), images).catch((e: unknown) =>
        log.error('importing a queued image failed', { file, err: String(e) }),
      );
    }
  } catch (e) {
    await daemon.stop();
    throw e;
  }
  // Loaded here, not at the top: the gRPC stack is a few MB of heap a process-runtime node
  // never needs.
  const { CriRuntime } = await import('../kubelet/runtime/cri/cri-runtime.js');
  const runtime = new CriRuntime({ endpoint: daemon.endpoint });
  return {
    kind,
    runtime,
    cniConfDir: daemon.cniConfDir,
    async close() {
      await runtime.close();
      await daemon.stop();
    },
  };
}
