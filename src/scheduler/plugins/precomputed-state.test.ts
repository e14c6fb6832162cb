// InterPodAffinity and PodTopologySpread precompute per-cycle maps from per-node counts that
// NodeInfo memoizes by generation. These tests hold them to a brute-force reference on
// random small clusters, and check that the memo never serves a stale count after pods,
// node labels or namespace labels change between cycles (the cache → snapshot path).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type {
  Node,
  Pod,
  PodAffinityTerm,
  TopologySpreadConstraint,
  WeightedPodAffinityTerm,
} from '../../api/generated/types/core-v1.js';
import { Cache } from '../framework/cache.js';
import { CycleState } from '../framework/cycle-state.js';
import type { Plugin } from '../framework/interfaces.js';
import { isFilter, isPreFilter } from '../framework/interfaces.js';
import { newNodeInfo, type NodeInfo } from '../framework/node-info.js';
import { Code, Status } from '../framework/status.js';
import { ClusterListers } from '../framework/listers.js';
import { type AffinityTerm, affinityTermMatches, PodInfo } from '../framework/pod-info.js';
import { Snapshot } from '../framework/snapshot.js';
import { makeNode, makePod, runFilter, runScore, testHandle } from '../testing.js';
import { newInterPodAffinity } from './inter-pod-affinity/inter-pod-affinity.js';
import { newPodTopologySpread } from './pod-topology-spread/pod-topology-spread.js';

const HOST = 'kubernetes.io/hostname';
const ZONE = 'topology.kubernetes.io/zone';
const AFF = "UnschedulableAndUnresolvable: node(s) didn't match pod affinity rules";
const ANTI = "Unschedulable: node(s) didn't match pod anti-affinity rules";
const EXISTING = "Unschedulable: node(s) didn't satisfy existing pods anti-affinity rules";
const SPREAD = "Unschedulable: node(s) didn't match pod topology spread constraints";
const SPREAD_LABEL = `UnschedulableAndUnresolvable: node(s) didn't match pod topology spread constraints (missing required label)`;

/** A small deterministic PRNG (mulberry32), so failures reproduce by seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const APPS = ['a', 'b', 'c'];
const NAMESPACES = ['ns1', 'ns2'];

class Gen {
  private n = 0;
  constructor(readonly r: () => number) {}
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.r() * xs.length)] as T;
  }
  chance(p: number): boolean {
    return this.r() < p;
  }
  term(): PodAffinityTerm {
    const t: PodAffinityTerm = {
      labelSelector: { matchLabels: { app: this.pick(APPS) } },
      topologyKey: this.pick([HOST, ZONE, ZONE]),
    };
    const k = this.r();
    if (k < 0.15) t.namespaceSelector = { matchLabels: { team: 'x' } };
    else if (k < 0.25) t.namespaces = [this.pick(NAMESPACES)];
    return t;
  }
  terms(max: number): PodAffinityTerm[] {
    return Array.from({ length: Math.floor(this.r() * (max + 1)) }, () => this.term());
  }
  weighted(max: number): WeightedPodAffinityTerm[] {
    return this.terms(max).map((podAffinityTerm) => ({
      weight: 1 + Math.floor(this.r() * 100),
      podAffinityTerm,
    }));
  }
  nodes(count: number): Node[] {
    return Array.from({ length: count }, (_, i) => {
      const labels: Record<string, string> = {};
      if (!this.chance(0.1)) labels[ZONE] = `z${Math.floor(this.r() * 3)}`;
      return makeNode(`n${i}`, { labels });
    });
  }
  /** A pod with random labels and (with the given probability) random affinity terms. */
  pod(node: string | undefined, affinityChance: number): Pod {
    this.n++;
    const p = makePod(`p${this.n}`, {
      namespace: this.pick(NAMESPACES),
      labels: { app: this.pick(APPS) },
      ...(node !== undefined ? { node } : {}),
    });
    if (this.chance(affinityChance)) {
      const spec = p.spec as NonNullable<Pod['spec']>;
      spec.affinity = {
        podAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: this.chance(0.4) ? this.terms(2) : [],
          preferredDuringSchedulingIgnoredDuringExecution: this.weighted(2),
        },
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: this.terms(2),
          preferredDuringSchedulingIgnoredDuringExecution: this.weighted(2),
        },
      };
    }
    return p;
  }
  spreadPod(): Pod {
    const p = this.pod(undefined, 0);
    const cs: TopologySpreadConstraint[] = [];
    const n = 1 + Math.floor(this.r() * 2);
    for (let i = 0; i < n; i++) {
      cs.push({
        maxSkew: 1 + Math.floor(this.r() * 2),
        topologyKey: this.pick([HOST, ZONE]),
        whenUnsatisfiable: this.pick(['DoNotSchedule', 'ScheduleAnyway']),
        labelSelector: { matchLabels: { app: this.pick(APPS) } },
        ...(this.chance(0.2) ? { minDomains: 4 } : {}),
        // Honoring taints makes the counted nodes depend on the pod: the per-node scan path.
        ...(this.chance(0.2) ? { nodeTaintsPolicy: 'Honor' } : {}),
      });
    }
    (p.spec as NonNullable<Pod['spec']>).topologySpreadConstraints = cs;
    return p;
  }
}

