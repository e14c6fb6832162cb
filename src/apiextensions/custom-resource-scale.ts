// The scale subresource of a custom resource (upstream's customresource ScaleREST): an
// autoscaling/v1 Scale read from and written to the paths the CRD version declares
// (specReplicasPath, statusReplicasPath, labelSelectorPath), so `kubectl scale` and the
// HPA work on custom resources as on Deployments. The Scale handling itself is the
// built-in kinds' (`handleScale`); only where replicas and selector live differs.
import type { CustomResourceSubresourceScale } from '../api/generated/types/apiextensions-v1.js';
import { handleScale, type ScaleAccess } from '../apiserver/endpoints/subresources.js';
import type { Scope } from '../apiserver/endpoints/scope.js';
import { isObject, type KObject } from '../apiserver/registry/object.js';
import { internalError, notFound } from '../machinery/status-error.js';
import type { ServedCustomResource } from './registry.js';

function pathOf(p: string): string[] {
  return p
    .replace(/^\./, '')
    .split('.')
    .filter((s) => s !== '');
}

function getPath(obj: unknown, p: string): unknown {
  let cur = obj;
  for (const k of pathOf(p)) {
    if (!isObject(cur)) return undefined;
    cur = cur[k];
  }
  return cur;
}

function setPath(obj: Record<string, unknown>, p: string, value: unknown): void {
  const keys = pathOf(p);
  let cur = obj;
  for (const k of keys.slice(0, -1)) {
    if (!isObject(cur[k])) cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  const last = keys[keys.length - 1];
  if (last !== undefined) cur[last] = value;
}

function intAt(obj: KObject, p: string, what: string): number {
  const v = getPath(obj, p);
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v))
    throw internalError(
      `.${what} accessor error: ${JSON.stringify(v)} is of the type ${typeof v}, expected int64`,
    );
  return v;
}

function scaleAccess(cfg: CustomResourceSubresourceScale): ScaleAccess {
  return {
    specReplicas: (o) => intAt(o, cfg.specReplicasPath, cfg.specReplicasPath.replace(/^\./, '')),
    statusReplicas: (o) => intAt(o, cfg.statusReplicasPath, cfg.statusReplicasPath.replace(/^\./, '')),
    selector: (o) => {
      const selector = cfg.labelSelectorPath ? getPath(o, cfg.labelSelectorPath) : undefined;
      return typeof selector === 'string' && selector !== '' ? selector : undefined;
    },
    setReplicas: (o, replicas) => setPath(o as Record<string, unknown>, cfg.specReplicasPath, replicas),
  };
}

/** GET/PUT/PATCH …/<custom resource>/<name>/scale */
export async function handleCustomScale(s: Scope, custom: ServedCustomResource, verb: string): Promise<void> {
  const cfg = custom.crd.spec.versions.find((v) => v.name === custom.version)?.subresources?.scale;
  if (!cfg) throw notFound(s.store.gr, s.info.name);
  await handleScale(s, verb, scaleAccess(cfg));
}
