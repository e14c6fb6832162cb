import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Node } from '../api/generated/types/core-v1.js';
import type { CommandOptions, CommandResult, CommandRunner } from './host-command.js';
import {
  type HostGwRoute,
  RouteSync,
  desiredHostGwRoutes,
  diffRoutes,
  setupNodeNetwork,
} from './node-routes.js';

function node(name: string, podCIDR?: string, ...addresses: [string, string][]): Node {
  const n: Node = {
    metadata: { name },
    status: { addresses: addresses.map(([type, address]) => ({ type, address })) },
  };
  if (podCIDR !== undefined) n.spec = { podCIDR };
  return n;
}

/** A fake kernel: records commands, keeps a route table for `ip route` and answers the rest. */
function fakeKernel(routes: HostGwRoute[] = []): {
  run: CommandRunner;
  log: string[];
  routes: HostGwRoute[];
} {
  const state = { routes: [...routes], log: [] as string[] };
  const ok = (stdout = ''): CommandResult => ({ code: 0, stdout, stderr: '' });
  const run: CommandRunner = async (argv: readonly string[], opts?: CommandOptions) => {
    const args = argv[0] === 'ip' && argv[1] === '-n' ? argv.slice(3) : argv.slice(1);
    state.log.push(`${opts?.netns ?? (argv[1] === '-n' ? argv[2] : '')}|${argv[0]} ${args.join(' ')}`);
    if (argv[0] !== 'ip') return ok(argv[0] === 'iptables-save' ? '' : '');
    const cmd = args.join(' ');
    if (cmd.startsWith('-j route show proto 242')) {
      return ok(JSON.stringify(state.routes.map((r) => ({ dst: r.dst, gateway: r.via, dev: 'lan0' }))));
    }
    if (cmd.startsWith('-j -d link show')) return ok('[]');
    const m = /^route (replace|del) (\S+) via (\S+)/.exec(cmd);
    if (m !== null) {
      const [, verb, dst = '', via = ''] = m;
      if (via === '192.0.2.99') return { code: 2, stdout: '', stderr: 'Error: Nexthop has invalid gateway.' };
      state.routes = state.routes.filter((r) => r.dst !== dst);
      if (verb === 'replace') state.routes.push({ dst, via });
    }
    return ok();
  };
  return {
    run,
    log: state.log,
    get routes() {
      return state.routes;
    },
  };
}

