// A proxier test bed of network namespaces: a "node" namespace with a bridge (10.42.0.1/24)
// and two "pod" namespaces (10.42.0.2 and 10.42.0.3) each serving its own name on TCP 8080.
// The node namespace has no default route and no link to the host, so no packet can leave
// the machine; `remove()` kills the servers by pid and deletes every namespace by name.

import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/** One pod namespace: its name, address, the reply its server sends, and its host-side veth. */
export interface ProxyPod {
  ns: string;
  ip: string;
  name: string;
  hostIf: string;
}

/** How to build the test bed; the names keep concurrent test files apart. */
export interface ProxyNetnsOptions {
  /** Namespace name prefix, e.g. `kts-nft-test`. */
  prefix: string;
  /** Two-letter host-side veth prefix letter, e.g. `n` gives `kts-na-<id>` / `kts-nb-<id>`. */
  ifLetter: string;
  /** Let pods reach services through the node: IP forwarding plus hairpin bridge ports. */
  podToService?: boolean;
  /** Runs right after the node namespace exists, before it is configured. */
  onNodeCreated?: (node: string) => Promise<void>;
}

/** The namespaces of a test bed and what a test does with them. */
export interface ProxyNetns {
  /** Name of the node namespace (where the proxier writes its rules). */
  node: string;
  /** The two pods. */
  pods: readonly ProxyPod[];
  /** Creates the namespaces, checks no route leaves them, and starts the pod servers. */
  setUp(): Promise<void>;
  /** Connects `n` times from `from` (the node by default); returns each reply or error code. */
  connect(host: string, port: number, n: number, from?: string): string[];
  /** Runs `ip` with `args`, returning its output. */
  ip(...args: string[]): string;
  /** Kills the servers and deletes the namespaces made so far. */
  remove(): void;
}

/** Why the test must be skipped (not root, a binary missing), or undefined. */
export function proxyNetnsSkip(bins: readonly string[]): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  for (const bin of ['ip', ...bins]) {
    try {
      execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    } catch {
      return `${bin} not installed`;
    }
  }
  return undefined;
}

const BRIDGE = 'kts-br0';

const SERVER = `
const net = require('node:net');
net.createServer((s) => { s.on('error', () => {}); s.end(process.env.NAME); })
  .listen(8080, '0.0.0.0', () => process.stdout.write('ready\\n'));`;

const CLIENT = `
const net = require('node:net');
const [host, port, n] = process.argv.slice(1);
(async () => {
  const out = [];
  for (let i = 0; i < Number(n); i++) {
    out.push(await new Promise((resolve) => {
      const s = net.connect({ host, port: Number(port) });
      let data = '';
      s.setTimeout(3000, () => { s.destroy(); resolve('ETIMEDOUT'); });
      s.on('data', (d) => { data += d; });
      s.on('end', () => resolve(data));
      s.on('error', (e) => resolve(e.code));
    }));
  }
  process.stdout.write(JSON.stringify(out));
})();`;

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8' });
}

/** Names a test bed; nothing is created until `setUp()`. */
export function proxyNetns(opts: ProxyNetnsOptions): ProxyNetns {
  const id = randomBytes(3).toString('hex');
  const node = `${opts.prefix}-${id}`;
  const pods: ProxyPod[] = [
    { ns: `${node}-a`, ip: '10.42.0.2', name: 'pod-a', hostIf: `kts-${opts.ifLetter}a-${id}` },
    { ns: `${node}-b`, ip: '10.42.0.3', name: 'pod-b', hostIf: `kts-${opts.ifLetter}b-${id}` },
  ];
  const created: string[] = [];
  const servers: ChildProcess[] = [];

  function startServer(ns: string, name: string): Promise<void> {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', SERVER], {
      env: { ...process.env, NAME: name },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    servers.push(child);
    return new Promise((resolve, reject) => {
      child.stdout?.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`server in ${ns} exited ${code}`)));
    });
  }

  return {
    node,
    pods,
    ip,
    async setUp() {
      ip('netns', 'add', node);
      created.push(node);
      await opts.onNodeCreated?.(node);
      ip('-n', node, 'link', 'set', 'lo', 'up');
      ip('-n', node, 'link', 'add', BRIDGE, 'type', 'bridge');
      ip('-n', node, 'addr', 'add', '10.42.0.1/24', 'dev', BRIDGE);
      ip('-n', node, 'link', 'set', BRIDGE, 'up');
      // The whole service CIDR goes to the bridge, as on a real node, so a service address
      // without a rule stays here instead of looking for a gateway.
      ip('-n', node, 'route', 'add', '10.43.0.0/16', 'dev', BRIDGE);
      if (opts.podToService) {
        execFileSync('ip', ['netns', 'exec', node, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
      }
      for (const p of pods) {
        ip('netns', 'add', p.ns);
        created.push(p.ns);
        ip('-n', node, 'link', 'add', p.hostIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', p.ns);
        ip('-n', node, 'link', 'set', p.hostIf, 'master', BRIDGE, 'up');
        if (opts.podToService) {
          // As the CNI bridge's hairpinMode: a pod's DNATed packet to itself leaves by the port it came in.
          ip('-n', node, 'link', 'set', p.hostIf, 'type', 'bridge_slave', 'hairpin', 'on');
        }
        ip('-n', p.ns, 'link', 'set', 'lo', 'up');
        ip('-n', p.ns, 'addr', 'add', `${p.ip}/24`, 'dev', 'eth0');
        ip('-n', p.ns, 'link', 'set', 'eth0', 'up');
        ip('-n', p.ns, 'route', 'add', 'default', 'via', '10.42.0.1');
      }
      // Safety: every address the tests use routes inside the namespace, and nothing has a way out.
      assert.equal(ip('-n', node, 'route', 'show', 'default').trim(), '');
      for (const dst of ['10.43.0.10', '10.43.0.12', '10.42.0.2', '10.42.0.3']) {
        assert.match(ip('-n', node, 'route', 'get', dst), new RegExp(`dev ${BRIDGE}\\b`));
      }
      await Promise.all(pods.map((p) => startServer(p.ns, p.name)));
    },
    connect(host, port, n, from = node) {
      const out = execFileSync(
        'ip',
        ['netns', 'exec', from, process.execPath, '-e', CLIENT, host, String(port), String(n)],
        { encoding: 'utf8', timeout: 30_000 },
      );
      return JSON.parse(out) as string[];
    },
    remove() {
      for (const s of servers) if (s.exitCode === null && s.pid !== undefined) s.kill('SIGTERM');
      for (const ns of created.reverse()) {
        try {
          ip('netns', 'del', ns);
        } catch {
          // already gone
        }
      }
      created.length = 0;
    },
  };
}
