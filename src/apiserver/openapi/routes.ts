// The operations kts serves, described once in a neutral form that the OpenAPI v3 and v2
// renderers both read. Path shapes, operation ids, tags, actions and query parameters follow
// the upstream apiserver's endpoint installer, because clients key on them: kubectl finds a
// kind's PATCH operation by `x-kubernetes-group-version-kind` and reads its parameters to
// decide whether the server validates fields itself (`fieldValidation`).
import { definitionForGVK } from '../../api/schema.js';
import type { GroupVersionKind } from '../../api/schema-types.js';
import type { ResourceInfo, SubresourceInfo } from '../../api/registry-types.js';
import { servedGroups, servedResourcesIn } from '../served.js';

/** An HTTP method as an OpenAPI path item key. */
export type Method = 'get' | 'put' | 'post' | 'delete' | 'options' | 'head' | 'patch';

/** Order of methods inside one path item (stable output, stable hashes). */
export const METHOD_ORDER: readonly Method[] = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'];

/** One path or query parameter. */
export interface Param {
  name: string;
  in: 'path' | 'query';
  type: 'string' | 'integer' | 'boolean';
}

/** A schema reference used by bodies and responses: a definition, or a plain string. */
export type SchemaRef = { def: string } | { string: true };

/** A request body. */
export interface Body {
  schema: SchemaRef;
  contentTypes: readonly string[];
  required: boolean;
}

/** One response of an operation (no schema for 401). */
export interface Response {
  schema?: SchemaRef;
  contentTypes: readonly string[];
}

/** One operation at one path. */
export interface Route {
  path: string;
  method: Method;
  operationId: string;
  tags: string[];
  /** x-kubernetes-action: get, list, post, put, patch, delete, deletecollection, watch, watchlist, connect. */
  action?: string;
  gvk?: GroupVersionKind;
  params: Param[];
  body?: Body;
  responses: Record<string, Response>;
  /**
   * Not served: a PATCH stand-in that only declares `fieldValidation` for a create-only kind
   * (see `validationOnly` below). Published in v3, left out of v2.
   */
  validationOnly?: true;
}

/** Media types kts answers with (protobuf is never served, so it is not advertised). */
export const OBJECT_TYPES = ['application/json', 'application/yaml'] as const;
const LIST_TYPES = ['application/json', 'application/json;stream=watch', 'application/yaml'] as const;
const LOG_TYPES = ['application/json', 'application/yaml', 'text/plain'] as const;
const ANY = ['*/*'] as const;
/** Patch bodies kts accepts. */
export const PATCH_TYPES = [
  'application/apply-patch+yaml',
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
] as const;

/** Well-known definitions every group/version document refers to. */
export const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const STATUS = `${META}.Status`;
const DELETE_OPTIONS = `${META}.DeleteOptions`;
const WATCH_EVENT = `${META}.WatchEvent`;
const PATCH = `${META}.Patch`;

const q = (name: string, type: Param['type'] = 'string'): Param => ({ name, in: 'query', type });
const pathParam = (name: string): Param => ({ name, in: 'path', type: 'string' });

const PRETTY = q('pretty');
const LIST_PARAMS: Param[] = [
  q('allowWatchBookmarks', 'boolean'),
  q('continue'),
  q('fieldSelector'),
  q('labelSelector'),
  q('limit', 'integer'),
  q('resourceVersion'),
  q('resourceVersionMatch'),
  q('sendInitialEvents', 'boolean'),
  q('timeoutSeconds', 'integer'),
  q('watch', 'boolean'),
];
const WRITE_PARAMS: Param[] = [q('dryRun'), q('fieldManager'), q('fieldValidation')];
const PATCH_PARAMS: Param[] = [...WRITE_PARAMS, q('force', 'boolean')];
const DELETE_PARAMS: Param[] = [
  q('dryRun'),
  q('gracePeriodSeconds', 'integer'),
  q('orphanDependents', 'boolean'),
  q('propagationPolicy'),
];
const DELETE_COLLECTION_PARAMS: Param[] = [
  ...DELETE_PARAMS,
  ...LIST_PARAMS.filter((p) => p.name !== 'watch' && p.name !== 'allowWatchBookmarks'),
];
const LOG_PARAMS: Param[] = [
  q('container'),
  q('follow', 'boolean'),
  q('insecureSkipTLSVerifyBackend', 'boolean'),
  q('limitBytes', 'integer'),
  q('previous', 'boolean'),
  q('sinceSeconds', 'integer'),
  q('tailLines', 'integer'),
  q('timestamps', 'boolean'),
];

