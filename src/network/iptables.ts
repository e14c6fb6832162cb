// The pod network's own iptables rules, and the reading of what CNI plugins left. Rules are
// written with `iptables-restore --noflush` (one atomic transaction per change) and read
// back with `iptables-save`, whose rule text `-D` accepts verbatim, so removal is always by
// exact rule and never by position.
//
// kts's pod-network chains are prefixed `KTSNET-`, not `KTS-`: kube-proxy's `--cleanup`
// removes every `KTS-` chain, and cleaning up services must not cut pods off the world.

import { type CommandRunner, execCommand, mustRun } from './host-command.js';

/** Prefix of every chain the pod network owns. */
export const KTSNET_CHAIN_PREFIX = 'KTSNET-';

/** nat chain masquerading pod traffic that leaves the cluster CIDR. */
export const KTSNET_MASQ_CHAIN = 'KTSNET-MASQ';

/** filter chain accepting forwarded pod traffic even when FORWARD's policy is DROP. */
export const KTSNET_FORWARD_CHAIN = 'KTSNET-FWD';

/** The tables the pod network reads and writes. */
export type Table = 'nat' | 'filter';

/** One table as `iptables-save` prints it: chains in order with their rule specs. */
export interface SavedTable {
  /** Chain name → the rule specs after `-A <chain> `, in order. */
  chains: Map<string, string[]>;
  /** Built-in chains (those with a policy other than `-`). */
  builtins: Set<string>;
}

/** Parses one table of `iptables-save -t <table>` output. */
export function parseIptablesSave(text: string, table: Table): SavedTable {
  const saved: SavedTable = { chains: new Map(), builtins: new Set() };
  let inTable = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) {
      inTable = line.slice(1).trim() === table;
      continue;
    }
    if (!inTable) continue;
    if (line.startsWith(':')) {
      const [name, policy] = line.slice(1).split(' ');
      if (name === undefined) continue;
      saved.chains.set(name, saved.chains.get(name) ?? []);
      if (policy !== undefined && policy !== '-') saved.builtins.add(name);
    } else if (line.startsWith('-A ')) {
      const rest = line.slice(3);
      const sp = rest.indexOf(' ');
      const chain = sp < 0 ? rest : rest.slice(0, sp);
      const spec = sp < 0 ? '' : rest.slice(sp + 1);
      const rules = saved.chains.get(chain) ?? [];
      rules.push(spec);
      saved.chains.set(chain, rules);
    }
  }
  return saved;
}

/** The chain a rule spec jumps to (`-j X` or `-g X`), if any. */
export function ruleTarget(spec: string): string | undefined {
  const m = /(?:^|\s)-[jg]\s+(\S+)/.exec(spec);
  return m?.[1];
}

/** The text of a rule's `--comment`, unquoted, if any. */
export function ruleComment(spec: string): string | undefined {
  const m = /--comment\s+("(?:[^"\\]|\\.)*"|\S+)/.exec(spec);
  const raw = m?.[1];
  if (raw === undefined) return undefined;
  return raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
}

/** Runs iptables-save / iptables-restore, optionally inside a network namespace. */
export class HostIptables {
  constructor(
    private readonly netns?: string,
    private readonly run: CommandRunner = execCommand,
  ) {}

  /** One table, parsed. */
  async save(table: Table): Promise<SavedTable> {
    const out = await mustRun(this.run, ['iptables-save', '-t', table], { netns: this.netns });
    return parseIptablesSave(out, table);
  }

  /** Applies a payload atomically without flushing what it does not name. */
  async restore(payload: string): Promise<void> {
    if (payload.trim() === '') return;
    await mustRun(this.run, ['iptables-restore', '--noflush', '-w', '5'], {
      netns: this.netns,
      input: payload,
    });
  }
}

/** The jump from a built-in chain into a kts chain, with a comment that names its purpose. */
export interface KtsJump {
  table: Table;
  from: string;
  to: string;
  comment: string;
}

/** The jumps the pod network installs. */
export const KTSNET_JUMPS: readonly KtsJump[] = [
  { table: 'nat', from: 'POSTROUTING', to: KTSNET_MASQ_CHAIN, comment: 'kts pod network masquerade' },
  { table: 'filter', from: 'FORWARD', to: KTSNET_FORWARD_CHAIN, comment: 'kts pod network forwarding' },
];

function jumpSpec(j: KtsJump): string {
  return `-m comment --comment "${j.comment}" -j ${j.to}`;
}

/**
 * The rules of the pod network's chains: pod traffic to the cluster CIDR and to multicast
 * keeps its source; everything else from a pod leaves masqueraded as the node.
 */
export function podNetworkRules(clusterCIDR: string): Record<Table, { chain: string; rules: string[] }> {
  return {
    nat: {
      chain: KTSNET_MASQ_CHAIN,
      rules: [
        `-s ${clusterCIDR} -d ${clusterCIDR} -m comment --comment "kts pod to pod: no NAT" -j RETURN`,
        `-s ${clusterCIDR} -d 224.0.0.0/4 -m comment --comment "kts pod multicast: no NAT" -j RETURN`,
        `-s ${clusterCIDR} -m comment --comment "kts pod leaving the cluster" -j MASQUERADE`,
      ],
    },
    filter: {
      chain: KTSNET_FORWARD_CHAIN,
      rules: [
        `-s ${clusterCIDR} -m comment --comment "kts pod traffic out" -j ACCEPT`,
        `-d ${clusterCIDR} -m comment --comment "kts pod traffic in" -j ACCEPT`,
      ],
    },
  };
}

/** The restore payload that (re)writes the pod network's chains and adds missing jumps. */
export function podNetworkRestorePayload(clusterCIDR: string, current: Record<Table, SavedTable>): string {
  const rules = podNetworkRules(clusterCIDR);
  const out: string[] = [];
  for (const table of ['nat', 'filter'] as const) {
    const { chain, rules: specs } = rules[table];
    out.push(`*${table}`, `:${chain} - [0:0]`);
    for (const spec of specs) out.push(`-A ${chain} ${spec}`);
    for (const j of KTSNET_JUMPS.filter((x) => x.table === table)) {
      const present = (current[table].chains.get(j.from) ?? []).some((s) => ruleTarget(s) === j.to);
      if (!present) out.push(`-A ${j.from} ${jumpSpec(j)}`);
    }
    out.push('COMMIT');
  }
  return `${out.join('\n')}\n`;
}

/** Installs (or refreshes) the pod network's masquerade and forward rules. */
export async function ensurePodNetworkRules(ipt: HostIptables, clusterCIDR: string): Promise<void> {
  const current = { nat: await ipt.save('nat'), filter: await ipt.save('filter') };
  await ipt.restore(podNetworkRestorePayload(clusterCIDR, current));
}

/**
 * Deletions that remove chains and every rule jumping into them: `-D` of each jump, then
 * `-F` and `-X` of each chain, in one table's payload (without `*table`/COMMIT).
 */
export function deleteChainsPayload(saved: SavedTable, chains: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const [chain, specs] of saved.chains) {
    if (chains.has(chain)) continue;
    for (const spec of specs) {
      const t = ruleTarget(spec);
      if (t !== undefined && chains.has(t)) out.push(`-D ${chain} ${spec}`);
    }
  }
  const present = [...chains].filter((c) => saved.chains.has(c)).sort();
  for (const chain of present) out.push(`-F ${chain}`);
  for (const chain of present) out.push(`-X ${chain}`);
  return out;
}
