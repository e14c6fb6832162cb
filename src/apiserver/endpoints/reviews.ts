// Create-only virtual resources that answer questions instead of storing objects:
// SelfSubjectAccessReview (`kubectl auth can-i`), SelfSubjectRulesReview (`can-i --list`),
// SubjectAccessReview, LocalSubjectAccessReview, TokenReview, SelfSubjectReview
// (`kubectl auth whoami`), plus the read-only ComponentStatus list. Answers come from the
// server's Authorizer, so they always agree with what requests are actually allowed.
import { badRequest } from '../../machinery/status-error.js';
import { writeObject } from '../http.js';
import { negotiate } from '../negotiation.js';
import { buildTableFor } from '../printers/index.js';
import type { KObject } from '../registry/object.js';
import { isObject } from '../registry/object.js';
import { rfc3339 } from '../registry/store.js';
import { apiVersionOf } from './render.js';
import { parseWriteOptions, type Scope, type UserInfo } from './scope.js';
import { checkSchema, checkTypeMeta, readObject } from './write.js';

/** The attributes an authorization decision is made on (upstream authorizer.Attributes). */
export interface AuthzAttributes {
  user: UserInfo;
  verb: string;
  namespace: string;
  apiGroup: string;
  resource: string;
  subresource: string;
  name: string;
  path?: string;
  resourceRequest: boolean;
}

/** An authorization decision. */
export interface Decision {
  allowed: boolean;
  denied?: boolean;
  reason: string;
}

/** Decides whether a user may do something; rules for `can-i --list`. */
export interface Authorizer {
  authorize(a: AuthzAttributes): Decision;
  rulesFor(
    user: UserInfo,
    namespace: string,
  ): { resourceRules: unknown[]; nonResourceRules: unknown[]; incomplete: boolean };
}

type Obj = Record<string, unknown>;

function userFromSpec(sp: Obj): UserInfo {
  const extra = isObject(sp.extra) ? (sp.extra as Record<string, string[]>) : undefined;
  return {
    username: typeof sp.user === 'string' ? sp.user : '',
    ...(typeof sp.uid === 'string' ? { uid: sp.uid } : {}),
    groups: Array.isArray(sp.groups) ? (sp.groups as string[]) : [],
    ...(extra ? { extra } : {}),
  };
}

function attributes(user: UserInfo, sp: Obj, namespaceOverride?: string): AuthzAttributes {
  const ra = isObject(sp.resourceAttributes) ? (sp.resourceAttributes as Obj) : undefined;
  const nra = isObject(sp.nonResourceAttributes) ? (sp.nonResourceAttributes as Obj) : undefined;
  if (ra) {
    return {
      user,
      verb: String(ra.verb ?? ''),
      namespace: namespaceOverride ?? String(ra.namespace ?? ''),
      apiGroup: String(ra.group ?? ''),
      resource: String(ra.resource ?? ''),
      subresource: String(ra.subresource ?? ''),
      name: String(ra.name ?? ''),
      resourceRequest: true,
    };
  }
  if (nra) {
    return {
      user,
      verb: String(nra.verb ?? ''),
      namespace: '',
      apiGroup: '',
      resource: '',
      subresource: '',
      name: '',
      path: String(nra.path ?? ''),
      resourceRequest: false,
    };
  }
  throw badRequest('exactly one of nonResourceAttributes or resourceAttributes must be specified');
}

function answer(s: Scope, obj: KObject, status: Obj): void {
  const { status: _drop, ...rest } = obj;
  const m = rest.metadata ?? {};
  writeObject(s.res, 201, {
    kind: s.resource.kind,
    apiVersion: apiVersionOf(s.resource),
    ...rest,
    metadata: { ...m, creationTimestamp: null },
    status,
  });
}

function decisionStatus(d: Decision): Obj {
  return {
    allowed: d.allowed,
    ...(d.denied ? { denied: true } : {}),
    ...(d.reason ? { reason: d.reason } : {}),
  };
}

/** What TokenReview asks (the API server's Authenticator). */
export interface TokenReviewer {
  reviewToken(
    token: string,
    now: Date,
    audiences: string[],
  ): { user: UserInfo; audiences: string[] } | { error: string };
}