// Upstream's registries for these resources return the deleted object rather than a Status
// (graceful deletion or finalizers keep it around), and the OpenAPI says so.
const DELETE_RETURNS_OBJECT = new Set([
  '/persistentvolumeclaims',
  '/pods',
  '/podtemplates',
  '/resourcequotas',
  '/serviceaccounts',
  '/services',
  '/persistentvolumes',
  'storage.k8s.io/csidrivers',
  'storage.k8s.io/csinodes',
  'storage.k8s.io/storageclasses',
  'storage.k8s.io/volumeattachments',
  'storage.k8s.io/volumeattributesclasses',
]);

const PROXY_METHODS: Method[] = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'];
const STREAM_METHODS: Method[] = ['get', 'post'];

/**
 * Upstream's operation-id word for a path segment: non-alphanumerics dropped, the letter after
 * each capitalised (`rbac.authorization` → `RbacAuthorization`).
 */
export function toOperationIdPart(s: string, capitalizeFirst: boolean): string {
  let out = '';
  let capitalize = capitalizeFirst;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (/[A-Za-z_]/.test(c) || (i !== 0 && /[0-9]/.test(c))) {
      out += capitalize ? c.toUpperCase() : c;
      capitalize = false;
    } else {
      capitalize = true;
    }
  }
  return out;
}

function groupWord(group: string): string {
  return group === '' ? 'core' : group.replace(/\.k8s\.io$/, '');
}

/** The tag of a group/version's operations: `core_v1`, `apps_v1`, `rbacAuthorization_v1`. */
export function gvTag(group: string, version: string): string {
  return `${toOperationIdPart(groupWord(group), false)}_${toOperationIdPart(version, false)}`;
}

/** The URL prefix of a group/version: `/api/v1` or `/apis/apps/v1`. */
export function gvPrefix(group: string, version: string): string {
  return group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
}

const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

function defFor(gvk: GroupVersionKind): string | undefined {
  return definitionForGVK(gvk)?.name;
}

/** How the routes of resources outside the schema table (custom resources) differ. */
export interface RouteOptions {
  /** Definition names of kinds the schema table does not know (falls back to the table). */
  definition?: (gvk: GroupVersionKind) => string | undefined;
  /** PATCH content types (custom resources take no strategic merge patch). */
  patchTypes?: readonly string[];
  /** DELETE always answers a Status (no per-resource exceptions). */
  deleteReturnsStatus?: boolean;
}

/** Builds the routes of one group/version; a small class so helpers share the context. */
class GroupVersionRoutes {
  readonly routes: Route[] = [];
  private readonly prefix: string;
  private readonly tag: string;
  private readonly gvWord: string;

  constructor(
    private readonly group: string,
    private readonly version: string,
    private readonly opts: RouteOptions = {},
  ) {
    this.prefix = gvPrefix(group, version);
    this.tag = gvTag(group, version);
    this.gvWord = toOperationIdPart(groupWord(group), true) + toOperationIdPart(version, true);
  }

  private defFor(gvk: GroupVersionKind): string | undefined {
    return this.opts.definition?.(gvk) ?? defFor(gvk);
  }

