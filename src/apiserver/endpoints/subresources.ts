// Subresources with behaviour of their own: scale (autoscaling/v1 Scale view of replicas),
// pods/binding (scheduling), pods/eviction (eviction.ts, re-exported here), namespaces/finalize, certificatesigningrequests/approval, pods/ephemeralcontainers and
// serviceaccounts/token. Each builds the desired object from the current one and lets the
// Store persist it, so concurrency and managedFields work as for any update.
import { labelSelectorAsSelector, type LabelSelector } from '../../machinery/labels/label-selector.js';
import { selectorFromSet } from '../../machinery/labels/selector.js';
import {
  badRequest,
  conflict,
  type FieldError,
  invalid,
  notFound,
  OPTIMISTIC_LOCK_MESSAGE,
} from '../../machinery/status-error.js';
import type { TokenIssuer } from '../auth/service-account-token.js';
import { readBody, successStatus, writeObject } from '../http.js';
import { queryBool } from '../registry/list-options.js';
import type { KObject } from '../registry/object.js';
import { isObject } from '../registry/object.js';
import type { Store } from '../registry/store.js';
import { rfc3339 } from '../registry/store.js';
import { mediaType } from './decode.js';
import { makePatcher } from './patch.js';
import { apiVersionOf, withTypeMeta } from './render.js';
import { parseWriteOptions, type Scope } from './scope.js';
import { checkTypeMeta, readDeleteOptions, readObject } from './write.js';

type Obj = Record<string, unknown>;

function spec(o: KObject): Obj {
  if (!isObject(o.spec)) o.spec = {};
  return o.spec as Obj;
}

function statusOf(o: KObject): Obj {
  return isObject(o.status) ? (o.status as Obj) : {};
}

// --- scale ---------------------------------------------------------------------------

function scaleSelector(s: Scope, o: KObject): string {
  const sel = spec(o).selector;
  if (s.resource.group === '' && s.resource.plural === 'replicationcontrollers') {
    return selectorFromSet((sel ?? {}) as Record<string, string>).toString();
  }
  return labelSelectorAsSelector(sel as LabelSelector | undefined).toString();
}

/** How one resource's replicas and selector map onto an autoscaling/v1 Scale. */
export interface ScaleAccess {
  specReplicas(o: KObject): number;
  statusReplicas(o: KObject): number;
  /** The selector string, or undefined when the Scale shows none. */
  selector(o: KObject): string | undefined;
  setReplicas(o: KObject, replicas: number): void;
}

// Built-in scalable kinds keep them at spec.replicas, status.replicas and spec.selector.
function builtinScale(s: Scope): ScaleAccess {
  return {
    specReplicas: (o) => (spec(o).replicas as number | undefined) ?? 0,
    statusReplicas: (o) => (statusOf(o).replicas as number | undefined) ?? 0,
    selector: (o) => scaleSelector(s, o),
    setReplicas: (o, replicas) => {
      spec(o).replicas = replicas;
    },
  };
}

function toScale(o: KObject, access: ScaleAccess): KObject {
  const m = o.metadata ?? {};
  const selector = access.selector(o);
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
    spec: { replicas: access.specReplicas(o) },
    status: { replicas: access.statusReplicas(o), ...(selector !== undefined ? { selector } : {}) },
  };
}

/** A Scale's `spec.replicas`, validated as upstream's Scale validation (422 when negative). */
function scaleReplicas(scale: KObject, name: string): number {
  const replicas = isObject(scale.spec) ? (scale.spec as Obj).replicas : undefined;
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
    const err: FieldError = {
      type: 'FieldValueInvalid',
      field: 'spec.replicas',
      badValue: replicas ?? null,
      detail: 'must be greater than or equal to 0',
    };
    throw invalid('Scale', 'autoscaling', name, [err]);
  }
  return replicas;
}

/**
 * GET/PUT/PATCH …/scale of a built-in kind, or of a custom resource with its own `access`
 * (the CRD's replicas and selector paths).
 */
