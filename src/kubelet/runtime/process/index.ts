// The `process` runtime: pods for machines without containerd. Contract: every verb of the
// CRI-shaped runtime interface works, with these semantics —
//
// Isolated (per container):
//   - working directory: `<rootDir>/sandboxes/<sandbox>/containers/<id>/` (an absolute
//     `workingDir` is taken relative to it); volumes appear there as symlinks at their
//     container paths, since nothing can be mounted;
//   - environment: exactly the container's env plus PATH, HOME (= its directory) and
//     HOSTNAME; nothing is inherited from kts's own environment;
//   - process group: the command runs in its own session/process group, so stop signals
//     (SIGTERM, then SIGKILL after the timeout) reach every process it started;
//   - memory: when `memoryLimitInBytes` is set and kts can write the cgroup hierarchy (v1
//     `memory` or v2 unified; needs root), the container gets its own memory cgroup and a
//     kernel OOM kill is reported as reason `OOMKilled`; otherwise no limit is applied.
// Not isolated:
//   - network: a sandbox is only a directory; every pod shares the node's network
//     namespace, so pod IP = node IP, ports clash between pods, and port-forward connects
//     to the node's 127.0.0.1:<port>;
//   - filesystem: commands see the host's whole filesystem; there is no image, no rootfs,
//     and the image name is only recorded (`process://<image>`); the command must be given;
//   - users: processes run as kts's own user (runAsUser etc. are ignored);
//   - pid/ipc/uts namespaces, cpu limits, devices, capabilities, seccomp: none.
// State lives in memory: after a kts restart running processes are not re-adopted.
// Commands are forked by a small helper node process (./spawner.ts), not by the kubelet:
// fork's cost grows with the forking process's size. If the helper dies, the containers it
// started are killed and reported as killed by SIGKILL.
// TTY execs run under util-linux `script` (Node has no pty of its own); resize sets the
// terminal size with `stty`.

export { ProcessRuntime, type ProcessRuntimeOptions, processImageRef } from './process-runtime.js';
export { type ContainerCgroup, createContainerCgroup, memoryCgroupVersion } from './cgroup.js';