  private add(
    path: string,
    method: Method,
    verb: string,
    rest: string,
    fields: Omit<Route, 'path' | 'method' | 'operationId' | 'tags'>,
  ): void {
    this.routes.push({
      path: `${this.prefix}/${path}`,
      method,
      operationId: `${verb}${this.gvWord}${rest}`,
      tags: [this.tag],
      ...fields,
    });
  }

  discovery(): void {
    this.add('', 'get', 'get', 'APIResources', {
      params: [],
      responses: ok(`${META}.APIResourceList`, OBJECT_TYPES),
    });
  }

  resource(r: ResourceInfo): void {
    const gvk = { group: r.group, version: r.version, kind: r.kind };
    const def = r.definition;
    const has = (v: string): boolean => r.verbs.includes(v);
    const ns = r.namespaced ? 'Namespaced' : '';
    const coll = r.namespaced ? `namespaces/{namespace}/${r.plural}` : r.plural;
    const item = `${coll}/{name}`;
    const collParams = r.namespaced ? [pathParam('namespace'), PRETTY] : [PRETTY];
    const itemParams = [pathParam('name'), ...collParams];
    const listDef = this.defFor({ group: r.group, version: r.version, kind: r.listKind });

    if (has('list') && listDef !== undefined) {
      this.add(coll, 'get', 'list', `${ns}${r.kind}`, {
        action: 'list',
        gvk,
        params: [...collParams, ...LIST_PARAMS],
        responses: ok(listDef, LIST_TYPES),
      });
    }
    if (has('create')) {
      this.add(coll, 'post', 'create', `${ns}${r.kind}`, {
        action: 'post',
        gvk,
        params: [...collParams, ...WRITE_PARAMS],
        body: { schema: { def }, contentTypes: ANY, required: true },
        responses: ok(def, OBJECT_TYPES, ['200', '201', '202']),
      });
    }
    if (has('deletecollection')) {
      this.add(coll, 'delete', 'delete', `Collection${ns}${r.kind}`, {
        action: 'deletecollection',
        gvk,
        params: [...collParams, ...DELETE_COLLECTION_PARAMS],
        body: { schema: { def: DELETE_OPTIONS }, contentTypes: ANY, required: false },
        responses: ok(STATUS, OBJECT_TYPES),
      });
    }
    if (has('watch') && has('list')) {
      this.add(`watch/${coll}`, 'get', 'watch', `${ns}${r.kind}List`, {
        action: 'watchlist',
        gvk,
        params: [...collParams, ...LIST_PARAMS],
        responses: ok(WATCH_EVENT, LIST_TYPES),
      });
    }
    if (has('get')) {
      this.add(item, 'get', 'read', `${ns}${r.kind}`, {
        action: 'get',
        gvk,
        params: itemParams,
        responses: ok(def, OBJECT_TYPES),
      });
    }
    if (has('update')) this.replace(item, `${ns}${r.kind}`, gvk, def, itemParams);
    if (has('patch')) this.patch(item, `${ns}${r.kind}`, gvk, def, itemParams);
    else if (has('create')) this.validationOnly(coll, `${ns}${r.kind}`, gvk, collParams);
    if (has('delete')) {
      const key = `${r.group}/${r.plural}`;
      this.add(item, 'delete', 'delete', `${ns}${r.kind}`, {
        action: 'delete',
        gvk,
        params: [...itemParams, ...DELETE_PARAMS],
        body: { schema: { def: DELETE_OPTIONS }, contentTypes: ANY, required: false },
        responses: ok(
          DELETE_RETURNS_OBJECT.has(key) && this.opts.deleteReturnsStatus !== true ? def : STATUS,
          OBJECT_TYPES,
          ['200', '202'],
        ),
      });
    }
    if (has('watch')) {
      this.add(`watch/${item}`, 'get', 'watch', `${ns}${r.kind}`, {
        action: 'watch',
        gvk,
        params: [...itemParams, ...LIST_PARAMS],
        responses: ok(WATCH_EVENT, LIST_TYPES),
      });
    }
    if (r.namespaced && has('list') && listDef !== undefined) {
      this.add(r.plural, 'get', 'list', `${r.kind}ForAllNamespaces`, {
        action: 'list',
        gvk,
        params: [PRETTY, ...LIST_PARAMS],
        responses: ok(listDef, LIST_TYPES),
      });
      if (has('watch')) {
        this.add(`watch/${r.plural}`, 'get', 'watch', `${r.kind}ListForAllNamespaces`, {
          action: 'watchlist',
          gvk,
          params: [PRETTY, ...LIST_PARAMS],
          responses: ok(WATCH_EVENT, LIST_TYPES),
        });
      }
    }
    for (const sub of r.subresources) this.subresource(r, sub, item, itemParams);
  }

