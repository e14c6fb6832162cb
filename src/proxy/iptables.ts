// Talking to the kernel's iptables through iptables-restore / iptables-save (never one
// `iptables` call per rule: a transaction is atomic and orders of magnitude faster).
// `ExecIptables` runs the binaries, optionally inside a network namespace (tests and the
// benchmark use a throwaway one); `readKernelState` finds the kts chains and jump rules
// already present; `cleanupKts` removes every jump into a kts chain and every KTS- chain,
// by name, in one transaction, and touches nothing else.

import { spawn } from 'node:child_process';
import { JUMP_RULES, type JumpRule, KTS_CHAIN_PREFIX } from './iptables-rules.js';

/** Which netfilter interface the iptables binaries drive. */
export type IptablesBackend = 'nft' | 'legacy';

/** The two tables kts writes. */
export type IptablesTable = 'nat' | 'filter';

/** The operations the proxier needs from iptables. */
export interface Iptables {
  /** Applies an iptables-restore payload with --noflush (one atomic transaction). */
  restore(payload: string): Promise<void>;
  /** iptables-save output for one table. */
  save(table: IptablesTable): Promise<string>;
}

/** How to run the iptables binaries. */
export interface ExecIptablesOptions {
  /** 'auto' (default) uses the host's `iptables-restore` alternative. */
  backend?: IptablesBackend | 'auto';
  /** Run inside this network namespace (`ip netns exec <name>`). */
  netns?: string;
  /** Seconds to wait for the xtables lock (legacy backend). */
  waitSeconds?: number;
}

/** An iptables-restore/iptables-save failure with the tool's own message. */
export class IptablesError extends Error {
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'IptablesError';
  }
}

/** Runs iptables-restore / iptables-save as child processes. */
export class ExecIptables implements Iptables {
  private readonly suffix: string;

  constructor(private readonly opts: ExecIptablesOptions = {}) {
    const b = opts.backend ?? 'auto';
    this.suffix = b === 'auto' ? '' : `-${b}`;
  }

  restore(payload: string): Promise<void> {
    const args = ['--noflush', '-w', String(this.opts.waitSeconds ?? 5)];
    return this.run(`iptables${this.suffix}-restore`, args, payload).then(() => undefined);
  }

  save(table: IptablesTable): Promise<string> {
    return this.run(`iptables${this.suffix}-save`, ['-t', table]);
  }

  private run(cmd: string, args: string[], input?: string): Promise<string> {
    const [file, argv] =
      this.opts.netns === undefined ? [cmd, args] : ['ip', ['netns', 'exec', this.opts.netns, cmd, ...args]];
    return runCommand(file, argv, input);
  }
}

/** Runs a command, feeding `input` on stdin; resolves stdout, rejects with IptablesError. */
export function runCommand(file: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(new IptablesError(`${file}: ${e.message}`, null, '')));
    child.on('close', (code) => {
      const stderr = Buffer.concat(err).toString('utf8');
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else
        reject(
          new IptablesError(`${[file, ...args].join(' ')} failed (${code}): ${stderr.trim()}`, code, stderr),
        );
    });
    // An early exit closes stdin; the close handler reports the real error.
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
  });
}

/** The backend the host's `iptables` alternative uses, or undefined when iptables is missing. */
export async function detectBackend(): Promise<IptablesBackend | undefined> {
  try {
    const v = await runCommand('iptables', ['--version']);
    return v.includes('legacy') ? 'legacy' : 'nft';
  } catch {
    return undefined;
  }
}

/** One table of iptables-save output. */
export interface SavedTable {
  /** Every chain declared, user-defined or built in. */
  chains: Set<string>;
  /** Built-in chains (those with a policy). */
  builtin: Set<string>;
  /** Every `-A` line, with the chain it belongs to. */
  rules: Array<{ chain: string; line: string }>;
}

/** Parses one table of iptables-save output. */
export function parseSave(text: string): SavedTable {
  const chains = new Set<string>();
  const builtin = new Set<string>();
  const rules: Array<{ chain: string; line: string }> = [];
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (line.startsWith(':')) {
      const [name, policy] = line.slice(1).split(' ');
      if (name === undefined) continue;
      chains.add(name);
      if (policy !== undefined && policy !== '-') builtin.add(name);
    } else if (line.startsWith('-A ')) {
      const chain = line.split(' ')[1] ?? '';
      rules.push({ chain, line });
    }
  }
  return { chains, builtin, rules };
}

function jumpTarget(line: string): string | undefined {
  const m = / -[jg] (\S+)/.exec(line);
  return m?.[1];
}

function commentOf(line: string): string | undefined {
  const m = / --comment (?:"([^"]*)"|(\S+))/.exec(line);
  return m?.[1] ?? m?.[2];
}

/** The kts chains present in the kernel and the jump rules still to be inserted. */
export interface KernelState {
  existing: { nat: Set<string>; filter: Set<string> };
  missingJumps: JumpRule[];
}

/** Reads both tables and reports kts chains and missing jump rules. */
export async function readKernelState(ipt: Iptables): Promise<KernelState> {
  const [nat, filter] = await Promise.all([ipt.save('nat'), ipt.save('filter')]);
  const parsed = { nat: parseSave(nat), filter: parseSave(filter) };
  const kts = (t: SavedTable): Set<string> =>
    new Set([...t.chains].filter((c) => c.startsWith(KTS_CHAIN_PREFIX)));
  const missingJumps = JUMP_RULES.filter(
    (j) =>
      !parsed[j.table].rules.some(
        (r) => r.chain === j.chain && jumpTarget(r.line) === j.target && commentOf(r.line) === j.comment,
      ),
  );
  return { existing: { nat: kts(parsed.nat), filter: kts(parsed.filter) }, missingJumps };
}

/** The transaction that removes every kts chain and every rule jumping into one. */
export function cleanupPayload(tables: Partial<Record<IptablesTable, SavedTable>>): {
  payload: string;
  chains: number;
  rules: number;
} {
  const parts: string[] = [];
  let chains = 0;
  let rules = 0;
  for (const table of ['filter', 'nat'] as const) {
    const t = tables[table];
    if (t === undefined) continue;
    const ours = [...t.chains].filter((c) => c.startsWith(KTS_CHAIN_PREFIX));
    const jumps = t.rules.filter(
      (r) => !r.chain.startsWith(KTS_CHAIN_PREFIX) && (jumpTarget(r.line) ?? '').startsWith(KTS_CHAIN_PREFIX),
    );
    if (ours.length === 0 && jumps.length === 0) continue;
    parts.push(`*${table}`);
    // Declaring a chain flushes it, which drops every reference between kts chains.
    for (const c of ours) parts.push(`:${c} - [0:0]`);
    for (const r of jumps) parts.push(`-D${r.line.slice(2)}`);
    for (const c of ours) parts.push(`-X ${c}`);
    parts.push('COMMIT');
    chains += ours.length;
    rules += jumps.length;
  }
  return { payload: parts.length === 0 ? '' : `${parts.join('\n')}\n`, chains, rules };
}

/** Removes every kts chain and jump rule (kube-proxy --cleanup); returns what was removed. */
export async function cleanupKts(ipt: Iptables): Promise<{ chains: number; rules: number }> {
  const [nat, filter] = await Promise.all([ipt.save('nat'), ipt.save('filter')]);
  const { payload, chains, rules } = cleanupPayload({ nat: parseSave(nat), filter: parseSave(filter) });
  if (payload !== '') await ipt.restore(payload);
  return { chains, rules };
}