export async function handleScale(
  s: Scope,
  verb: string,
  access: ScaleAccess = builtinScale(s),
): Promise<void> {
  if (verb === 'get') {
    writeObject(s.res, 200, toScale(await s.store.get(s.info.namespace, s.info.name), access));
    return;
  }
  const wo = parseWriteOptions(s);
  let desiredScale: (cur: KObject) => KObject;
  if (verb === 'update') {
    const { obj } = await readObject(s);
    checkTypeMeta(s, obj, 'Scale', 'autoscaling/v1');
    desiredScale = () => obj;
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
    desiredScale = (cur) => patcher(toScale(cur, access));
  } else throw badRequest(`unsupported verb ${verb} on scale`);
  const r = await s.store.guaranteedUpdate(
    s.info.namespace,
    s.info.name,
    wo,
    (cur) => {
      if (!cur) throw notFound(s.store.gr, s.info.name);
      const scale = desiredScale(structuredClone(cur));
      const rv = scale.metadata?.resourceVersion;
      if (rv !== undefined && rv !== '' && rv !== cur.metadata?.resourceVersion)
        throw conflict(s.store.gr, s.info.name, OPTIMISTIC_LOCK_MESSAGE);
      access.setReplicas(cur, scaleReplicas(scale, s.info.name));
      return cur;
    },
    { mode: 'subresource' },
  );
  writeObject(s.res, 200, toScale(r.obj, access));
}

// --- pods/binding and bindings ---------------------------------------------------------

/** POST pods/<name>/binding or bindings: assigns a pod to a node. */
export async function handleBinding(s: Scope, pods: Store): Promise<void> {
  const wo = parseWriteOptions(s);
  const { obj } = await readObject(s);
  if (obj.kind !== undefined && obj.kind !== 'Binding')
    throw badRequest(`the kind in the data (${String(obj.kind)}) does not match the expected kind (Binding)`);
  const name = s.info.subresource === 'binding' ? s.info.name : (obj.metadata?.name ?? '');
  const target = isObject(obj.target) ? (obj.target as Obj) : {};
  const node = typeof target.name === 'string' ? target.name : '';
  if (node === '')
    throw invalid('Binding', '', name, [{ type: 'FieldValueRequired', field: 'target.name', detail: '' }]);
  const gr = { group: '', resource: 'pods/binding' };
  // Upstream's BindingREST writes storage directly: the pod's strategy, defaulting and
  // managedFields are not involved (the scheduler never appears as a field manager).
  await pods.guaranteedStoredUpdate(s.info.namespace, name, wo, (cur) => {
    const m = cur.metadata ?? {};
    if (m.deletionTimestamp !== undefined)
      throw conflict(gr, name, `pod ${name} is being deleted, cannot be assigned to a host`);
    const sp = spec(cur);
    if (typeof sp.nodeName === 'string' && sp.nodeName !== '') {
      throw conflict(gr, name, `pod ${name} is already assigned to node ${JSON.stringify(sp.nodeName)}`);
    }
    sp.nodeName = node;
    const ann = obj.metadata?.annotations;
    if (ann) m.annotations = { ...(m.annotations ?? {}), ...ann };
    const st = statusOf(cur);
    const conds = (Array.isArray(st.conditions) ? st.conditions : []) as Obj[];
    const rest = conds.filter((c) => c.type !== 'PodScheduled');
    st.conditions = [
      ...rest,
      { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: rfc3339(s.now) },
    ];
    cur.status = st;
    return cur;
  });
  writeObject(s.res, 201, { ...successStatus(), code: 201 });
}

export { handleEviction } from './eviction.js';

// --- namespaces/finalize, csr/approval, pods/ephemeralcontainers ------------------------