  private replace(path: string, rest: string, gvk: GroupVersionKind, def: string, params: Param[]): void {
    this.add(path, 'put', 'replace', rest, {
      action: 'put',
      gvk,
      params: [...params, ...WRITE_PARAMS],
      body: { schema: { def }, contentTypes: ANY, required: true },
      responses: ok(def, OBJECT_TYPES, ['200', '201']),
    });
  }

  private patch(path: string, rest: string, gvk: GroupVersionKind, def: string, params: Param[]): void {
    this.add(path, 'patch', 'patch', rest, {
      action: 'patch',
      gvk,
      params: [...params, ...PATCH_PARAMS],
      body: { schema: { def: PATCH }, contentTypes: this.opts.patchTypes ?? PATCH_TYPES, required: true },
      responses: ok(def, OBJECT_TYPES, ['200', '201']),
    });
  }

  // kubectl (--validate=strict, the default) decides where fields are validated by looking
  // for `fieldValidation` on the kind's PATCH operation in v3. Create-only kinds (reviews,
  // Binding) have no PATCH upstream, so kubectl falls back to /openapi/v2 as protobuf, which
  // kts does not serve, and `kubectl create -f` fails. A parameter-only PATCH entry on the
  // collection path tells kubectl the server validates (kts validates every create), and
  // carries no request body so client-side apply never picks it for a patch.
  private validationOnly(path: string, rest: string, gvk: GroupVersionKind, params: Param[]): void {
    this.add(path, 'patch', 'declareFieldValidation', rest, {
      gvk,
      params: [...params, ...WRITE_PARAMS],
      responses: { '405': { contentTypes: [] }, ...UNAUTHORIZED },
      validationOnly: true,
    });
  }

  private subresource(r: ResourceInfo, sub: SubresourceInfo, item: string, itemParams: Param[]): void {
    const gvk = { group: sub.group ?? r.group, version: sub.version ?? r.version, kind: sub.kind };
    const path = `${item}/${sub.name}`;
    const rest = `${r.namespaced ? 'Namespaced' : ''}${r.kind}${capitalize(sub.name)}`;
    const has = (v: string): boolean => sub.verbs.includes(v);
    if (has('connect')) {
      this.connect(path, r, sub, gvk);
      return;
    }
    if (sub.name === 'log') {
      this.add(path, 'get', 'read', rest, {
        action: 'get',
        gvk,
        params: [...itemParams, ...LOG_PARAMS],
        responses: { '200': { schema: { string: true }, contentTypes: LOG_TYPES }, ...UNAUTHORIZED },
      });
      return;
    }
    const def = this.defFor(gvk);
    if (def === undefined) return;
    if (has('get')) {
      this.add(path, 'get', 'read', rest, {
        action: 'get',
        gvk,
        params: itemParams,
        responses: ok(def, OBJECT_TYPES),
      });
    }
    if (has('update')) this.replace(path, rest, gvk, def, itemParams);
    if (has('patch')) this.patch(path, rest, gvk, def, itemParams);
    if (has('create')) {
      this.add(path, 'post', 'create', rest, {
        action: 'post',
        gvk,
        params: [...itemParams, ...WRITE_PARAMS],
        body: { schema: { def }, contentTypes: ANY, required: true },
        responses: ok(def, OBJECT_TYPES, ['200', '201', '202']),
      });
    }
  }

