// A test "LAN" of machines on one host: a bridge in the host's namespace with an address
// the host's processes (an API server) can listen on, and named network namespaces joined
// to it by veth pairs, each acting as a separate machine (a node running a kubelet, a
// kube-proxy, an agent). Everything is named `kts-t<id>…` and removed by name in
// `remove()`, with the processes started through `spawn()` killed by pid first.

import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { type CommandResult, execCommand } from '../../src/network/host-command.js';
import {
  createNetns,
  createVeth,
  deleteLink,
  deleteNetns,
  ip,
  replaceAddress,
  setLinkUp,
} from '../../src/network/netns.js';

/** One machine on the LAN: a named network namespace with `eth0` on the LAN bridge. */
export interface LanHost {
  /** Name of the network namespace. */
  netns: string;
  /** The machine's LAN address (no prefix length). */
  address: string;
  /** Runs a command inside the machine and collects its output (never rejects on exit code). */
  exec(argv: readonly string[], opts?: { input?: string; timeoutMs?: number }): Promise<CommandResult>;
  /** Starts a long-running process inside the machine; `remove()` kills it by pid. */
  spawn(argv: readonly string[], opts?: SpawnOptions): ChildProcess;
}

/** A bridge on the host with machines attached; `hostAddress` is the host's address on it. */
export interface TestLan {
  bridge: string;
  /** The host's address on the bridge (listen here to be reachable from the machines). */
  hostAddress: string;
  /** Adds machine number `index` (2–254) as `<prefix>.<index>`. */
  addHost(label: string, index: number): Promise<LanHost>;
  /** Kills spawned processes, deletes the machines' namespaces, their veths and the bridge. */
  remove(): Promise<void>;
}

/**
 * Creates the LAN `<subnet>.0/24` (e.g. `192.168.243`) with the host at `<subnet>.1`. The
 * subnet must be unused on this machine; tests pick distinct ones.
 */
export async function createTestLan(subnet: string): Promise<TestLan> {
  const id = randomBytes(2).toString('hex');
  const bridge = `kts-t${id}br`;
  const hostAddress = `${subnet}.1`;
  const netnses: string[] = [];
  const links: string[] = [bridge];
  const children: ChildProcess[] = [];

  await ip(['link', 'add', bridge, 'type', 'bridge']);
  await replaceAddress(`${hostAddress}/24`, bridge);
  await setLinkUp(bridge);

  return {
    bridge,
    hostAddress,
    async addHost(label, index) {
      const netns = `kts-t${id}-${label}`;
      const hostSide = `kts-t${id}h${index}`;
      await createNetns(netns, { loopbackUp: true });
      netnses.push(netns);
      await createVeth({ name: hostSide, peer: 'eth0', peerNetns: netns });
      links.push(hostSide);
      await ip(['link', 'set', hostSide, 'master', bridge]);
      await setLinkUp(hostSide);
      const address = `${subnet}.${index}`;
      await replaceAddress(`${address}/24`, 'eth0', { netns });
      await setLinkUp('eth0', { netns });
      return {
        netns,
        address,
        exec: (argv, opts = {}) => execCommand(argv, { netns, ...opts }),
        spawn(argv, opts = {}) {
          const child = spawn('ip', ['netns', 'exec', netns, ...argv], { stdio: 'pipe', ...opts });
          children.push(child);
          return child;
        },
      };
    },
    async remove() {
      for (const c of children) {
        if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) {
          c.kill('SIGTERM');
          const done = new Promise<void>((r) => c.once('exit', () => r()));
          const timer = setTimeout(() => c.kill('SIGKILL'), 5000);
          await done;
          clearTimeout(timer);
        }
      }
      for (const n of netnses) await deleteNetns(n);
      for (const l of links) await deleteLink(l);
    },
  };
}
