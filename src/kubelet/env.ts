// A container's environment (upstream kubelet_pods.go makeEnvironmentVariables): envFrom
// first (ConfigMaps and Secrets, with prefix; keys that are not valid variable names are
// skipped), then env in order, each value `$(VAR)`-expanded against what came before;
// valueFrom reads ConfigMap/Secret keys, pod fields and container resources. The command
// and args are then expanded against the whole environment. Failures carry upstream's
// messages; the pod worker reports them as `CreateContainerConfigError`.

import type { ConfigMap, Container, Node, Pod, Secret } from '../api/generated/types/core-v1.js';
import { parseQuantity } from '../machinery/quantity.js';

/** Where the environment's referenced objects come from (the API, or a fake in tests). */
export interface EnvSources {
  configMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
  secret(namespace: string, name: string): Promise<Secret | undefined>;
}

/** Pod-level facts env values may refer to. */
export interface EnvContext {
  pod: Pod;
  podIP: string;
  podIPs: string[];
  hostIP: string;
  node?: Node;
}

/** A failure to build the environment (missing ConfigMap, key, …). */
export class EnvError extends Error {
  override readonly name = 'EnvError';
}

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/**
 * Expands `$(VAR)` references (`$$` escapes a `$`); unknown references stay as written,
 * as upstream's expansion package does.
 */
export function expandVars(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const ch = input[i];
    if (ch !== '$' || i + 1 >= input.length) {
      out += ch;
      continue;
    }
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i++;
    } else if (next === '(') {
      const end = input.indexOf(')', i + 2);
      if (end < 0) {
        out += input.slice(i);
        break;
      }
      const name = input.slice(i + 2, end);
      const value = lookup(name);
      out += value ?? `$(${name})`;
      i = end;
    } else {
      out += ch;
    }
  }
  return out;
}

function decodeSecret(s: Secret, key: string): string | undefined {
  const v = s.data?.[key];
  if (v !== undefined) return Buffer.from(v, 'base64').toString('utf8');
  return s.stringData?.[key];
}

/** The value of a downward-API field path (`metadata.name`, `status.podIP`, …). */
export function podFieldValue(ctx: EnvContext, fieldPath: string): string {
  const p = ctx.pod;
  const m = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(fieldPath);
  if (m !== null) {
    const map = m[1] === 'labels' ? p.metadata?.labels : p.metadata?.annotations;
    return map?.[m[2] ?? ''] ?? '';
  }
  switch (fieldPath) {
    case 'metadata.name':
      return p.metadata?.name ?? '';
    case 'metadata.namespace':
      return p.metadata?.namespace ?? '';
    case 'metadata.uid':
      return p.metadata?.uid ?? '';
    case 'spec.nodeName':
      return p.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return p.spec?.serviceAccountName ?? '';
    case 'status.podIP':
      return ctx.podIP;
    case 'status.podIPs':
      return ctx.podIPs.join(',');
    case 'status.hostIP':
      return ctx.hostIP;
    case 'status.hostIPs':
      return ctx.hostIP;
    case 'metadata.labels':
    case 'metadata.annotations': {
      const map = fieldPath === 'metadata.labels' ? p.metadata?.labels : p.metadata?.annotations;
      return Object.keys(map ?? {})
        .sort()
        .map((k) => `${k}=${JSON.stringify(map?.[k] ?? '')}`)
        .join('\n');
    }
    default:
      throw new EnvError(`unsupported fieldPath: ${fieldPath}`);
  }
}

/** The value of a resourceFieldRef: the container's limit (node allocatable if none) or request. */
export function resourceFieldValue(
  container: Container,
  resource: string,
  divisor: string | number | undefined,
  node: Node | undefined,
): string {
  const [kind, name] = resource.split('.') as [string, string | undefined];
  if (name === undefined || (kind !== 'limits' && kind !== 'requests'))
    throw new EnvError(`unsupported container resource : ${resource}`);
  const res = kind === 'limits' ? container.resources?.limits : container.resources?.requests;
  let raw = res?.[name];
  if (raw === undefined && kind === 'limits') raw = node?.status?.allocatable?.[name];
  if (raw === undefined) raw = '0';
  const q = parseQuantity(String(raw));
  const d = parseQuantity(String(divisor ?? (name === 'cpu' ? '1' : '1')));
  // Upstream rounds up: a 250m cpu limit with divisor 1 reads as 1.
  const ratio = q.milliValue() / Math.max(1, d.milliValue());
  return String(Math.ceil(ratio));
}

