// The kubelet's container runtime layer. Contract: `ContainerRuntime` (runtime.ts) is the
// only way the kubelet touches containers; `cri/` implements it over containerd's CRI,
// `process/` with host processes; `cgroupfs.ts` writes cgroups (cgroupfs driver, v1 and v2); `containerd-daemon.ts` runs a kts-owned containerd;
// `images/` builds and imports image tarballs; `logs.ts` reads and writes CRI-format logs.

export * from './runtime.js';
export { CriLogWriter, followLogs, parseLogLine, readLogs, type ReadLogOptions } from './logs.js';
export { CgroupFs, type CgroupLimits, cpuSharesToWeight, hostCgroups } from './cgroupfs.js';
export { CriRuntime } from './cri/index.js';
export { ProcessRuntime } from './process/index.js';
export { startContainerd, type ContainerdDaemon, type ContainerdDaemonOptions } from './containerd-daemon.js';
export { BUSYBOX_IMAGE, PAUSE_IMAGE, buildImage, busyboxImage, pauseImage } from './images/build-image.js';
export { ensureBuiltinImages, importImageArchive, K8S_NAMESPACE } from './images/import.js';
