// Routes a resource request to its verb handler: checks that the resource and subresource
// are served and allow the verb (404/405 as upstream), applies the NamespaceLifecycle rules,
// then calls the read, write, patch, watch or subresource handler.
import { subresourceOf } from '../api/registry.js';
import type { ResourceInfo } from '../api/registry-types.js';
import { badRequest, StatusError, serviceUnavailable } from '../machinery/status-error.js';
import {
  handlePodLog,
  handleResourceProxy,
  PROXY_RESOURCES,
  resolvePodTarget,
  UPGRADE_SUBRESOURCES,
} from './connect/index.js';
import { handleGet, handleList } from './endpoints/read.js';
import { handleComponentStatuses, handleReview } from './endpoints/reviews.js';
import type { Scope } from './endpoints/scope.js';
import {
  handleApproval,
  handleBinding,
  handleEphemeralContainers,
  handleEviction,
  handleFinalize,
  handleScale,
  handleTokenRequest,
} from './endpoints/subresources.js';
import { handlePatch } from './endpoints/patch.js';
import { handleCreate, handleDelete, handleDeleteCollection, handleUpdate } from './endpoints/write.js';
import { notFoundStatus } from './non-resource.js';
import { convertHpaV1Request, isHpaV1Request } from './hpa-v1-conversion.js';
import type { ServerContext } from './server.js';
import { handleCustomScale } from '../apiextensions/custom-resource-scale.js';
import { isVirtual } from './stores.js';

/** A resource request before its Store is known. */
export type ResourceRequest = Omit<Scope, 'resource' | 'store'>;

function methodNotAllowed(): StatusError {
  return new StatusError({
    reason: 'MethodNotAllowed',
    code: 405,
    message: 'the server does not allow this method on the requested resource',
    details: {},
  });
}

const CONNECT = new Set(['log', 'exec', 'attach', 'portforward', 'proxy']);

// Connect subresources of pods go to the pod's kubelet (src/apiserver/connect/). The
// streaming ones arrive here only without an HTTP/1.1 upgrade (HTTP/2, or a plain request),
// which cannot carry them: after the pod checks, that is upstream's 400. `proxy` of nodes,
// pods and services forwards any method to the node's kubelet, the pod or an endpoint.
async function handleConnect(
  ctx: ServerContext,
  rr: ResourceRequest,
  resource: ResourceInfo,
  sub: string,
): Promise<void> {
  const { info } = rr;
  if (sub === 'proxy' && info.apiGroup === '' && PROXY_RESOURCES.has(info.resource) && info.name !== '') {
    return handleResourceProxy(rr, ctx.stores, ctx.kubelets);
  }
  if (info.apiGroup === '' && info.resource === 'pods' && info.name !== '') {
    if (sub === 'log') {
      if (info.verb !== 'get') throw methodNotAllowed();
      const scope = { ...rr, resource, store: ctx.stores.get(resource) };
      return handlePodLog(scope, ctx.stores, ctx.kubelets);
    }
    if (UPGRADE_SUBRESOURCES.has(sub)) {
      await resolvePodTarget(
        ctx.stores,
        info.namespace,
        info.name,
        rr.url.searchParams.get('container') ?? '',
        sub as 'exec' | 'attach' | 'portforward',
      );
      throw badRequest('Upgrade request required');
    }
  }
  throw serviceUnavailable(
    `the ${sub} subresource needs a kubelet, and no kubelet serves ${info.namespace}/${info.name}`,
  );
}

/** Serves one resource request. */
export async function handleResource(ctx: ServerContext, rr: ResourceRequest): Promise<void> {
  const { info } = rr;
  const resource = ctx.served.resource(info.apiGroup, info.apiVersion, info.resource);
  if (!resource) {
    if (isHpaV1Request(info)) {
      if (info.verb === 'patch') throw methodNotAllowed();
      return handleResource(ctx, { ...rr, ...(await convertHpaV1Request(info, rr.req, rr.res)) });
    }
    throw notFoundStatus();
  }
  // A cluster-scoped resource addressed under a namespace does not exist.
  if (!resource.namespaced && info.namespace !== '' && !(info.resource === 'namespaces'))
    throw notFoundStatus();
  const verb = info.verb;
  const sub = info.subresource;
  if (sub !== '') {
    const sr = subresourceOf(resource, sub);
    if (!sr) throw notFoundStatus();
    if (CONNECT.has(sub)) return handleConnect(ctx, rr, resource, sub);
    if (!sr.verbs.includes(verb)) throw methodNotAllowed();
  } else if (!resource.verbs.includes(verb)) {
    throw methodNotAllowed();
  }
  // Routes that do not exist upstream: PUT/PATCH of a collection, POST to a named object,
  // and methods with no verb (OPTIONS, …) all answer 405 there.
  if (
    sub === '' &&
    (verb === '' ||
      ((verb === 'update' || verb === 'patch') && info.name === '') ||
      (verb === 'create' && info.name !== ''))
  ) {
    throw methodNotAllowed();
  }

  const ext = ctx.served.extension(info.apiGroup, info.apiVersion, info.resource);
  if (ext !== undefined) {
    if (sub !== '') throw notFoundStatus();
    return ext.handle(rr, resource);
  }
  if (isVirtual(resource)) {
    const s = { ...rr, resource, store: ctx.stores.byName('', 'namespaces') };
    if (resource.plural === 'componentstatuses') return handleComponentStatuses(s);
    if (resource.plural === 'bindings') return handleBinding(s, ctx.stores.byName('', 'pods'));
    return handleReview(s, ctx.authorizer, ctx.authn);
  }
  const custom = ctx.served.customResource(info.apiGroup, info.apiVersion, info.resource);
  if (custom && verb === 'create' && custom.crd.metadata?.deletionTimestamp !== undefined) {
    throw new StatusError({
      reason: 'MethodNotAllowed',
      code: 405,
      message: 'create not allowed while custom resource definition is terminating',
      details: {},
    });
  }
  const store = ctx.stores.get(resource);
  const s: Scope = {
    ...rr,
    resource,
    store,
    ...(custom ? { custom } : {}),
    admit: (operation, dryRun) =>
      ctx.admission.hooksFor({
        operation,
        resource,
        subresource: info.subresource,
        namespace: info.namespace,
        name: info.name,
        user: rr.user,
        dryRun,
        warn: (m: string) => rr.warnings.push(m),
      }),
  };

  switch (sub) {
    case '':
    case 'status':
      switch (verb) {
        case 'get':
          return handleGet(s);
        case 'list':
        case 'watch':
          return handleList(s);
        case 'create':
          return handleCreate(s);
        case 'update':
          return handleUpdate(s);
        case 'patch':
          return handlePatch(s);
        case 'delete':
          return handleDelete(s);
        case 'deletecollection':
          return handleDeleteCollection(s);
      }
      throw methodNotAllowed();
    case 'scale':
      return custom ? handleCustomScale(s, custom, verb) : handleScale(s, verb);
    case 'binding':
      return handleBinding(s, store);
    case 'eviction':
      return handleEviction(s, ctx.stores.byName('policy', 'poddisruptionbudgets'));
    case 'finalize':
      return handleFinalize(s);
    case 'approval':
      return handleApproval(s);
    case 'ephemeralcontainers':
      return handleEphemeralContainers(s, verb);
    case 'token':
      return handleTokenRequest(s, ctx.tokens, async (kind, ns, name) => {
        const plural = kind === 'Pod' ? 'pods' : kind === 'Secret' ? 'secrets' : 'nodes';
        return ctx.stores.byName('', plural).get(ns, name);
      });
  }
  throw notFoundStatus();
}
