// KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1): parsing, upstream v1
// defaults and validation, resolved into one ProfileSpec per schedulerName. Plugins are
// merged as upstream does: the user's per-point `disabled` removes defaults ('*' all of
// them), `enabled` replaces a default of the same name in place (new weight) or appends;
// multiPoint plugins then expand to every extension point they implement, after the
// plugins enabled at that point explicitly.

import { parse as parseYaml } from 'yaml';
import {
  EXTENSION_POINTS,
  type EnabledPlugin,
  type ExtensionPoint,
  type ProfileSpec,
} from './framework/framework.js';
import { DEFAULT_MULTI_POINT, IN_TREE_PLUGINS, type PluginRegistration } from './plugins/registry.js';

/** The API group/version of the file. */
export const CONFIG_API_VERSION = 'kubescheduler.config.k8s.io/v1';
/** The scheduler name of the default profile. */
export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';

/** A plugin set at one extension point. */
export interface PluginSet {
  enabled?: EnabledPlugin[];
  disabled?: { name: string }[];
}

/** One profile as written in the file. */
export interface KubeSchedulerProfile {
  schedulerName?: string;
  percentageOfNodesToScore?: number;
  plugins?: Partial<Record<ExtensionPoint | 'multiPoint', PluginSet>>;
  pluginConfig?: { name: string; args?: unknown }[];
}

/** The file (the fields kts uses; others are accepted and ignored). */
export interface KubeSchedulerConfiguration {
  apiVersion?: string;
  kind?: string;
  parallelism?: number;
  percentageOfNodesToScore?: number;
  podInitialBackoffSeconds?: number;
  podMaxBackoffSeconds?: number;
  profiles?: KubeSchedulerProfile[];
  leaderElection?: { leaderElect?: boolean; resourceName?: string; resourceNamespace?: string };
  clientConnection?: { kubeconfig?: string; qps?: number; burst?: number };
}

/** The configuration resolved for the Scheduler. */
export interface SchedulerConfig {
  percentageOfNodesToScore: number;
  podInitialBackoffMs: number;
  podMaxBackoffMs: number;
  profiles: ProfileSpec[];
  leaderElect: boolean;
}

/** A configuration that does not validate; `errors` lists each problem with its field path. */
export class SchedulerConfigError extends Error {
  readonly errors: string[];
  constructor(errors: string[]) {
    super(errors.length === 1 ? (errors[0] as string) : `[${errors.join(', ')}]`);
    this.name = 'SchedulerConfigError';
    this.errors = errors;
  }
}

/** Parses a YAML or JSON file's text into a resolved configuration; throws SchedulerConfigError. */
export function loadSchedulerConfig(text: string): SchedulerConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new SchedulerConfigError([
      `couldn't decode as KubeSchedulerConfiguration: ${e instanceof Error ? e.message : String(e)}`,
    ]);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new SchedulerConfigError(["couldn't decode as KubeSchedulerConfiguration: not an object"]);
  }
  const cfg = doc as KubeSchedulerConfiguration;
  if (cfg.kind !== 'KubeSchedulerConfiguration')
    throw new SchedulerConfigError([
      `no kind "${String(cfg.kind)}" is registered for version "${String(cfg.apiVersion)}"`,
    ]);
  if (cfg.apiVersion !== CONFIG_API_VERSION) {
    throw new SchedulerConfigError([
      `no kind "KubeSchedulerConfiguration" is registered for version "${String(cfg.apiVersion)}"`,
    ]);
  }
  return resolveSchedulerConfig(cfg);
}

/** The configuration with no file: upstream v1 defaults, one default-scheduler profile. */
export function defaultSchedulerConfig(): SchedulerConfig {
  return resolveSchedulerConfig({ apiVersion: CONFIG_API_VERSION, kind: 'KubeSchedulerConfiguration' });
}

