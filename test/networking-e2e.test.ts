// Networking acceptance (issue #8) on two nodes of one machine. The control plane (API
// server, controller manager, scheduler) runs in this process on the test LAN's host
// address; each node is a network namespace on that LAN running `kts kubelet` (cri runtime:
// its own private containerd, CNI bridge, host-gw routes to the other node) and `kts proxy`
// (iptables inside the namespace). node1 also serves cluster DNS as `kts server` does for
// its node: on its InternalIP, behind the kube-dns Service 10.43.0.10.
//
// The node processes enter their namespace with `nsenter --net` rather than `ip netns exec`:
// the latter remounts /sys in a new mount namespace, which hides the cgroup filesystem runc
// needs. Only the test LAN, the nodes' bridges and the pods' networks carry traffic; every
// 10.42/10.43 destination is checked with `ip route get` in the sending node first. At the
// end the namespaces, links, containerd roots (and shims), pod network namespaces and rules
// are removed by name or pid, and their absence is asserted.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import {
  cpSync,
  createWriteStream,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { Pod, Service } from '../src/api/generated/types/core-v1.js';
import type { EndpointSlice } from '../src/api/generated/types/discovery-v1.js';
import { type ApiServer, startApiServer } from '../src/apiserver/server.js';
import { loadKubeconfig } from '../src/client/kubeconfig.js';
import { ENDPOINTSLICES, NODES, PODS } from '../src/client/resources.js';
import { RestClient } from '../src/client/rest-client.js';
import { ControllerManager } from '../src/controllers/manager.js';
import { controllerRegistry } from '../src/controllers/registry.js';
import {
  cleanupContainerdRoot,
  containerdMissing,
  containerdPaths,
  nodeContainerdRoot,
  pidsMentioning,
} from '../src/kubelet/runtime/containerd-daemon.js';
import { execCommand } from '../src/network/host-command.js';
import { ensureClusterPKI } from '../src/pki/cluster-pki.js';
import { runScheduler } from '../src/scheduler/run.js';
import { issueComponentIdentities } from '../src/server/identities.js';
import { Kubectl } from './helpers/kubectl.js';
import { createTestLan, type LanHost, type TestLan } from './helpers/netns-lan.js';

const SUBNET = '192.168.245';
const NS = 'net-e2e';
const DNS_IP = '10.43.0.10';
const IMAGE = 'kts.local/busybox:latest';
const ROOT = join(import.meta.dirname, '..');

interface TestNode {
  name: string;
  host: LanHost;
  dataDir: string;
}