/** Builds the container's environment as a list (order kept, later names overriding). */
export async function containerEnv(
  container: Container,
  ctx: EnvContext,
  sources: EnvSources,
): Promise<{ key: string; value: string }[]> {
  const ns = ctx.pod.metadata?.namespace ?? '';
  const env = new Map<string, string>();
  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    if (from.configMapRef !== undefined) {
      const name = from.configMapRef.name ?? '';
      const cm = await sources.configMap(ns, name);
      if (cm === undefined) {
        if (from.configMapRef.optional === true) continue;
        throw new EnvError(`configmap "${name}" not found`);
      }
      for (const [k, v] of Object.entries(cm.data ?? {})) {
        if (ENV_NAME.test(prefix + k)) env.set(prefix + k, v);
      }
    }
    if (from.secretRef !== undefined) {
      const name = from.secretRef.name ?? '';
      const s = await sources.secret(ns, name);
      if (s === undefined) {
        if (from.secretRef.optional === true) continue;
        throw new EnvError(`secret "${name}" not found`);
      }
      for (const k of Object.keys(s.data ?? {})) {
        const v = decodeSecret(s, k);
        if (v !== undefined && ENV_NAME.test(prefix + k)) env.set(prefix + k, v);
      }
    }
  }
  for (const e of container.env ?? []) {
    const vf = e.valueFrom;
    if (vf === undefined) {
      env.set(
        e.name,
        expandVars(e.value ?? '', (n) => env.get(n)),
      );
      continue;
    }
    if (vf.configMapKeyRef !== undefined) {
      const ref = vf.configMapKeyRef;
      const cm = await sources.configMap(ns, ref.name ?? '');
      const v = cm?.data?.[ref.key];
      if (v === undefined) {
        if (ref.optional === true) continue;
        throw new EnvError(
          cm === undefined
            ? `configmap "${ref.name ?? ''}" not found`
            : `couldn't find key ${ref.key} in ConfigMap ${ns}/${ref.name ?? ''}`,
        );
      }
      env.set(e.name, v);
    } else if (vf.secretKeyRef !== undefined) {
      const ref = vf.secretKeyRef;
      const s = await sources.secret(ns, ref.name ?? '');
      const v = s !== undefined ? decodeSecret(s, ref.key) : undefined;
      if (v === undefined) {
        if (ref.optional === true) continue;
        throw new EnvError(
          s === undefined
            ? `secret "${ref.name ?? ''}" not found`
            : `couldn't find key ${ref.key} in Secret ${ns}/${ref.name ?? ''}`,
        );
      }
      env.set(e.name, v);
    } else if (vf.fieldRef !== undefined) {
      env.set(e.name, podFieldValue(ctx, vf.fieldRef.fieldPath));
    } else if (vf.resourceFieldRef !== undefined) {
      const r = vf.resourceFieldRef;
      const target =
        r.containerName !== undefined && r.containerName !== ''
          ? [...(ctx.pod.spec?.containers ?? []), ...(ctx.pod.spec?.initContainers ?? [])].find(
              (c) => c.name === r.containerName,
            )
          : container;
      if (target === undefined) throw new EnvError(`container ${r.containerName ?? ''} not found`);
      env.set(e.name, resourceFieldValue(target, r.resource, r.divisor, ctx.node));
    }
  }
  return [...env].map(([key, value]) => ({ key, value }));
}

/** The container's command and args with `$(VAR)` references expanded. */
export function expandCommand(
  container: Container,
  env: { key: string; value: string }[],
): { command?: string[]; args?: string[] } {
  const map = new Map(env.map((e) => [e.key, e.value]));
  const lookup = (n: string): string | undefined => map.get(n);
  const out: { command?: string[]; args?: string[] } = {};
  if (container.command !== undefined) out.command = container.command.map((c) => expandVars(c, lookup));
  if (container.args !== undefined) out.args = container.args.map((a) => expandVars(a, lookup));
  return out;
}