/** Applies defaults, validates and resolves a decoded configuration. */
export function resolveSchedulerConfig(
  cfg: KubeSchedulerConfiguration,
  registry: ReadonlyMap<string, PluginRegistration> = IN_TREE_PLUGINS,
): SchedulerConfig {
  const errs: string[] = [];
  const pct = cfg.percentageOfNodesToScore ?? 0;
  if (!Number.isInteger(pct) || pct < 0 || pct > 100)
    errs.push(`percentageOfNodesToScore: Invalid value: ${pct}: not in valid range [0-100]`);
  const initial = cfg.podInitialBackoffSeconds ?? 1;
  const max = cfg.podMaxBackoffSeconds ?? 10;
  if (initial <= 0) errs.push(`podInitialBackoffSeconds: Invalid value: ${initial}: must be greater than 0`);
  if (max < initial)
    errs.push(
      `podMaxBackoffSeconds: Invalid value: ${max}: must be greater than or equal to PodInitialBackoffSeconds`,
    );
  const rawProfiles = cfg.profiles !== undefined && cfg.profiles.length > 0 ? cfg.profiles : [{}];
  const names = new Set<string>();
  const profiles: ProfileSpec[] = [];
  rawProfiles.forEach((p, i) => {
    const path = `profiles[${i}]`;
    const name = p.schedulerName ?? DEFAULT_SCHEDULER_NAME;
    if (name === '') errs.push(`${path}.schedulerName: Required value`);
    else if (names.has(name)) errs.push(`${path}.schedulerName: Duplicate value: "${name}"`);
    names.add(name);
    const ppct = p.percentageOfNodesToScore;
    if (ppct !== undefined && (!Number.isInteger(ppct) || ppct < 0 || ppct > 100)) {
      errs.push(`${path}.percentageOfNodesToScore: Invalid value: ${ppct}: not in valid range [0-100]`);
    }
    profiles.push(resolveProfile(p, name, path, registry, errs));
  });
  // One queue serves every profile, so they must agree on its order.
  const sorts = profiles.map((p) => p.plugins.queueSort.map((e) => e.name).join(','));
  sorts.forEach((s, i) => {
    if (i > 0 && s !== sorts[0])
      errs.push(
        `profiles[${i}].plugins.queueSort: Invalid value: "${s}": queueSort must be the same for all profiles`,
      );
  });
  if (errs.length > 0) throw new SchedulerConfigError(errs);
  return {
    percentageOfNodesToScore: pct,
    podInitialBackoffMs: initial * 1000,
    podMaxBackoffMs: max * 1000,
    profiles,
    leaderElect: cfg.leaderElection?.leaderElect ?? true,
  };
}

function mergeSet(defaults: readonly EnabledPlugin[], custom: PluginSet | undefined): EnabledPlugin[] {
  const disabled = new Set((custom?.disabled ?? []).map((d) => d.name));
  const enabled = custom?.enabled ?? [];
  const used = new Set<string>();
  const out: EnabledPlugin[] = [];
  for (const d of defaults) {
    if (disabled.has('*') || disabled.has(d.name)) continue;
    const c = enabled.find((e) => e.name === d.name);
    if (c !== undefined) used.add(c.name);
    out.push(c ?? d);
  }
  for (const c of enabled) if (!used.has(c.name)) out.push(c);
  return out;
}

