// Node and network flags shared by `kts server` and `kts agent`: their defaults and parsers.
// Kept apart from server.ts so the agent, which runs no control plane, does not load one
// (importing server.ts pulls in the API server, controllers and scheduler: ~45 MB of RSS).

import { hostname } from 'node:os';
import type { Taint } from '../api/generated/types/core-v1.js';

/** Defaults of the network flags (as k3s). */
export const SERVER_DEFAULTS = {
  httpsPort: 6443,
  clusterCIDR: '10.42.0.0/16',
  serviceCIDR: '10.43.0.0/16',
  clusterDNS: '10.43.0.10',
  clusterDomain: 'cluster.local',
} as const;

/** Parses `key[=value]:Effect` as `--node-taint` (and kubectl taint) take it. */
export function parseTaint(s: string): Taint {
  const colon = s.lastIndexOf(':');
  if (colon < 0) throw new Error(`invalid taint "${s}": want key[=value]:Effect`);
  const effect = s.slice(colon + 1);
  if (effect !== 'NoSchedule' && effect !== 'PreferNoSchedule' && effect !== 'NoExecute')
    throw new Error(`invalid taint effect "${effect}": want NoSchedule, PreferNoSchedule or NoExecute`);
  const kv = s.slice(0, colon);
  const eq = kv.indexOf('=');
  const key = eq < 0 ? kv : kv.slice(0, eq);
  if (key === '') throw new Error(`invalid taint "${s}": empty key`);
  return eq < 0 ? { key, effect } : { key, value: kv.slice(eq + 1), effect };
}

/** Parses `key=value` as `--node-label` takes it. */
export function parseLabel(s: string): [string, string] {
  const eq = s.indexOf('=');
  if (eq <= 0) throw new Error(`invalid node label "${s}": want key=value`);
  return [s.slice(0, eq), s.slice(eq + 1)];
}

/** The default node name: this host's name in lower case, as the kubelet does. */
export function defaultNodeName(): string {
  return hostname().toLowerCase();
}

/** Components `--disable` can turn off (`agent` is an alias of `kubelet`). */
export const DISABLEABLE = [
  'scheduler',
  'controller-manager',
  'kubelet',
  'proxy',
  'dns',
  'metrics-server',
  // k3s's name for its local-path provisioner (and the default StorageClass it creates).
  'local-storage',
] as const;

/** A component `--disable` accepts. */
export type DisableableComponent = (typeof DISABLEABLE)[number];
