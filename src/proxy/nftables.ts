// kts's proxier in nftables mode (upstream kube-proxy --proxy-mode nftables): the kernel
// side lives in one table, `ip kts-proxy`, written with `nft -f -` in one atomic transaction
// per sync. `ExecNft` runs the binary (optionally inside a network namespace, as tests and
// the benchmark do); `NftablesEngine` is the Proxier's data plane: a full sync replaces the
// table whole, a partial sync sends only the difference of the changed Services' chains and
// of their elements in the shared verdict maps (usually a handful of commands); cleanup
// deletes the table and touches nothing else.

import { runCommand } from './iptables.js';
import type { RuleConfig } from './iptables-rules.js';
import {
  NFT_FAMILY,
  NFT_TABLE,
  type NftServicePortRules,
  nftServicePortRules,
  renderNftFull,
  renderNftPartial,
} from './nftables-rules.js';
import type { EngineSyncResult, ProxyView, SyncEngine } from './proxier.js';

/** The operations the nftables engine needs from `nft`. */
export interface Nft {
  /** Applies an `nft -f` script as one transaction. */
  apply(script: string): Promise<void>;
  /** True when the kts-proxy table exists. */
  hasTable(): Promise<boolean>;
}

/** How to run `nft`. */
export interface ExecNftOptions {
  /** Run inside this network namespace (`ip netns exec <name>`). */
  netns?: string;
  /** The binary (default `nft` on PATH). */
  binary?: string;
}

/** Runs `nft` as a child process. */
export class ExecNft implements Nft {
  constructor(private readonly opts: ExecNftOptions = {}) {}

  apply(script: string): Promise<void> {
    return this.run(['-f', '-'], script).then(() => undefined);
  }

  async hasTable(): Promise<boolean> {
    const out = await this.run(['list', 'tables', NFT_FAMILY]);
    return out.split('\n').some((l) => l.trim() === `table ${NFT_FAMILY} ${NFT_TABLE}`);
  }

  /** Runs nft with `args` (e.g. `list table ip kts-proxy`), resolving its stdout. */
  run(args: string[], input?: string): Promise<string> {
    const bin = this.opts.binary ?? 'nft';
    const [file, argv] =
      this.opts.netns === undefined ? [bin, args] : ['ip', ['netns', 'exec', this.opts.netns, bin, ...args]];
    return runCommand(file, argv, input);
  }
}

/**
 * True when nftables can be used here: the `nft` binary runs and the kernel accepts a
 * (checked, never committed) table of this family.
 */
export async function nftAvailable(opts: ExecNftOptions = {}): Promise<boolean> {
  try {
    await new ExecNft(opts).run(['-c', '-f', '-'], `add table ${NFT_FAMILY} ${NFT_TABLE}\n`);
    return true;
  } catch {
    return false;
  }
}

/** Deletes the kts-proxy table if present; reports what went (as `cleanupKts` does). */
export async function cleanupNftables(nft: Nft): Promise<{ chains: number; rules: number }> {
  if (!(await nft.hasTable())) return { chains: 0, rules: 0 };
  await nft.apply(`delete table ${NFT_FAMILY} ${NFT_TABLE}\n`);
  return { chains: 1, rules: 0 };
}

/** The nftables data plane of the Proxier. */
export class NftablesEngine implements SyncEngine {
  readonly mode = 'nftables';
  /** Per Service: the rules of each of its ports as last applied. */
  private fragments = new Map<string, NftServicePortRules[]>();
  /** Owner counts of shared elements as last applied (see NftRefs). */
  private refs = new Map<string, number>();
  private synced = false;

  constructor(
    private readonly nft: Nft,
    private readonly cfg: RuleConfig,
  ) {}

  reset(): void {
    this.synced = false;
  }

  cleanup(): Promise<{ chains: number; rules: number }> {
    return cleanupNftables(this.nft);
  }

  private generate(view: ProxyView, key: string): NftServicePortRules[] | undefined {
    const ports = view.servicePorts(key);
    if (ports.length === 0) return undefined;
    return ports.map((p) => nftServicePortRules(p.info, p.endpoints, this.cfg));
  }

  async sync(view: ProxyView, full: boolean, changed: ReadonlySet<string>): Promise<EngineSyncResult> {
    const t0 = performance.now();
    let script: string;
    let rewritten: number;
    let deleted: number;
    let refs: Map<string, number>;
    let next: Map<string, NftServicePortRules[]>;
    if (full || !this.synced) {
      next = new Map();
      for (const key of view.serviceKeys()) {
        const f = this.generate(view, key);
        if (f !== undefined) next.set(key, f);
      }
      const ports = (function* () {
        for (const f of next.values()) yield* f;
      })();
      ({ script, rewritten, deleted, refs } = renderNftFull(ports, this.cfg));
    } else {
      next = this.fragments;
      const changes: Array<{
        previous: NftServicePortRules[] | undefined;
        next: NftServicePortRules[] | undefined;
      }> = [];
      const updates = new Map<string, NftServicePortRules[] | undefined>();
      for (const key of changed) {
        const f = this.generate(view, key);
        changes.push({ previous: this.fragments.get(key), next: f });
        updates.set(key, f);
      }
      let refChanges: Map<string, number>;
      ({ script, rewritten, deleted, refs: refChanges } = renderNftPartial(changes, this.refs));
      refs = this.refs;
      if (refChanges.size > 0) {
        // Copied so that a failed transaction leaves the applied counts alone.
        refs = new Map(this.refs);
        for (const [id, n] of refChanges) {
          if (n === 0) refs.delete(id);
          else refs.set(id, n);
        }
      }
      // Applied below only once nft has accepted the transaction.
      next = new Map(this.fragments);
      for (const [key, f] of updates) {
        if (f === undefined) next.delete(key);
        else next.set(key, f);
      }
    }
    const t1 = performance.now();
    if (script !== '') await this.nft.apply(script);
    const t2 = performance.now();
    this.fragments = next;
    this.refs = refs;
    this.synced = true;
    return {
      rewrittenChains: rewritten,
      deletedChains: deleted,
      payloadBytes: script.length,
      generateMs: t1 - t0,
      applyMs: t2 - t1,
    };
  }
}