  // exec/attach/portforward take GET and POST (WebSocket or SPDY upgrades); proxy takes every
  // method, with and without a trailing path. Their query parameters are the options kind's
  // fields.
  private connect(path: string, r: ResourceInfo, sub: SubresourceInfo, gvk: GroupVersionKind): void {
    const proxy = sub.name === 'proxy';
    const ns = r.namespaced ? 'Namespaced' : '';
    const base = r.namespaced ? [pathParam('name'), pathParam('namespace')] : [pathParam('name')];
    const options = CONNECT_PARAMS[sub.name] ?? [];
    const variants: Array<{ suffix: string; path: string; params: Param[] }> = [
      { suffix: '', path, params: [...base, ...options] },
    ];
    if (proxy) {
      variants.push({
        suffix: 'WithPath',
        path: `${path}/{path}`,
        params: [...base, pathParam('path'), ...options],
      });
    }
    for (const v of variants) {
      for (const m of proxy ? PROXY_METHODS : STREAM_METHODS) {
        this.add(v.path, m, 'connect', `${capitalize(m)}${ns}${r.kind}${capitalize(sub.name)}${v.suffix}`, {
          action: 'connect',
          gvk,
          params: v.params,
          responses: { '200': { schema: { string: true }, contentTypes: ANY }, ...UNAUTHORIZED },
        });
      }
    }
  }
}

const UNAUTHORIZED: Record<string, Response> = { '401': { contentTypes: [] } };

function ok(def: string, types: readonly string[], codes: string[] = ['200']): Record<string, Response> {
  const out: Record<string, Response> = {};
  for (const c of codes) out[c] = { schema: { def }, contentTypes: types };
  return { ...out, ...UNAUTHORIZED };
}

// The query parameters of a connect operation are the fields of its options kind
// (PodExecOptions, …). Those kinds are not in the schema table (upstream publishes no schema
// for them), so their fields are listed here.
const STREAM_FLAGS = ['stderr', 'stdin', 'stdout', 'tty'].map((n) => q(n, 'boolean'));
const CONNECT_PARAMS: Record<string, Param[]> = {
  attach: [q('container'), ...STREAM_FLAGS],
  exec: [q('command'), q('container'), ...STREAM_FLAGS],
  portforward: [q('ports', 'integer')],
  proxy: [q('path')],
};

/** The routes of one served group/version (discovery, resources, subresources). */
export function groupVersionRoutes(group: string, version: string): Route[] {
  return resourceRoutes(group, version, servedResourcesIn(group, version));
}

/** The routes of a group/version serving the given resources (discovery included). */
export function resourceRoutes(
  group: string,
  version: string,
  resources: readonly ResourceInfo[],
  opts: RouteOptions = {},
): Route[] {
  const b = new GroupVersionRoutes(group, version, opts);
  b.discovery();
  for (const r of resources) b.resource(r);
  return b.routes;
}

/** The route of an API group's root (`/apis/apps/`), answered with an APIGroup. */
export function groupRoute(group: string): Route {
  const word = toOperationIdPart(groupWord(group), false);
  return {
    path: `/apis/${group}/`,
    method: 'get',
    operationId: `get${capitalize(word)}APIGroup`,
    tags: [word],
    params: [],
    responses: ok(`${META}.APIGroup`, OBJECT_TYPES),
  };
}

/** The routes of the documents that are not a group/version: `api`, `apis`, `version`. */
export function rootRoutes(key: 'api' | 'apis' | 'version'): Route[] {
  switch (key) {
    case 'api':
      return [root('/api/', 'getCoreAPIVersions', 'core', `${META}.APIVersions`)];
    case 'apis':
      return [root('/apis/', 'getAPIVersions', 'apis', `${META}.APIGroupList`)];
    case 'version':
      return [root('/version/', 'getCodeVersion', 'version', 'io.k8s.apimachinery.pkg.version.Info')];
  }
}