let lan: TestLan | undefined;
let dir = '';
let api: ApiServer | undefined;
let admin: RestClient;
let kubectl: Kubectl;
const nodes: TestNode[] = [];
const children: ChildProcess[] = [];
const control = new AbortController();
const controlDone: Promise<unknown>[] = [];
const logs: string[] = [];

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts `node <args>` (tsx) inside a node's network namespace, logging to a file. */
function spawnIn(host: LanHost, label: string, args: string[]): ChildProcess {
  const log = join(dir, `${label}.log`);
  logs.push(log);
  const out = createWriteStream(log);
  const child = spawn(
    'nsenter',
    [`--net=/var/run/netns/${host.netns}`, '--', process.execPath, '--import', 'tsx', ...args],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  children.push(child);
  return child;
}

async function stopChild(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const done = new Promise<void>((r) => c.once('exit', () => r()));
  c.kill('SIGTERM');
  const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
  await done;
  clearTimeout(timer);
}

function tails(): string {
  return logs
    .map((f) => {
      const text = existsSync(f) ? readFileSync(f, 'utf8') : '';
      return `--- ${f}\n${text.split('\n').slice(-25).join('\n')}`;
    })
    .join('\n');
}

/** Fails unless `ip route get` in the node keeps `dst` on the node's bridge or the test LAN. */
async function assertStaysLocal(node: TestNode, dst: string): Promise<void> {
  const r = await node.host.exec(['ip', 'route', 'get', dst]);
  const lanHop = new RegExp(`via ${SUBNET.replace(/\./g, '\\.')}\\.\\d+ dev eth0`);
  assert.ok(
    r.code === 0 && (/ dev kts0 /.test(r.stdout) || lanHop.test(r.stdout)),
    `${dst} from ${node.name} would not stay local: ${r.stdout}${r.stderr}`,
  );
}

async function podIP(name: string): Promise<string> {
  const p = await admin.resource(PODS).get(NS, name);
  const ip = p.status?.podIP;
  if (ip === undefined || ip === '') throw new Error(`pod ${name} has no IP`);
  return ip;
}

/** Runs a command in a pod (kubectl exec), returning stdout; throws with stderr on failure. */
async function inPod(pod: string, argv: string[]): Promise<string> {
  const r = await kubectl.run(['exec', '-n', NS, pod, '--', ...argv], { timeoutMs: 20_000 });
  if (r.code !== 0) throw new Error(`exec ${pod} ${argv.join(' ')} → ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** `wget` from a pod, after checking the pod's node keeps the destination local. */
async function fetchFrom(pod: string, node: TestNode, url: string, dst?: string): Promise<string> {
  if (dst !== undefined) await assertStaysLocal(node, dst);
  // busybox 1.35's `wget -T` crashes (SIGSEGV) on Debian's static build; `timeout` bounds it.
  return (await inPod(pod, ['timeout', '3', 'wget', '-qO-', url])).trim();
}

function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

function webPodTemplate(): NonNullable<Pod['spec']> {
  // `/` answers the pod's hostname (its name); `/cgi-bin/ip` the client address it saw.
  const script = [
    'mkdir -p /www/cgi-bin',
    'hostname > /www/index.html',
    `printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho "$REMOTE_ADDR"\\n' > /www/cgi-bin/ip`,
    'chmod +x /www/cgi-bin/ip',
    'exec httpd -f -p 80 -h /www',
  ].join(' && ');
  return {
    automountServiceAccountToken: false,
    terminationGracePeriodSeconds: 1,
    topologySpreadConstraints: [
      {
        maxSkew: 1,
        topologyKey: 'kubernetes.io/hostname',
        whenUnsatisfiable: 'DoNotSchedule',
        labelSelector: { matchLabels: { app: 'web' } },
      },
    ],
    containers: [
      {
        name: 'web',
        image: IMAGE,
        imagePullPolicy: 'IfNotPresent',
        command: ['sh', '-c', script],
        ports: [{ containerPort: 80 }],
        readinessProbe: { httpGet: { path: '/', port: 80 }, periodSeconds: 1 },
      },
    ],
  };
}

function clientPod(name: string, nodeName: string): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels: { app: 'client' } },
    spec: {
      nodeName,
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'c',
          image: IMAGE,
          imagePullPolicy: 'IfNotPresent',
          command: ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1; done'],
        },
      ],
    },
  };
}

function service(name: string, spec: NonNullable<Service['spec']>): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: NS }, spec };
}

/** True when the node's proxy rules (nftables or iptables, whichever mode runs) name `ip`. */
async function hasRuleFor(node: TestNode, ip: string): Promise<boolean> {
  const mention = new RegExp(`${ip.replace(/\./g, '\\.')}(?![0-9])`);
  const [nft, ipt] = await Promise.all([
    node.host.exec(['nft', 'list', 'ruleset']),
    node.host.exec(['iptables-save', '-t', 'nat']),
  ]);
  return mention.test(nft.stdout) || mention.test(ipt.stdout);
}

/** The client address as busybox httpd's CGI sees it (IPv4-mapped on a dual-stack socket). */
function clientAddress(remoteAddr: string): string {
  return remoteAddr.replace(/^\[?::ffff:/, '').replace(/\]$/, '');
}

/** Ready endpoint addresses of a Service's slices. */
function readyAddresses(slices: readonly EndpointSlice[]): string[] {
  const out: string[] = [];
  for (const s of slices)
    for (const e of s.endpoints ?? []) if (e.conditions?.ready === true) out.push(...e.addresses);
  return out.sort();
}

async function webSlices(): Promise<EndpointSlice[]> {
  const l = await admin
    .resource(ENDPOINTSLICES)
    .list(NS, { labelSelector: 'kubernetes.io/service-name=web' });
  return l.items;
}

