// ClusterRole aggregation, as upstream's clusterrole-aggregation controller does it but run
// inside the API server: a ClusterRole with an aggregationRule gets, as its rules, the union
// of the rules of every other ClusterRole its selectors match (roles in name order, rules in
// order, duplicates dropped). Any change to a ClusterRole triggers a pass over the
// aggregated roles; because `edit` aggregates `view`, passes repeat until nothing changes.
import type { ClusterRole, PolicyRule } from '../../../api/generated/types/rbac-v1.js';
import { labelSelectorAsSelector } from '../../../machinery/labels/label-selector.js';
import { isConflict, isNotFound } from '../../../machinery/status-error.js';
import { jsonEqual, type KObject } from '../../registry/object.js';
import type { Store, WriteOptions } from '../../registry/store.js';
import type { StoreRegistry } from '../../stores.js';
import { CacheFollower } from './cache-follower.js';

/** The field manager of aggregation writes (upstream's controller name). */
export const AGGREGATION_MANAGER = 'clusterrole-aggregation-controller';

/** The rules an aggregated role should hold, given every ClusterRole. */
export function aggregatedRules(role: ClusterRole, all: readonly ClusterRole[]): PolicyRule[] | undefined {
  const selectors = role.aggregationRule?.clusterRoleSelectors;
  if (!role.aggregationRule) return undefined;
  const sorted = [...all].sort((a, b) => cmp(a.metadata?.name ?? '', b.metadata?.name ?? ''));
  const out: PolicyRule[] = [];
  for (const ls of selectors ?? []) {
    let sel: ReturnType<typeof labelSelectorAsSelector>;
    try {
      sel = labelSelectorAsSelector(ls);
    } catch {
      continue;
    }
    for (const other of sorted) {
      if (other.metadata?.name === role.metadata?.name) continue;
      if (!sel.matches(other.metadata?.labels)) continue;
      for (const r of other.rules ?? []) if (!out.some((x) => jsonEqual(x, r))) out.push(r);
    }
  }
  return out;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function wo(): WriteOptions {
  return { dryRun: false, fieldManager: AGGREGATION_MANAGER, subresource: '', warnings: [] };
}

/** One aggregation pass over the given ClusterRoles; returns the names it rewrote. */
export async function aggregateOnce(store: Store, all: readonly ClusterRole[]): Promise<string[]> {
  const changed: string[] = [];
  for (const role of all) {
    const want = aggregatedRules(role, all);
    if (want === undefined || jsonEqual(want, role.rules ?? [])) continue;
    const name = role.metadata?.name ?? '';
    try {
      // Without createIfMissing the Store answers NotFound before calling mutate.
      await store.guaranteedUpdate('', name, wo(), (cur: KObject | undefined) => ({ ...cur, rules: want }));
      changed.push(name);
    } catch (e) {
      // A role deleted or rewritten meanwhile is picked up by the pass its event triggers.
      if (!isNotFound(e) && !isConflict(e)) throw e;
    }
  }
  return changed;
}

/** Keeps aggregated ClusterRoles up to date while the server runs. */
export class ClusterRoleAggregator {
  private readonly store: Store;
  private readonly follower: CacheFollower;
  private running: Promise<void> | undefined;
  private dirty = false;
  private closed = false;

  constructor(stores: StoreRegistry) {
    this.store = stores.byName('rbac.authorization.k8s.io', 'clusterroles');
    this.follower = new CacheFollower(this.store, {
      reset: () => this.kick(),
      event: () => this.kick(),
    });
  }

  /** Starts following ClusterRoles and runs passes until aggregated roles are current. */
  async start(): Promise<void> {
    await this.follower.start();
    this.kick();
    await this.idle();
  }

  /** Runs passes until a pass changes nothing (bounded, for chains like admin → edit → view). */
  async settle(): Promise<void> {
    for (let i = 0; i < 8 && !this.closed; i++) {
      await this.follower.synced();
      const all = this.store.cache.list(this.store.prefix).map((e) => e.obj as ClusterRole);
      const changed = await aggregateOnce(this.store, all);
      if (changed.length === 0) return;
    }
  }

  private kick(): void {
    if (this.closed) return;
    if (this.running) {
      this.dirty = true;
      return;
    }
    this.running = (async () => {
      do {
        this.dirty = false;
        try {
          await this.settle();
        } catch {
          // Storage trouble: the next ClusterRole event retries.
        }
      } while (this.dirty && !this.closed);
    })().finally(() => {
      this.running = undefined;
    });
  }

  /** Resolves when no pass is running. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Stops following. */
  close(): void {
    this.closed = true;
    this.follower.close();
  }
}

/** Starts the in-server aggregation reconciler. */
export async function startClusterRoleAggregation(stores: StoreRegistry): Promise<ClusterRoleAggregator> {
  const a = new ClusterRoleAggregator(stores);
  await a.start();
  return a;
}