function resolveProfile(
  p: KubeSchedulerProfile,
  name: string,
  path: string,
  registry: ReadonlyMap<string, PluginRegistration>,
  errs: string[],
): ProfileSpec {
  const multi = mergeSet(DEFAULT_MULTI_POINT, p.plugins?.multiPoint);
  const plugins = {} as Record<ExtensionPoint, EnabledPlugin[]>;
  for (const point of EXTENSION_POINTS) {
    const set = p.plugins?.[point];
    const disabled = new Set((set?.disabled ?? []).map((d) => d.name));
    const list: EnabledPlugin[] = [];
    for (const e of set?.enabled ?? []) {
      const reg = registry.get(e.name);
      if (reg === undefined) {
        errs.push(`${path}.plugins.${point}.enabled: Invalid value: "${e.name}": plugin does not exist`);
        continue;
      }
      if (!reg.points.includes(point)) {
        errs.push(
          `${path}.plugins.${point}.enabled: Invalid value: "${e.name}": plugin does not extend ${point} plugin`,
        );
        continue;
      }
      if (!list.some((x) => x.name === e.name)) list.push(e);
    }
    for (const m of multi) {
      if (disabled.has('*') || disabled.has(m.name) || list.some((x) => x.name === m.name)) continue;
      const reg = registry.get(m.name);
      if (reg === undefined) {
        errs.push(`${path}.plugins.multiPoint.enabled: Invalid value: "${m.name}": plugin does not exist`);
        continue;
      }
      if (reg.points.includes(point)) list.push(m);
    }
    if (point === 'score') {
      for (const e of list) {
        const w = e.weight ?? 1;
        if (!Number.isInteger(w) || w < 0 || w > 100) {
          errs.push(
            `${path}.plugins.score.enabled[${e.name}].weight: Invalid value: ${w}: must be in the range [0, 100]`,
          );
        }
      }
    }
    plugins[point] = list.map((e) => ({
      name: e.name,
      weight: point === 'score' ? (e.weight === undefined || e.weight === 0 ? 1 : e.weight) : undefined,
    }));
  }
  if (plugins.queueSort.length !== 1)
    errs.push(
      `${path}.plugins.queueSort: Invalid value: ${plugins.queueSort.length}: only one queue sort plugin can be enabled`,
    );
  if (plugins.bind.length === 0)
    errs.push(`${path}.plugins.bind: Required value: at least one bind plugin is needed`);
  const pluginArgs = new Map<string, unknown>();
  (p.pluginConfig ?? []).forEach((pc, i) => {
    const ppath = `${path}.pluginConfig[${i}]`;
    if (pluginArgs.has(pc.name)) errs.push(`${ppath}.name: Duplicate value: "${pc.name}"`);
    const args = stripTypeMeta(pc.args);
    validateArgs(pc.name, args, `${ppath}.args`, errs);
    pluginArgs.set(pc.name, args);
  });
  return { schedulerName: name, plugins, pluginArgs, percentageOfNodesToScore: p.percentageOfNodesToScore };
}