/** POST of one of the review kinds. */
export async function handleReview(s: Scope, authz: Authorizer, reviewer: TokenReviewer): Promise<void> {
  const wo = parseWriteOptions(s);
  const { obj, duplicates } = await readObject(s);
  checkTypeMeta(s, obj);
  // Typed decoding as upstream's: wrong types are 400s and unknown fields are dropped
  // before the review is echoed back.
  checkSchema(s, obj, duplicates, wo);
  const sp = isObject(obj.spec) ? (obj.spec as Obj) : {};
  switch (s.resource.kind) {
    case 'SelfSubjectAccessReview':
      answer(s, obj, decisionStatus(authz.authorize(attributes(s.user, sp))));
      return;
    case 'SubjectAccessReview':
      answer(s, obj, decisionStatus(authz.authorize(attributes(userFromSpec(sp), sp))));
      return;
    case 'LocalSubjectAccessReview':
      answer(s, obj, decisionStatus(authz.authorize(attributes(userFromSpec(sp), sp, s.info.namespace))));
      return;
    case 'SelfSubjectRulesReview': {
      const ns = typeof sp.namespace === 'string' ? sp.namespace : '';
      answer(s, obj, authz.rulesFor(s.user, ns));
      return;
    }
    case 'SelfSubjectReview':
      answer(s, obj, { userInfo: userInfoJSON(s.user) });
      return;
    case 'TokenReview': {
      const token = typeof sp.token === 'string' ? sp.token : '';
      if (token === '') throw badRequest('token is required for TokenReview in authentication');
      const audiences = Array.isArray(sp.audiences) ? (sp.audiences as string[]) : [];
      const r = reviewer.reviewToken(token, s.now, audiences);
      // authenticated and error are omitempty upstream: a refused token shows only `user: {}`.
      if (!('user' in r)) {
        answer(s, obj, { user: {}, ...(r.error ? { error: r.error } : {}) });
        return;
      }
      answer(s, obj, { authenticated: true, user: userInfoJSON(r.user), audiences: r.audiences });
      return;
    }
    default:
      throw badRequest(`${s.resource.kind} is not a review kind`);
  }
}

function userInfoJSON(u: UserInfo): Obj {
  return {
    username: u.username,
    ...(u.uid ? { uid: u.uid } : {}),
    groups: u.groups,
    ...(u.extra ? { extra: u.extra } : {}),
  };
}

/**
 * GET componentstatuses[/<name>]: every control-plane part runs in-process and is healthy
 * when serving. Answers carry upstream's deprecation warning and come as a Table when asked.
 */
export function handleComponentStatuses(s: Scope): void {
  s.warnings.push('v1 ComponentStatus is deprecated in v1.19+');
  const rep = negotiate(s.req.headers.accept as string | undefined, { table: true, partial: true });
  const names = ['controller-manager', 'scheduler', 'etcd-0'];
  const item = (name: string): KObject =>
    ({
      kind: 'ComponentStatus',
      apiVersion: 'v1',
      metadata: { name, creationTimestamp: null },
      conditions: [{ type: 'Healthy', status: 'True', message: 'ok' }],
    }) as unknown as KObject;
  const table = (objs: KObject[]) =>
    buildTableFor(s.resource, objs, {
      includeObject: 'Metadata',
      now: s.now,
      version: rep.kind === 'table' ? rep.version : 'v1',
    });
  if (s.info.name !== '') {
    if (!names.includes(s.info.name)) {
      writeObject(s.res, 404, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `componentstatuses "${s.info.name}" not found`,
        reason: 'NotFound',
        details: { name: s.info.name, kind: 'componentstatuses' },
        code: 404,
      });
      return;
    }
    if (rep.kind === 'table') {
      writeObject(s.res, 200, table([item(s.info.name)]));
      return;
    }
    writeObject(s.res, 200, item(s.info.name));
    return;
  }
  if (rep.kind === 'table') {
    writeObject(s.res, 200, table(names.map(item)));
    return;
  }
  writeObject(s.res, 200, {
    kind: 'ComponentStatusList',
    apiVersion: 'v1',
    metadata: {},
    items: names.map(item),
  });
}

/** Timestamp helper re-exported for review handlers' callers. */
export const timestamp = rfc3339;