function root(path: string, operationId: string, tag: string, def: string): Route {
  return {
    path,
    method: 'get',
    operationId,
    tags: [tag],
    params: [],
    responses: ok(def, ['application/json']),
  };
}

/** One OpenAPI document's source: its index key (`apis/apps/v1`) and routes. */
export interface DocumentSource {
  key: string;
  routes: Route[];
}

/** Every document kts serves under /openapi/v3, in index order. */
export function documentSources(): DocumentSource[] {
  const out: DocumentSource[] = [{ key: 'api', routes: rootRoutes('api') }];
  out.push({ key: 'apis', routes: rootRoutes('apis') });
  for (const g of servedGroups()) {
    if (g.name !== '') out.push({ key: `apis/${g.name}`, routes: [groupRoute(g.name)] });
    for (const v of g.versions) {
      const key = g.name === '' ? `api/${v}` : `apis/${g.name}/${v}`;
      out.push({ key, routes: groupVersionRoutes(g.name, v) });
    }
  }
  out.push({ key: 'version', routes: rootRoutes('version') });
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Routes grouped by path (paths sorted), with the parameters all of a path's operations share. */
export interface PathItem {
  path: string;
  shared: Param[];
  ops: Array<{ route: Route; own: Param[] }>;
}

const paramKey = (p: Param): string => `${p.in}:${p.name}`;
const byName = (a: Param, b: Param): number =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : a.in < b.in ? -1 : a.in > b.in ? 1 : 0;

/**
 * Groups routes into path items. Parameters common to every operation of a path move to the
 * path, as upstream does; on a path with a PATCH operation only path parameters and `pretty`
 * move, because kubectl reads the PATCH operation's own parameters to find `fieldValidation`.
 */
export function pathItems(routes: readonly Route[]): PathItem[] {
  const byPath = new Map<string, Route[]>();
  for (const r of routes) {
    const list = byPath.get(r.path);
    if (list) list.push(r);
    else byPath.set(r.path, [r]);
  }
  const out: PathItem[] = [];
  for (const path of [...byPath.keys()].sort()) {
    const rs = byPath
      .get(path)!
      .sort((a, b) => METHOD_ORDER.indexOf(a.method) - METHOD_ORDER.indexOf(b.method));
    // A validation-only stand-in neither shapes the path's parameters nor loses its own.
    const served = rs.filter((r) => r.validationOnly !== true);
    const basis = served.length > 0 ? served : rs;
    let common = new Set(basis[0]!.params.map(paramKey));
    for (const r of basis.slice(1)) common = new Set(r.params.map(paramKey).filter((k) => common.has(k)));
    if (basis.some((r) => r.method === 'patch' && r.action !== 'connect')) {
      common = new Set([...common].filter((k) => k.startsWith('path:') || k === 'query:pretty'));
    }
    const shared = basis[0]!.params.filter((p) => common.has(paramKey(p))).sort(byName);
    const ownOf = (r: Route): Param[] =>
      r.params
        .filter((p) => !common.has(paramKey(p)) || (r.validationOnly === true && p.in === 'query'))
        .sort(byName);
    out.push({ path, shared, ops: rs.map((route) => ({ route, own: ownOf(route) })) });
  }
  return out;
}

/** Definitions named directly by a set of routes (bodies and responses). */
export function referencedDefinitions(routes: readonly Route[]): string[] {
  const out = new Set<string>();
  const visit = (s: SchemaRef | undefined): void => {
    if (s !== undefined && 'def' in s) out.add(s.def);
  };
  for (const r of routes) {
    visit(r.body?.schema);
    for (const resp of Object.values(r.responses)) visit(resp.schema);
  }
  return [...out];
}