// ---- brute-force references (every pair of pods, no precomputed maps) -------------------

interface Placed {
  pi: PodInfo;
  node: Node;
}

function placed(nodes: readonly Node[], pods: readonly Pod[]): Placed[] {
  const byName = new Map(nodes.map((n) => [n.metadata?.name ?? '', n]));
  const out: Placed[] = [];
  for (const p of pods) {
    const node = byName.get(p.spec?.nodeName ?? '');
    if (node !== undefined) out.push({ pi: new PodInfo(p), node });
  }
  return out;
}

function sameDomain(a: Node, b: Node, key: string): boolean {
  const va = a.metadata?.labels?.[key];
  return va !== undefined && va === b.metadata?.labels?.[key];
}

function refAffinityFilter(
  nodes: readonly Node[],
  pods: readonly Pod[],
  pod: Pod,
  listers: ClusterListers,
): Map<string, string> {
  const me = new PodInfo(pod);
  const ns = (p: Pod): Record<string, string> | undefined =>
    listers.namespaceLabels(p.metadata?.namespace ?? '');
  const all = placed(nodes, pods);
  const matchesAllAff = (target: Pod): boolean =>
    me.requiredAffinityTerms.length > 0 &&
    me.requiredAffinityTerms.every((t) => affinityTermMatches(t, target, ns(target)));
  // Upstream counts a matching pod only where its node has the term's topology key.
  const anyAffMatch = all.some(
    (x) =>
      matchesAllAff(x.pi.pod) &&
      me.requiredAffinityTerms.some((t) => x.node.metadata?.labels?.[t.topologyKey] !== undefined),
  );
  const out = new Map<string, string>();
  for (const cand of nodes) {
    const labels = cand.metadata?.labels ?? {};
    let verdict = '';
    const aff = me.requiredAffinityTerms;
    if (aff.length > 0) {
      if (aff.some((t) => labels[t.topologyKey] === undefined)) verdict = AFF;
      else {
        const ok = aff.every((t) =>
          all.some((x) => sameDomain(x.node, cand, t.topologyKey) && matchesAllAff(x.pi.pod)),
        );
        if (!ok && !(!anyAffMatch && matchesAllAff(pod))) verdict = AFF;
      }
    }
    if (verdict === '') {
      const hit = me.requiredAntiAffinityTerms.some((t) =>
        all.some(
          (x) => sameDomain(x.node, cand, t.topologyKey) && affinityTermMatches(t, x.pi.pod, ns(x.pi.pod)),
        ),
      );
      if (hit) verdict = ANTI;
    }
    if (verdict === '') {
      const hit = all.some((x) =>
        x.pi.requiredAntiAffinityTerms.some(
          (t: AffinityTerm) =>
            sameDomain(x.node, cand, t.topologyKey) && affinityTermMatches(t, pod, ns(pod)),
        ),
      );
      if (hit) verdict = EXISTING;
    }
    out.set(cand.metadata?.name ?? '', verdict);
  }
  return out;
}