/** PUT namespaces/<name>/finalize: replaces spec.finalizers only. */
export async function handleFinalize(s: Scope): Promise<void> {
  const wo = parseWriteOptions(s);
  const { obj } = await readObject(s);
  checkTypeMeta(s, obj);
  const fins = isObject(obj.spec) ? ((obj.spec as Obj).finalizers as string[] | undefined) : undefined;
  const r = await s.store.guaranteedUpdate(
    s.info.namespace,
    s.info.name,
    wo,
    (cur) => {
      if (!cur) throw notFound(s.store.gr, s.info.name);
      const rv = obj.metadata?.resourceVersion;
      if (rv) meta(cur).resourceVersion = rv;
      spec(cur).finalizers = fins ?? [];
      return cur;
    },
    { mode: 'subresource' },
  );
  writeObject(s.res, 200, withTypeMeta(r.obj, s.resource));
}

function meta(o: KObject): NonNullable<KObject['metadata']> {
  if (!o.metadata) o.metadata = {};
  return o.metadata;
}

/** PUT certificatesigningrequests/<name>/approval: replaces status.conditions only. */
export async function handleApproval(s: Scope): Promise<void> {
  const wo = parseWriteOptions(s);
  const { obj } = await readObject(s);
  checkTypeMeta(s, obj);
  const conds = statusOf(obj).conditions;
  const r = await s.store.guaranteedUpdate(
    s.info.namespace,
    s.info.name,
    wo,
    (cur) => {
      if (!cur) throw notFound(s.store.gr, s.info.name);
      const rv = obj.metadata?.resourceVersion;
      if (rv) meta(cur).resourceVersion = rv;
      const st = statusOf(cur);
      st.conditions = (Array.isArray(conds) ? conds : []).map((c) => {
        const cc = { ...(c as Obj) };
        if (cc.lastUpdateTime === undefined) cc.lastUpdateTime = rfc3339(s.now);
        if (cc.lastTransitionTime === undefined) cc.lastTransitionTime = rfc3339(s.now);
        if (cc.status === undefined) cc.status = 'True';
        return cc;
      });
      cur.status = st;
      return cur;
    },
    { mode: 'subresource' },
  );
  writeObject(s.res, 200, withTypeMeta(r.obj, s.resource));
}

/** GET/PUT/PATCH pods/<name>/ephemeralcontainers: only spec.ephemeralContainers may change. */
export async function handleEphemeralContainers(s: Scope, verb: string): Promise<void> {
  if (verb === 'get') {
    writeObject(s.res, 200, withTypeMeta(await s.store.get(s.info.namespace, s.info.name), s.resource));
    return;
  }
  const wo = parseWriteOptions(s);
  let desired: (cur: KObject) => KObject;
  if (verb === 'update') {
    const { obj } = await readObject(s);
    checkTypeMeta(s, obj);
    desired = () => obj;
  } else {
    const body = await readBody(s.req);
    const patcher = makePatcher(s, mediaType(s.req.headers['content-type']), body, {
      kind: 'Pod',
      apiVersion: 'v1',
      definition: 'io.k8s.api.core.v1.Pod',
      force: queryBool(s.url.searchParams.get('force')),
      manager: wo.fieldManager,
      explicitManager: wo.explicitManager,
    });
    desired = (cur) => patcher(cur);
  }
  const r = await s.store.guaranteedUpdate(
    s.info.namespace,
    s.info.name,
    wo,
    (cur) => {
      if (!cur) throw notFound(s.store.gr, s.info.name);
      const want = desired(structuredClone(cur));
      const eph = isObject(want.spec) ? (want.spec as Obj).ephemeralContainers : undefined;
      const before = (spec(cur).ephemeralContainers as Obj[] | undefined) ?? [];
      const after = (eph as Obj[] | undefined) ?? [];
      const kept = new Map(after.map((c) => [c.name, c]));
      for (const c of before) {
        const n = kept.get(c.name);
        if (!n)
          throw invalid('Pod', '', s.info.name, [
            {
              type: 'FieldValueForbidden',
              field: 'spec.ephemeralContainers',
              detail: 'existing ephemeral containers may not be removed',
            },
          ]);
        if (JSON.stringify(n) !== JSON.stringify(c))
          throw invalid('Pod', '', s.info.name, [
            {
              type: 'FieldValueForbidden',
              field: 'spec.ephemeralContainers',
              detail: 'existing ephemeral containers may not be changed',
            },
          ]);
      }
      spec(cur).ephemeralContainers = after;
      const rv = want.metadata?.resourceVersion;
      if (rv && verb === 'update') meta(cur).resourceVersion = rv;
      return cur;
    },
    { mode: 'subresource' },
  );
  writeObject(s.res, 200, withTypeMeta(r.obj, s.resource));
}

