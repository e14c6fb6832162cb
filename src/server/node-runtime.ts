// The container runtime of the node `kts server` (and `kts agent`) runs: `cri` drives a
// private containerd kts starts under the data dir (pods get CNI networking and real
// images), `process` runs containers as child processes of kts (no root, no images, pods
// share the node's network). The default is cri when containerd and runc are installed.
import { accessSync, constants, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../client/log.js';
import type { ContainerRuntime } from '../kubelet/runtime/runtime.js';
import { traceStartup } from './startup-trace.js';

/** The runtimes a kts node can use. */
export type RuntimeKind = 'cri' | 'process';

/** A runtime opened for a kubelet, with whatever it started. */
export interface NodeRuntime {
  kind: RuntimeKind;
  runtime: ContainerRuntime;
  /** CNI config dir of the private containerd (cri only): the kubelet networks pods there. */
  cniConfDir?: string;
  /** Settles once the built-in images are imported (cri only); rejects when that failed. */
  imagesReady?: Promise<void>;
  /**
   * Closes the runtime. Process-runtime containers are children of kts and end with it;
   * containerd is stopped but its shims keep cri containers running, as upstream k3s does.
   */
  close(): Promise<void>;
}

// A PATH walk, not `sh -c 'command -v'`: each spawnSync blocks the thread for tens of
// milliseconds at start-up, and this runs up to four times before the server starts.
function onPath(bin: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, bin), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
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

/**
 * Opens the node's runtime under `dataDir`. The cri kind starts containerd and resolves as
 * soon as it answers; kts's built-in images (and archives queued by `kts image import`)
 * are imported meanwhile, behind `imagesReady`, and the runtime's image and sandbox calls
 * wait for them (see gateImages).
 */
export async function openNodeRuntime(kind: RuntimeKind, dataDir: string, log: Logger): Promise<NodeRuntime> {
  // Each kind's code is loaded only by the nodes that use it (an agent's RSS counts).
  if (kind === 'process') {
    const { ProcessRuntime } = await import('../kubelet/runtime/process/process-runtime.js');
    const runtime = new ProcessRuntime({ rootDir: join(dataDir, 'agent', 'process') });
    return { kind, runtime, close: () => runtime.close() };
  }
  const [
    { nodeContainerdRoot, nodeImagesDir, startContainerd },
    { ensureBuiltinImages, importImageArchive },
  ] = await Promise.all([
    import('../kubelet/runtime/containerd-daemon.js'),
    import('../kubelet/runtime/images/import.js'),
  ]);
  traceStartup('runtime: starting containerd');
  const daemon = await startContainerd({ rootDir: nodeContainerdRoot(dataDir) });
  traceStartup('runtime: containerd ready');
  const images = { socket: daemon.socket, snapshotter: daemon.snapshotter };
  const imagesReady = (async () => {
    await ensureBuiltinImages(images);
    traceStartup('runtime: built-in images present');
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
  })();
  imagesReady.catch((e: unknown) => log.error('importing the built-in images failed', { err: String(e) }));
  let cri: ContainerRuntime;
  try {
    const { CriRuntime } = await import('../kubelet/runtime/cri/cri-runtime.js');
    cri = new CriRuntime({ endpoint: daemon.endpoint });
  } catch (e) {
    await imagesReady.catch(() => {});
    await daemon.stop();
    throw e;
  }
  const runtime = gateImages(cri, imagesReady);
  return {
    kind,
    runtime,
    cniConfDir: daemon.cniConfDir,
    imagesReady,
    async close() {
      await imagesReady.catch(() => {});
      await runtime.close();
      await daemon.stop();
    },
  };
}

/** The runtime calls that wait for the built-in images: image calls and new sandboxes. */
const IMAGE_GATED = new Set<string>([
  'runPodSandbox',
  'pullImage',
  'imageStatus',
  'listImages',
  'removeImage',
]);

/**
 * A cri runtime whose image calls and new sandboxes wait until the built-in images are
 * imported. The node registers and turns Ready while containerd unpacks them (half a
 * second or more on a fresh data dir); a pod that arrives meanwhile waits here as it would
 * for an image pull, instead of the kubelet trying to pull kts's local images from a
 * registry. Every other call goes straight through.
 */
function gateImages(inner: ContainerRuntime, imagesReady: Promise<void>): ContainerRuntime {
  return new Proxy(inner, {
    get: (target, prop) => {
      const v: unknown = Reflect.get(target, prop, target);
      if (typeof v !== 'function') return v;
      if (typeof prop !== 'string' || !IMAGE_GATED.has(prop)) return v.bind(target);
      return async (...args: unknown[]): Promise<unknown> => {
        await imagesReady;
        return v.apply(target, args);
      };
    },
  });
}