/**
 * Pod netns bind mounts (`cni-…`) now on the machine, as paths: the nodes' containerds keep
 * them under their state dirs (netns_mounts_under_state_dir), others under /var/run/netns.
 */
function cniNetnses(): Set<string> {
  const out = new Set<string>();
  for (const dir of [
    '/var/run/netns',
    ...nodes.map((n) => containerdPaths(nodeContainerdRoot(n.dataDir)).netnsDir),
  ]) {
    try {
      for (const n of readdirSync(dir)) if (n.startsWith('cni-')) out.add(join(dir, n));
    } catch {
      // not there
    }
  }
  return out;
}

const netnsBefore = cniNetnses();
const podNetnses: string[] = [];

/** The new pod network namespaces holding one of `ips` (ours, not another test's). */
async function findPodNetnses(ips: ReadonlySet<string>): Promise<string[]> {
  const out: string[] = [];
  for (const n of cniNetnses()) {
    if (netnsBefore.has(n)) continue;
    const r = await execCommand(['nsenter', `--net=${n}`, 'ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0']);
    const m = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(r.stdout);
    if (m?.[1] !== undefined && ips.has(m[1])) out.push(n);
  }
  return out;
}

describe('networking end to end on two nodes', { timeout: 150_000 }, () => {
  before(async () => {
    if (process.getuid?.() !== 0) throw new Error('networking e2e needs root (netns, containerd, iptables)');
    const missing = containerdMissing();
    if (missing !== undefined) throw new Error(missing);
    dir = mkdtempSync(join(tmpdir(), 'kts-net-e2e-'));
    lan = await createTestLan(SUBNET);
    nodes.push({ name: 'node1', host: await lan.addHost('node1', 2), dataDir: join(dir, 'node1') });
    nodes.push({ name: 'node2', host: await lan.addHost('node2', 3), dataDir: join(dir, 'node2') });

    api = await startApiServer({
      dataDir: join(dir, 'api'),
      httpsPort: 0,
      bindAddress: lan.hostAddress,
      advertiseAddress: lan.hostAddress,
    });
    admin = new RestClient(loadKubeconfig(api.kubeconfigPath));
    kubectl = new Kubectl(api.kubeconfigPath);
    const pki = ensureClusterPKI(join(dir, 'api'));
    // The control plane is not what this test is about: it runs with admin rights. The nodes'
    // components use their own identities, as on a real agent.
    const manager = new ControllerManager({
      client: new RestClient(loadKubeconfig(api.kubeconfigPath)),
      registry: controllerRegistry,
      rootCA: pki.ca.certPem,
      options: { clusterCIDR: '10.42.0.0/16' },
    });
    controlDone.push(manager.run(control.signal).catch(() => {}));
    controlDone.push(
      runScheduler({
        kubeconfig: api.kubeconfigPath,
        leaderElect: false,
        signal: control.signal,
      }).catch(() => {}),
    );

    for (const n of nodes) {
      const nodeIds = issueComponentIdentities({
        dataDir: n.dataDir,
        server: api.url,
        ca: pki.ca,
        nodeName: n.name,
        components: ['kubelet', 'proxy', 'dns'],
      });
      const kc = (c: 'kubelet' | 'proxy' | 'dns'): string => nodeIds.get(c)?.kubeconfigPath ?? '';
      spawnIn(n.host, `${n.name}-kubelet`, [
        'src/cli/main.ts',
        'kubelet',
        '--kubeconfig',
        kc('kubelet'),
        '--node-name',
        n.name,
        '--data-dir',
        n.dataDir,
        '--cluster-dns',
        DNS_IP,
        // kube-proxy's identity may list and watch every Node; the kubelet's may not.
        '--network-kubeconfig',
        kc('proxy'),
        '--v',
      ]);
      spawnIn(n.host, `${n.name}-proxy`, [
        'src/cli/main.ts',
        'proxy',
        '--kubeconfig',
        kc('proxy'),
        '--node-name',
        n.name,
      ]);
    }
    const node1 = nodes[0];
    assert.ok(node1 !== undefined);
    // Cluster DNS as `kts server` runs it for its node (startNodeNetworkComponents): the
    // kube-dns Service and its EndpointSlice point at the node's InternalIP, port 53.
    const dnsScript = `
      const { ensureDNSService, runClusterDNS } = await import(${JSON.stringify(join(ROOT, 'src/dns/run.ts'))});
      const { loadKubeconfig } = await import(${JSON.stringify(join(ROOT, 'src/client/kubeconfig.ts'))});
      const { RestClient } = await import(${JSON.stringify(join(ROOT, 'src/client/rest-client.ts'))});
      const admin = new RestClient(loadKubeconfig(${JSON.stringify(api.kubeconfigPath)}));
      await ensureDNSService(admin, { nodeAddress: ${JSON.stringify(node1.host.address)}, port: 53, nodeName: 'node1' });
      admin.close();
      const ac = new AbortController();
      process.once('SIGTERM', () => ac.abort());
      await runClusterDNS({
        kubeconfig: ${JSON.stringify(join(node1.dataDir, 'cred', 'dns.kubeconfig'))},
        address: ${JSON.stringify(node1.host.address)},
        port: 53,
        signal: ac.signal,
        onReady: () => process.stderr.write('dns ready\\n'),
      });
      process.exit(0);
    `;
    spawnIn(node1.host, 'node1-dns', ['--input-type=module', '-e', dnsScript]);

    try {
      await until(
        'both nodes Ready',
        async () => {
          const l = await admin.resource(NODES).list('');
          const ready = l.items.filter((n) =>
            n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
          );
          return ready.length === 2 ? ready : undefined;
        },
        60_000,
      );
      await until('default ServiceAccount', async () => {
        await kubectl.ok(['create', 'namespace', NS]).catch(() => '');
        const r = await kubectl.run(['get', 'serviceaccount', 'default', '-n', NS]);
        return r.code === 0 ? true : undefined;
      });
    } catch (e) {
      throw new Error(`${String(e)}\n${tails()}`);
    }
  });

  after(async () => {
    control.abort();
    await Promise.allSettled(controlDone);
    for (const c of children) await stopChild(c);
    for (const n of nodes) cleanupContainerdRoot(nodeContainerdRoot(n.dataDir));
    await lan?.remove();
    admin?.close();
    kubectl?.cleanup();
    await api?.close();
    // KTS_E2E_LOGS=DIR keeps the node processes' logs for a failed run.
    const keep = process.env.KTS_E2E_LOGS;
    if (keep !== undefined && keep !== '')
      for (const f of logs) if (existsSync(f)) cpSync(f, join(keep, basename(f)));
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('runs the workload: a Deployment spread over both nodes and a client on each', async () => {
    await kubectl.ok(['apply', '-f', '-'], {
      stdin: JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            metadata: { name: 'web', namespace: NS },
            spec: {
              replicas: 2,
              selector: { matchLabels: { app: 'web' } },
              template: { metadata: { labels: { app: 'web' } }, spec: webPodTemplate() },
            },
          },
          service('web', {
            type: 'NodePort',
            selector: { app: 'web' },
            ports: [{ port: 80, targetPort: 80 }],
          }),
          service('web-sticky', {
            selector: { app: 'web' },
            sessionAffinity: 'ClientIP',
            ports: [{ port: 80, targetPort: 80 }],
          }),
          service('web-headless', { clusterIP: 'None', selector: { app: 'web' }, ports: [{ port: 80 }] }),
          service('web-alias', { type: 'ExternalName', externalName: `web.${NS}.svc.cluster.local` }),
          clientPod('client1', 'node1'),
          clientPod('client2', 'node2'),
        ],
      }),
    });
    try {
      await kubectl.ok(['rollout', 'status', '-n', NS, 'deployment/web', '--timeout=60s']);
      await kubectl.ok([
        'wait',
        '-n',
        NS,
        '--for=condition=Ready',
        'pod/client1',
        'pod/client2',
        '--timeout=40s',
      ]);
    } catch (e) {
      throw new Error(`${String(e)}\n${tails()}`);
    }
    const pods = (await admin.resource(PODS).list(NS, { labelSelector: 'app=web' })).items;
    assert.deepEqual(pods.map((p) => p.spec?.nodeName).sort(), ['node1', 'node2']);
    for (const p of pods) assert.match(p.status?.podIP ?? '', /^10\.42\.\d+\.\d+$/);
    const all = (await admin.resource(PODS).list(NS)).items.map((p) => p.status?.podIP ?? '');
    podNetnses.push(...(await findPodNetnses(new Set(all))));
    assert.equal(podNetnses.length, 4, 'the four pods each have a netns');
    const routes = await nodes[0]?.host.exec(['ip', 'route', 'show', 'proto', '242']);
    assert.match(routes?.stdout ?? '', new RegExp(`via ${SUBNET.replace(/\./g, '\\.')}\\.3 dev eth0`));
  });

  it('reaches pods on the other node by pod IP without NAT', async () => {
    const [n1, n2] = nodes as [TestNode, TestNode];
    const pods = (await admin.resource(PODS).list(NS, { labelSelector: 'app=web' })).items;
    const on = (node: string): Pod => {
      const p = pods.find((x) => x.spec?.nodeName === node);
      assert.ok(p !== undefined);
      return p;
    };
    const web1 = on('node1');
    const web2 = on('node2');
    const ip1 = web1.status?.podIP ?? '';
    const ip2 = web2.status?.podIP ?? '';
    assert.equal(await fetchFrom('client1', n1, `http://${ip2}/`, ip2), web2.metadata?.name);
    assert.equal(await fetchFrom('client2', n2, `http://${ip1}/`, ip1), web1.metadata?.name);
    const seen1 = clientAddress(await fetchFrom('client1', n1, `http://${ip2}/cgi-bin/ip`, ip2));
    const seen2 = clientAddress(await fetchFrom('client2', n2, `http://${ip1}/cgi-bin/ip`, ip1));
    assert.equal(seen1, await podIP('client1'));
    assert.equal(seen2, await podIP('client2'));
  });

  it('reaches the Deployment by ClusterIP, by FQDN and by the search path from both nodes', async () => {
    const web = JSON.parse(await kubectl.ok(['get', 'service', 'web', '-n', NS, '-o', 'json'])) as Service;
    const clusterIP = web.spec?.clusterIP ?? '';
    assert.match(clusterIP, /^10\.43\.\d+\.\d+$/);
    const names = new Set(
      (await admin.resource(PODS).list(NS, { labelSelector: 'app=web' })).items.map((p) => p.metadata?.name),
    );
    for (const [pod, node] of [
      ['client1', nodes[0]],
      ['client2', nodes[1]],
    ] as const) {
      assert.ok(node !== undefined);
      await assertStaysLocal(node, DNS_IP);
      for (const url of [`http://${clusterIP}/`, `http://web.${NS}.svc.cluster.local/`, 'http://web/']) {
        const body = await fetchFrom(pod, node, url, clusterIP);
        assert.ok(names.has(body), `${pod} → ${url} answered ${JSON.stringify(body)}`);
      }
    }
  });

  it('serves the NodePort on each node address', async () => {
    const web = JSON.parse(await kubectl.ok(['get', 'service', 'web', '-n', NS, '-o', 'json'])) as Service;
    const nodePort = web.spec?.ports?.[0]?.nodePort;
    assert.ok(nodePort !== undefined && nodePort >= 30000);
    const names = new Set(
      (await admin.resource(PODS).list(NS, { labelSelector: 'app=web' })).items.map((p) => p.metadata?.name),
    );
    for (const n of nodes) {
      const seen = new Set<string>();
      for (let i = 0; i < 6; i++) seen.add((await httpGet(`http://${n.host.address}:${nodePort}/`)).trim());
      for (const s of seen) assert.ok(names.has(s), `NodePort on ${n.name} answered ${s}`);
    }
  });

  it('pins a client to one backend with ClientIP session affinity', async () => {
    const seen = new Set<string>();
    const n1 = nodes[0];
    assert.ok(n1 !== undefined);
    const script = 'for i in 1 2 3 4 5 6 7 8 9 10; do timeout 3 wget -qO- http://web-sticky/; done';
    await assertStaysLocal(n1, DNS_IP);
    const out = await inPod('client1', ['sh', '-c', script]);
    const lines = out.trim().split('\n');
    assert.equal(lines.length, 10);
    for (const l of lines) seen.add(l.trim());
    assert.equal(seen.size, 1, `answers: ${[...seen].join(', ')}`);
  });

  it('puts a new endpoint into every node’s rules within 1 s of the EndpointSlice change', async (t: TestContext) => {
    const before = new Set(readyAddresses(await webSlices()));
    const web = JSON.parse(await kubectl.ok(['get', 'service', 'web', '-n', NS, '-o', 'json'])) as Service;
    const clusterIP = web.spec?.clusterIP ?? '';
    const rv = (await admin.resource(ENDPOINTSLICES).list(NS)).metadata?.resourceVersion;
    const ac = new AbortController();
    // Rule changes as they happen (nftables, which iptables-nft writes too), timestamped on
    // arrival: polling with a process per look would measure the machine's load instead.
    const monitors = nodes.map((n) => {
      const lines: { at: number; text: string }[] = [];
      const child = spawn('ip', ['netns', 'exec', n.host.netns, 'nft', 'monitor', 'ruleset'], {
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      children.push(child);
      let rest = '';
      child.stdout?.setEncoding('utf8');
      child.stdout?.on('data', (chunk: string) => {
        const now = performance.now();
        const parts = (rest + chunk).split('\n');
        rest = parts.pop() ?? '';
        for (const text of parts) lines.push({ at: now, text });
      });
      return { node: n, child, lines };
    });
    // The moment the new pod's address shows up ready in the slice, as a watcher sees it.
    // When the new address was first listed (not ready yet): a proxy sync for that change
    // starts kube-proxy's minSyncPeriod (1 s, as upstream), which the ready change then waits out.
    let listedAt: number | undefined;
    const changed = (async (): Promise<{ ip: string; at: number }> => {
      for await (const ev of admin.resource(ENDPOINTSLICES).watch(NS, {
        labelSelector: 'kubernetes.io/service-name=web',
        ...(rv !== undefined ? { resourceVersion: rv } : {}),
        signal: ac.signal,
      })) {
        if (ev.type !== 'ADDED' && ev.type !== 'MODIFIED') continue;
        const listed = (ev.object.endpoints ?? []).flatMap((e) => e.addresses).filter((a) => !before.has(a));
        if (listed.length > 0) listedAt ??= performance.now();
        const fresh = readyAddresses([ev.object]).filter((a) => !before.has(a));
        if (fresh[0] !== undefined) return { ip: fresh[0], at: performance.now() };
      }
      throw new Error('watch ended');
    })();
    await kubectl.ok(['scale', '-n', NS, 'deployment/web', '--replicas=3']);
    const { ip, at } = await Promise.race([
      changed,
      new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`no new endpoint\n${tails()}`)), 45_000)),
    ]);
    ac.abort();
    const ruleMs: number[] = [];
    const mention = new RegExp(`${ip.replace(/\./g, '\\.')}(?![0-9])`);
    await Promise.all(
      monitors.map(async ({ node, child, lines }) => {
        for (;;) {
          const hit = lines.find((l) => mention.test(l.text));
          // The proxy may see the slice before this test's watch does: that counts as 0.
          if (hit !== undefined) ruleMs.push(Math.max(0, Math.round(hit.at - at)));
          else if (performance.now() - at > 3000 && (await hasRuleFor(node, ip)))
            ruleMs.push(Math.round(performance.now() - at));
          else if (performance.now() - at > 10_000)
            throw new Error(`${node.name} never got a rule for ${ip}`);
          else {
            await new Promise((r2) => setTimeout(r2, 10));
            continue;
          }
          await stopChild(child);
          return;
        }
      }),
    );
    // …and until the new backend answers through the ClusterIP (from node1's own namespace).
    const newPod = (await admin.resource(PODS).list(NS, { labelSelector: 'app=web' })).items.find(
      (p) => p.status?.podIP === ip,
    );
    const n1 = nodes[0];
    assert.ok(newPod !== undefined && n1 !== undefined);
    await assertStaysLocal(n1, clusterIP);
    let answerMs = -1;
    while (performance.now() - at < 10_000) {
      const r = await n1.host.exec([
        'busybox',
        'timeout',
        '2',
        'busybox',
        'wget',
        '-qO-',
        `http://${clusterIP}/`,
      ]);
      if (r.stdout.trim() === newPod.metadata?.name) {
        answerMs = Math.round(performance.now() - at);
        break;
      }
    }
    const gap = listedAt === undefined ? 1000 : Math.round(at - listedAt);
    t.diagnostic(
      `endpoint ${ip}: rules on both nodes after ${ruleMs.join(' / ')} ms, answering after ${answerMs} ms` +
        ` (listed not-ready ${gap} ms before it turned ready)`,
    );
    // The acceptance: within 1 s of the EndpointSlice change. The earlier not-ready listing
    // writes no rule, so it must not hold the ready change back for a minSyncPeriod.
    for (const ms of ruleMs) assert.ok(ms < 1000, `rule took ${ms} ms (allowed 1000 ms)`);
    assert.ok(answerMs >= 0, 'the new backend never answered through the ClusterIP');
  });

  it('resolves a headless Service to each ready pod IP and an ExternalName as a CNAME', async () => {
    const want = readyAddresses(await webSlices());
    assert.equal(want.length, 3);
    const n2 = nodes[1];
    assert.ok(n2 !== undefined);
    await assertStaysLocal(n2, DNS_IP);
    const out = await inPod('client2', ['nslookup', `web-headless.${NS}.svc.cluster.local`]);
    const got = [...out.matchAll(/^Address:\s*(\d+\.\d+\.\d+\.\d+)\s*$/gm)].map((m) => m[1]).sort();
    assert.deepEqual(got, want, out);
    const alias = await inPod('client2', ['nslookup', `web-alias.${NS}.svc.cluster.local`]);
    assert.match(
      alias,
      new RegExp(
        `web-alias\\.${NS}\\.svc\\.cluster\\.local\\s+canonical name = web\\.${NS}\\.svc\\.cluster\\.local`,
      ),
    );
  });

  it('removes everything it made', async () => {
    const ips = new Set((await admin.resource(PODS).list(NS)).items.map((p) => p.status?.podIP ?? ''));
    for (const n of await findPodNetnses(ips)) if (!podNetnses.includes(n)) podNetnses.push(n);
    await kubectl.ok(['delete', 'namespace', NS, '--wait=false']);
    await until(
      'pods gone',
      async () => {
        const l = await admin.resource(PODS).list(NS);
        return l.items.length === 0 ? true : undefined;
      },
      40_000,
    );
    control.abort();
    await Promise.allSettled(controlDone);
    for (const c of children) await stopChild(c);
    for (const n of nodes) cleanupContainerdRoot(nodeContainerdRoot(n.dataDir));
    const netnses = nodes.map((n) => n.host.netns);
    await lan?.remove();
    const bridge = lan?.bridge ?? '';
    lan = undefined;

    const listed = (await execCommand(['ip', 'netns', 'list'])).stdout;
    for (const ns of netnses) assert.ok(!listed.includes(ns), `netns ${ns} left behind`);
    // Pod network namespaces are containerd's bind mounts, removed with each sandbox.
    for (const p of podNetnses) assert.ok(!cniNetnses().has(p), `pod netns ${p} left behind`);
    const links = (await execCommand(['ip', '-o', 'link', 'show'])).stdout;
    assert.ok(!links.includes(bridge) && !links.includes(bridge.replace(/br$/, 'h')), links);
    for (const n of nodes) {
      const root = nodeContainerdRoot(n.dataDir);
      assert.equal(existsSync(root), false, `${root} left behind`);
      assert.deepEqual(pidsMentioning(containerdPaths(root).socket), [], `${n.name}: shims left running`);
    }
    const hostRoutes = (await execCommand(['ip', 'route', 'show'])).stdout;
    assert.ok(!hostRoutes.includes(`${SUBNET}.`), hostRoutes);
    for (const argv of [['iptables-save'], ['nft', 'list', 'ruleset']]) {
      const hostRules = (await execCommand(argv)).stdout;
      assert.ok(!hostRules.includes(`${SUBNET}.`), `a host rule (${argv[0]}) mentions the test LAN`);
    }
  });
});