describe('node routes', () => {
  it('wants every other node’s podCIDR via its InternalIP, skipping what cannot be routed', () => {
    const nodes = [
      node('self', '10.42.1.0/24', ['InternalIP', '192.168.1.1']),
      node('b', '10.42.2.0/24', ['Hostname', 'b'], ['InternalIP', 'fd00::2'], ['InternalIP', '192.168.1.2']),
      node('c', '10.42.3.7/24', ['ExternalIP', '1.2.3.4'], ['InternalIP', '192.168.1.3']),
      node('no-cidr', undefined, ['InternalIP', '192.168.1.4']),
      node('no-ip', '10.42.5.0/24', ['ExternalIP', '1.2.3.5']),
      node('outside', '10.99.0.0/24', ['InternalIP', '192.168.1.6']),
      node('overlaps-self', '10.42.1.128/25', ['InternalIP', '192.168.1.7']),
      node('ip-in-cluster', '10.42.8.0/24', ['InternalIP', '10.42.9.9']),
      node('too-wide', '10.0.0.0/8', ['InternalIP', '192.168.1.9']),
    ];
    assert.deepEqual(desiredHostGwRoutes(nodes, 'self'), [
      { dst: '10.42.2.0/24', via: '192.168.1.2' },
      { dst: '10.42.3.0/24', via: '192.168.1.3' },
    ]);
  });

  it('diffs current against desired routes', () => {
    const cases: {
      name: string;
      current: HostGwRoute[];
      desired: HostGwRoute[];
      replace: string[];
      remove: string[];
    }[] = [
      { name: 'empty', current: [], desired: [], replace: [], remove: [] },
      {
        name: 'new node',
        current: [],
        desired: [{ dst: '10.42.2.0/24', via: '192.168.1.2' }],
        replace: ['10.42.2.0/24'],
        remove: [],
      },
      {
        name: 'unchanged',
        current: [{ dst: '10.42.2.0/24', via: '192.168.1.2' }],
        desired: [{ dst: '10.42.2.0/24', via: '192.168.1.2' }],
        replace: [],
        remove: [],
      },
      {
        name: 'node moved address',
        current: [{ dst: '10.42.2.0/24', via: '192.168.1.2' }],
        desired: [{ dst: '10.42.2.0/24', via: '192.168.1.20' }],
        replace: ['10.42.2.0/24'],
        remove: [],
      },
      {
        name: 'node gone',
        current: [
          { dst: '10.42.2.0/24', via: '192.168.1.2' },
          { dst: '10.42.3.0/24', via: '192.168.1.3' },
        ],
        desired: [{ dst: '10.42.3.0/24', via: '192.168.1.3' }],
        replace: [],
        remove: ['10.42.2.0/24'],
      },
    ];
    for (const c of cases) {
      const d = diffRoutes(c.current, c.desired);
      assert.deepEqual(
        [d.replace.map((r) => r.dst), d.remove.map((r) => r.dst)],
        [c.replace, c.remove],
        c.name,
      );
    }
  });

  it('RouteSync applies only the difference, reports failures and removes its routes on stop', async () => {
    const k = fakeKernel([
      { dst: '10.42.2.0/24', via: '192.168.1.2' },
      { dst: '10.42.9.0/24', via: '192.168.1.9' },
    ]);
    const sync = new RouteSync({ nodeName: 'self', netns: 'kts-test-x', run: k.run });
    const r = await sync.sync([
      node('self', '10.42.1.0/24', ['InternalIP', '192.168.1.1']),
      node('b', '10.42.2.0/24', ['InternalIP', '192.168.1.2']),
      node('c', '10.42.3.0/24', ['InternalIP', '192.168.1.3']),
      node('bad', '10.42.4.0/24', ['InternalIP', '192.0.2.99']),
    ]);
    assert.deepEqual(r.applied, {
      replace: [{ dst: '10.42.3.0/24', via: '192.168.1.3' }],
      remove: [{ dst: '10.42.9.0/24', via: '192.168.1.9' }],
    });
    assert.equal(r.errors.length, 1);
    assert.match(r.errors[0]?.message ?? '', /Nexthop has invalid gateway/);
    assert.deepEqual(
      k.log.filter((l) => l.includes('route del') || l.includes('route replace')),
      [
        'kts-test-x|ip route del 10.42.9.0/24 via 192.168.1.9 proto 242',
        'kts-test-x|ip route replace 10.42.3.0/24 via 192.168.1.3 proto 242',
        'kts-test-x|ip route replace 10.42.4.0/24 via 192.0.2.99 proto 242',
      ],
    );
    const stopped = await sync.stop();
    assert.equal(stopped.applied.remove.length, 2);
    assert.deepEqual(k.routes, []);
  });

  it('setupNodeNetwork makes the bridge and routes both CIDRs whole to it', async () => {
    const k = fakeKernel();
    const state = await setupNodeNetwork({ podCIDR: '10.42.1.0/24', run: k.run, masquerade: false });
    assert.deepEqual(state, {
      bridge: 'kts0',
      gateway: '10.42.1.1',
      bridgeRoutes: ['10.42.0.0/16', '10.43.0.0/16'],
    });
    assert.deepEqual(k.log, [
      '|ip -j -d link show',
      '|ip link add kts0 type bridge',
      '|ip link set kts0 up',
      '|sysctl -q -w net.ipv4.ip_forward=1',
      '|ip route replace 10.42.0.0/16 dev kts0 proto 242',
      '|ip route replace 10.43.0.0/16 dev kts0 proto 242',
      '|ip addr replace 10.42.1.1/24 dev kts0',
    ]);
    await assert.rejects(
      setupNodeNetwork({ podCIDR: '10.50.1.0/24', run: k.run }),
      /not inside the cluster CIDR/,
    );
  });
});
