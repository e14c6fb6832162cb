// The scale subresource of a custom resource (upstream's customresource ScaleREST): an
// autoscaling/v1 Scale read from and written to the paths the CRD version declares
// (specReplicasPath, statusReplicasPath, labelSelectorPath), so `kubectl scale` and the
// HPA work on custom resources as on Deployments.
import type { CustomResourceSubresourceScale } from '../api/generated/types/apiextensions-v1.js';
import {
  badRequest,
  conflict,
  internalError,
  notFound,
  OPTIMISTIC_LOCK_MESSAGE,
} from '../machinery/status-error.js';
import { readBody, writeObject } from '../apiserver/http.js';
import { mediaType } from '../apiserver/endpoints/decode.js';
import { scaleReplicas } from '../apiserver/endpoints/subresources.js';
import { makePatcher } from '../apiserver/endpoints/patch.js';
import { parseWriteOptions, type Scope } from '../apiserver/endpoints/scope.js';
import { checkTypeMeta, readObject } from '../apiserver/endpoints/write.js';
import { queryBool } from '../apiserver/registry/list-options.js';
import { isObject, type KObject } from '../apiserver/registry/object.js';
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

function scaleOf(cfg: CustomResourceSubresourceScale): (o: KObject) => KObject {
  return (o) => {
    const m = o.metadata ?? {};
    const selector = cfg.labelSelectorPath ? getPath(o, cfg.labelSelectorPath) : undefined;
    return {
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: {
        name: m.name,
        ...(m.namespace ? { namespace: m.namespace } : {}),
        uid: m.uid,
        resourceVersion: m.resourceVersion,
        creationTimestamp: m.creationTimestamp,
      },
      spec: { replicas: intAt(o, cfg.specReplicasPath, cfg.specReplicasPath.replace(/^\./, '')) },
      status: {
        replicas: intAt(o, cfg.statusReplicasPath, cfg.statusReplicasPath.replace(/^\./, '')),
        ...(typeof selector === 'string' && selector !== '' ? { selector } : {}),
      },
    };
  };
}

/** GET/PUT/PATCH …/<custom resource>/<name>/scale */
export async function handleCustomScale(s: Scope, custom: ServedCustomResource, verb: string): Promise<void> {
  const cfg = custom.crd.spec.versions.find((v) => v.name === custom.version)?.subresources?.scale;
  if (!cfg) throw notFound(s.store.gr, s.info.name);
  const toScale = scaleOf(cfg);
  if (verb === 'get') {
    writeObject(s.res, 200, toScale(await s.store.get(s.info.namespace, s.info.name)));
    return;
  }
  const wo = parseWriteOptions(s);
  let desired: (cur: KObject) => KObject;
  if (verb === 'update') {
    const { obj } = await readObject(s);
    checkTypeMeta(s, obj, 'Scale', 'autoscaling/v1');
    desired = () => obj;
  } else if (verb === 'patch') {
    const body = await readBody(s.req);
    const patcher = makePatcher(s, mediaType(s.req.headers['content-type']), body, {
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      definition: 'io.k8s.api.autoscaling.v1.Scale',
      force: queryBool(s.url.searchParams.get('force')),
      manager: wo.fieldManager,
      explicitManager: wo.explicitManager,
    });
    desired = (cur) => patcher(toScale(cur));
  } else throw badRequest(`unsupported verb ${verb} on scale`);
  const r = await s.store.guaranteedUpdate(
    s.info.namespace,
    s.info.name,
    wo,
    (cur) => {
      if (!cur) throw notFound(s.store.gr, s.info.name);
      const scale = desired(structuredClone(cur));
      const rv = scale.metadata?.resourceVersion;
      if (rv !== undefined && rv !== '' && rv !== cur.metadata?.resourceVersion)
        throw conflict(s.store.gr, s.info.name, OPTIMISTIC_LOCK_MESSAGE);
      const replicas = scaleReplicas(scale, s.info.name);
      setPath(cur as Record<string, unknown>, cfg.specReplicasPath, replicas);
      return cur;
    },
    { mode: 'subresource' },
  );
  writeObject(s.res, 200, toScale(r.obj));
}