// --- serviceaccounts/token --------------------------------------------------------------

const MIN_EXPIRATION = 600;
const DEFAULT_EXPIRATION = 3600;
const MAX_EXPIRATION = 48 * 3600;

/** POST serviceaccounts/<name>/token: issues a bound service-account token. */
export async function handleTokenRequest(
  s: Scope,
  issuer: TokenIssuer,
  lookup: (kind: string, ns: string, name: string) => Promise<KObject>,
): Promise<void> {
  const { obj } = await readObject(s);
  const sa = await s.store.get(s.info.namespace, s.info.name);
  const sp = isObject(obj.spec) ? (obj.spec as Obj) : {};
  const exp = typeof sp.expirationSeconds === 'number' ? sp.expirationSeconds : DEFAULT_EXPIRATION;
  if (exp < MIN_EXPIRATION) {
    throw invalid('TokenRequest', 'authentication.k8s.io', s.info.name, [
      {
        type: 'FieldValueInvalid',
        field: 'spec.expirationSeconds',
        badValue: exp,
        detail: 'may not specify a duration less than 10 minutes',
      },
    ]);
  }
  if (exp > 2 ** 32) {
    throw invalid('TokenRequest', 'authentication.k8s.io', s.info.name, [
      {
        type: 'FieldValueTooLong',
        field: 'spec.expirationSeconds',
        badValue: exp,
        detail: 'may not specify a duration larger than 2^32 seconds',
      },
    ]);
  }
  let bound: { kind: 'Pod' | 'Secret' | 'Node'; name: string; uid: string } | undefined;
  if (isObject(sp.boundObjectRef)) {
    const ref = sp.boundObjectRef as Obj;
    const kind = String(ref.kind ?? '');
    if (kind !== 'Pod' && kind !== 'Secret' && kind !== 'Node') {
      throw badRequest(`cannot bind token for object of kind ${JSON.stringify(kind)}`);
    }
    const target = await lookup(kind, kind === 'Node' ? '' : s.info.namespace, String(ref.name ?? ''));
    const uid = target.metadata?.uid ?? '';
    if (typeof ref.uid === 'string' && ref.uid !== '' && ref.uid !== uid) {
      throw conflict(
        { group: '', resource: `${kind.toLowerCase()}s` },
        String(ref.name),
        `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`,
      );
    }
    bound = { kind, name: String(ref.name ?? ''), uid };
  }
  const audiences = Array.isArray(sp.audiences) ? (sp.audiences as string[]) : [];
  const effective = Math.min(exp, MAX_EXPIRATION);
  const t = issuer.issue({
    namespace: s.info.namespace,
    serviceAccountName: s.info.name,
    serviceAccountUID: sa.metadata?.uid ?? '',
    audiences,
    expirationSeconds: effective,
    ...(bound ? { boundObject: bound } : {}),
    now: s.now,
  });
  writeObject(s.res, 201, {
    kind: 'TokenRequest',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { name: s.info.name, namespace: s.info.namespace, creationTimestamp: null },
    spec: {
      audiences: audiences.length > 0 ? audiences : [issuer.issuer],
      expirationSeconds: effective,
      boundObjectRef: sp.boundObjectRef ?? null,
    },
    status: { token: t.token, expirationTimestamp: rfc3339(t.expirationTimestamp) },
  });
}

export { apiVersionOf, readDeleteOptions };