function refSpreadFilter(nodes: readonly Node[], pods: readonly Pod[], pod: Pod): Map<string, string> {
  const cs = (pod.spec?.topologySpreadConstraints ?? []).filter(
    (c) => c.whenUnsatisfiable === 'DoNotSchedule',
  );
  const out = new Map<string, string>();
  const all = placed(nodes, pods);
  const ns = pod.metadata?.namespace ?? '';
  const eligible = nodes.filter((n) => cs.every((c) => n.metadata?.labels?.[c.topologyKey] !== undefined));
  const counts = cs.map((c) => {
    const app = c.labelSelector?.matchLabels?.app;
    const m = new Map<string, number>();
    for (const n of eligible) {
      const v = n.metadata?.labels?.[c.topologyKey] as string;
      const k = all.filter(
        (x) => x.node === n && x.pi.pod.metadata?.namespace === ns && x.pi.pod.metadata?.labels?.app === app,
      ).length;
      m.set(v, (m.get(v) ?? 0) + k);
    }
    return m;
  });
  for (const cand of nodes) {
    let verdict = '';
    for (let i = 0; i < cs.length && verdict === ''; i++) {
      const c = cs[i] as TopologySpreadConstraint;
      const v = cand.metadata?.labels?.[c.topologyKey];
      if (v === undefined) {
        verdict = SPREAD_LABEL;
        break;
      }
      const m = counts[i] as Map<string, number>;
      const min = m.size < (c.minDomains ?? 1) ? 0 : Math.min(...m.values());
      const self = pod.metadata?.labels?.app === c.labelSelector?.matchLabels?.app ? 1 : 0;
      if ((m.get(v) ?? 0) + self - min > c.maxSkew) verdict = SPREAD;
    }
    out.set(cand.metadata?.name ?? '', verdict);
  }
  return out;
}

/** Filter verdicts by node; a PreFilter Skip means the framework runs no Filter (all fit). */
function verdicts(plugin: Plugin, pod: Pod, snap: Snapshot): Map<string, string> {
  const r = runFilter(plugin, pod, snap);
  const out = new Map<string, string>();
  for (const [n, v] of r.byNode) out.set(n, v.startsWith('Error: reading "PreFilter') ? '' : v);
  return out;
}

function listersWithTeams(g: Gen): ClusterListers {
  const l = new ClusterListers();
  for (const n of NAMESPACES)
    l.upsert('Namespace', { metadata: { name: n, labels: g.chance(0.5) ? { team: 'x' } : {} } });
  return l;
}

function fresh(nodes: readonly Node[], pods: readonly Pod[], listers: ClusterListers) {
  const snap = Snapshot.fromObjects(nodes, pods);
  const handle = testHandle(snap, listers);
  return { snap, ipa: newInterPodAffinity({}, handle), pts: newPodTopologySpread({}, handle) };
}