function stripTypeMeta(args: unknown): unknown {
  if (typeof args !== 'object' || args === null || Array.isArray(args)) return args ?? {};
  const { kind: _k, apiVersion: _a, ...rest } = args as Record<string, unknown>;
  return rest;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validates the args of the plugins that take any, with upstream's field names. */
function validateArgs(name: string, args: unknown, path: string, errs: string[]): void {
  if (!isObj(args)) {
    errs.push(`${path}: Invalid value: ${JSON.stringify(args)}: must be an object`);
    return;
  }
  switch (name) {
    case 'NodeResourcesFit': {
      const s = args.scoringStrategy;
      if (s === undefined) return;
      if (!isObj(s)) {
        errs.push(`${path}.scoringStrategy: Invalid value: must be an object`);
        return;
      }
      const type = s.type ?? 'LeastAllocated';
      if (!['LeastAllocated', 'MostAllocated', 'RequestedToCapacityRatio'].includes(String(type))) {
        errs.push(
          `${path}.scoringStrategy.type: Unsupported value: "${String(type)}": supported values: "LeastAllocated", "MostAllocated", "RequestedToCapacityRatio"`,
        );
      }
      validateResources(s.resources, `${path}.scoringStrategy.resources`, errs);
      if (type === 'RequestedToCapacityRatio') {
        const shape = isObj(s.requestedToCapacityRatio) ? s.requestedToCapacityRatio.shape : undefined;
        if (!Array.isArray(shape) || shape.length === 0) {
          errs.push(
            `${path}.scoringStrategy.requestedToCapacityRatio.shape: Required value: at least one point must be specified`,
          );
        } else {
          let prev = -1;
          shape.forEach((pt: unknown, i: number) => {
            const p = isObj(pt) ? pt : {};
            const u = Number(p.utilization);
            const sc = Number(p.score);
            const ppath = `${path}.scoringStrategy.requestedToCapacityRatio.shape[${i}]`;
            if (!(u >= 0 && u <= 100))
              errs.push(`${ppath}.utilization: Invalid value: ${u}: not in valid range [0, 100]`);
            else if (u <= prev)
              errs.push(
                `${ppath}.utilization: Invalid value: ${u}: utilization values must be sorted in increasing order`,
              );
            if (!(sc >= 0 && sc <= 10))
              errs.push(`${ppath}.score: Invalid value: ${sc}: not in valid range [0, 10]`);
            prev = u;
          });
        }
        // Upstream's default for the weight in this strategy is 1 too; nothing else to check.
      }
      return;
    }
    case 'NodeResourcesBalancedAllocation':
      validateResources(args.resources, `${path}.resources`, errs);
      return;
    case 'InterPodAffinity': {
      const w = args.hardPodAffinityWeight;
      if (w !== undefined && !(typeof w === 'number' && w >= 0 && w <= 100)) {
        errs.push(
          `${path}.hardPodAffinityWeight: Invalid value: ${JSON.stringify(w)}: not in valid range [0, 100]`,
        );
      }
      return;
    }
    case 'PodTopologySpread': {
      const t = args.defaultingType ?? 'System';
      if (t !== 'System' && t !== 'List')
        errs.push(
          `${path}.defaultingType: Unsupported value: "${String(t)}": supported values: "List", "System"`,
        );
      const dc = args.defaultConstraints;
      if (dc !== undefined && !Array.isArray(dc))
        errs.push(`${path}.defaultConstraints: Invalid value: must be a list`);
      if (t === 'System' && Array.isArray(dc) && dc.length > 0) {
        errs.push(
          `${path}.defaultConstraints: Invalid value: "${JSON.stringify(dc)}": when .defaultingType is "System", .defaultConstraints must be empty`,
        );
      }
      if (Array.isArray(dc)) {
        dc.forEach((c: unknown, i: number) => {
          const cc = isObj(c) ? c : {};
          const cp = `${path}.defaultConstraints[${i}]`;
          if (!(typeof cc.maxSkew === 'number' && cc.maxSkew > 0))
            errs.push(
              `${cp}.maxSkew: Invalid value: ${JSON.stringify(cc.maxSkew)}: must be greater than zero`,
            );
          if (typeof cc.topologyKey !== 'string' || cc.topologyKey === '')
            errs.push(`${cp}.topologyKey: Required value: can not be empty`);
          if (cc.whenUnsatisfiable !== 'DoNotSchedule' && cc.whenUnsatisfiable !== 'ScheduleAnyway') {
            errs.push(
              `${cp}.whenUnsatisfiable: Unsupported value: "${String(cc.whenUnsatisfiable)}": supported values: "DoNotSchedule", "ScheduleAnyway"`,
            );
          }
          if (cc.labelSelector !== undefined)
            errs.push(
              `${cp}.labelSelector: Forbidden: constraint must not define a selector, as they deduced for each pod`,
            );
        });
      }
      return;
    }
    case 'NodeAffinity': {
      const a = args.addedAffinity;
      if (a === undefined) return;
      if (!isObj(a)) {
        errs.push(`${path}.addedAffinity: Invalid value: must be an object`);
        return;
      }
      const req = a.requiredDuringSchedulingIgnoredDuringExecution;
      if (
        req !== undefined &&
        !(isObj(req) && Array.isArray(req.nodeSelectorTerms) && req.nodeSelectorTerms.length > 0)
      ) {
        errs.push(
          `${path}.addedAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms: Required value: must have at least one node selector term`,
        );
      }
      return;
    }
    default:
      return;
  }
}

function validateResources(v: unknown, path: string, errs: string[]): void {
  if (v === undefined) return;
  if (!Array.isArray(v)) {
    errs.push(`${path}: Invalid value: must be a list`);
    return;
  }
  v.forEach((r: unknown, i: number) => {
    const rr = isObj(r) ? r : {};
    const w = rr.weight ?? 1;
    if (typeof rr.name !== 'string' || rr.name === '') errs.push(`${path}[${i}].name: Required value`);
    if (!(typeof w === 'number' && w >= 1 && w <= 100))
      errs.push(
        `${path}[${i}].weight: Invalid value: ${JSON.stringify(w)}: resource weight of ${String(rr.name)} not in valid range [1, 100]`,
      );
  });
}