describe('precomputed InterPodAffinity and PodTopologySpread state', () => {
  it('InterPodAffinity Filter equals the brute-force reference on random clusters', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const g = new Gen(rng(seed));
      const nodes = g.nodes(4 + Math.floor(g.r() * 6));
      const pods = Array.from({ length: Math.floor(g.r() * 14) }, () =>
        g.pod(`n${Math.floor(g.r() * nodes.length)}`, 0.5),
      );
      const listers = listersWithTeams(g);
      const { snap, ipa } = fresh(nodes, pods, listers);
      for (let k = 0; k < 4; k++) {
        const pod = g.pod(undefined, 0.9);
        const got = verdicts(ipa, pod, snap);
        assert.deepEqual(got, refAffinityFilter(nodes, pods, pod, listers), `seed ${seed} pod ${k}`);
      }
    }
  });

  it('PodTopologySpread Filter equals the brute-force reference on random clusters', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const g = new Gen(rng(1000 + seed));
      const nodes = g.nodes(3 + Math.floor(g.r() * 6));
      const pods = Array.from({ length: Math.floor(g.r() * 16) }, () =>
        g.pod(`n${Math.floor(g.r() * nodes.length)}`, 0),
      );
      const { snap, pts } = fresh(nodes, pods, new ClusterListers());
      for (let k = 0; k < 4; k++) {
        const pod = g.spreadPod();
        assert.deepEqual(
          verdicts(pts, pod, snap),
          refSpreadFilter(nodes, pods, pod),
          `seed ${seed} pod ${k}`,
        );
      }
    }
  });

  it('memoized counts follow pod, node-label and namespace-label changes across cycles', () => {
    for (let seed = 1; seed <= 25; seed++) {
      const g = new Gen(rng(5000 + seed));
      let nodes = g.nodes(6);
      const pods: Pod[] = [];
      const listers = listersWithTeams(g);
      const cache = new Cache();
      for (const n of nodes) cache.addNode(n);
      const snap = new Snapshot();
      const handle = testHandle(snap, listers);
      const ipa = newInterPodAffinity({}, handle);
      const pts = newPodTopologySpread({}, handle);
      for (let round = 0; round < 8; round++) {
        // Mutate: bind pods, delete one, relabel a node, relabel a namespace.
        for (let i = 0; i < 3; i++) {
          const p = g.pod(`n${Math.floor(g.r() * nodes.length)}`, 0.5);
          pods.push(p);
          cache.addPod(p);
        }
        if (g.chance(0.4) && pods.length > 0) {
          const [gone] = pods.splice(Math.floor(g.r() * pods.length), 1);
          if (gone !== undefined) cache.removePod(gone);
        }
        if (g.chance(0.4)) {
          const i = Math.floor(g.r() * nodes.length);
          const old = nodes[i] as Node;
          const relabeled = makeNode(old.metadata?.name ?? '', {
            labels: g.chance(0.8) ? { [ZONE]: `z${Math.floor(g.r() * 3)}` } : {},
          });
          nodes = nodes.map((n, j) => (j === i ? relabeled : n));
          cache.updateNode(old, relabeled);
        }
        if (g.chance(0.6)) {
          const name = g.pick(NAMESPACES);
          listers.upsert('Namespace', { metadata: { name, labels: g.chance(0.5) ? { team: 'x' } : {} } });
        }
        cache.updateSnapshot(snap);
        // The derived lists are patched in place; as sets they must equal a fresh filter.
        const names = (l: readonly NodeInfo[]) => l.map((n) => n.name).sort();
        assert.deepEqual(
          names(snap.havePodsWithAffinityList),
          names(snap.nodeInfoList.filter((n) => n.podsWithAffinity.length > 0)),
        );
        assert.deepEqual(
          names(snap.havePodsWithRequiredAntiAffinityList),
          names(snap.nodeInfoList.filter((n) => n.podsWithRequiredAntiAffinity.length > 0)),
        );
        const ref = fresh(nodes, pods, listers);
        const incoming = [g.pod(undefined, 0.9), g.pod(undefined, 0.9), g.pod(undefined, 0.9), g.spreadPod()];
        for (const pod of incoming) {
          const msg = `seed ${seed} round ${round}`;
          assert.deepEqual(verdicts(ipa, pod, snap), refAffinityFilter(nodes, pods, pod, listers), msg);
          assert.deepEqual(verdicts(pts, pod, snap), verdicts(ref.pts, pod, ref.snap), msg);
          const byName = (s: Snapshot) => [...s.nodeInfoList].sort((a, b) => a.name.localeCompare(b.name));
          assert.deepEqual(
            runScore(ipa, pod, byName(snap)),
            runScore(ref.ipa, pod, byName(ref.snap)),
            `${msg} InterPodAffinity score`,
          );
          assert.deepEqual(
            runScore(pts, pod, byName(snap)),
            runScore(ref.pts, pod, byName(ref.snap)),
            `${msg} PodTopologySpread score`,
          );
        }
      }
    }
  });

  it('a namespace relabel changes namespaceSelector matches with no node change', () => {
    const nodes = [makeNode('n1'), makeNode('n2')];
    const existing = makePod('e', { namespace: 'ns1', node: 'n1', labels: { app: 'a' } });
    const listers = new ClusterListers();
    listers.upsert('Namespace', { metadata: { name: 'ns1', labels: {} } });
    const { snap, ipa } = fresh(nodes, [existing], listers);
    const pod = makePod('in', { namespace: 'ns2', labels: { app: 'z' } });
    (pod.spec as NonNullable<Pod['spec']>).affinity = {
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          {
            labelSelector: { matchLabels: { app: 'a' } },
            topologyKey: HOST,
            namespaceSelector: { matchLabels: { team: 'x' } },
          },
        ],
      },
    };
    assert.deepEqual([...verdicts(ipa, pod, snap).values()], ['', '']);
    listers.upsert('Namespace', { metadata: { name: 'ns1', labels: { team: 'x' } } });
    assert.deepEqual([...verdicts(ipa, pod, snap).values()], [ANTI, '']);
    listers.upsert('Namespace', { metadata: { name: 'ns1', labels: {} } });
    assert.deepEqual([...verdicts(ipa, pod, snap).values()], ['', '']);
  });

  it('PreFilterExtensions AddPod/RemovePod update the precomputed maps as a fresh PreFilter would', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const g = new Gen(rng(9000 + seed));
      const nodes = g.nodes(5);
      const pods = Array.from({ length: 8 }, () => g.pod(`n${Math.floor(g.r() * nodes.length)}`, 0.5));
      const listers = listersWithTeams(g);
      const { snap, ipa, pts } = fresh(nodes, pods, listers);
      const victim = pods[Math.floor(g.r() * pods.length)] as Pod;
      const extra = g.pod(`n${Math.floor(g.r() * nodes.length)}`, 0.5);
      const after = pods.filter((p) => p !== victim).concat(extra);
      const ref = fresh(nodes, after, listers);
      for (const pod of [g.pod(undefined, 0.9), g.spreadPod()]) {
        for (const [plugin, refPlugin] of [
          [ipa, ref.ipa],
          [pts, ref.pts],
        ] as const) {
          const got = filterAfterEdits(plugin, pod, snap, victim, extra);
          const want = verdicts(refPlugin, pod, ref.snap);
          if (got !== undefined) assert.deepEqual(got, want, `seed ${seed} ${plugin.name}`);
        }
      }
    }
  });
});

// ---- PreFilter, then RemovePod(victim) + AddPod(extra) on the state, then Filter ---------

function filterAfterEdits(
  plugin: Plugin,
  pod: Pod,
  snap: Snapshot,
  victim: Pod,
  extra: Pod,
): Map<string, string> | undefined {
  if (!isPreFilter(plugin) || !isFilter(plugin)) return undefined;
  const state = new CycleState();
  const r = plugin.preFilter(state, pod, snap.nodeInfoList);
  const s = r === null || r instanceof Status ? r : r.status;
  if (s !== null) return undefined;
  const ext = plugin.preFilterExtensions?.();
  if (ext === undefined || ext === null) return undefined;
  // The simulated node states, as preemption builds them (clones, the snapshot untouched).
  const sim = new Map<string, NodeInfo>();
  for (const ni of snap.nodeInfoList) sim.set(ni.name, ni.clone());
  const vNode = sim.get(victim.spec?.nodeName ?? '') as NodeInfo;
  const vInfo = new PodInfo(victim);
  vNode.removePod(vInfo.key);
  ext.removePod(state, pod, vInfo, vNode);
  const eNode = sim.get(extra.spec?.nodeName ?? '') as NodeInfo;
  const eInfo = new PodInfo(extra);
  eNode.addPod(eInfo);
  ext.addPod(state, pod, eInfo, eNode);
  const out = new Map<string, string>();
  for (const ni of snap.nodeInfoList) {
    const f = plugin.filter(state, pod, sim.get(ni.name) ?? newNodeInfo(undefined));
    out.set(ni.name, f === null || f.code === Code.Success ? '' : `${f.codeName()}: ${f.message()}`);
  }
  return out;
}
