// POST, PUT and DELETE of a resource (and DELETE of a collection). Each decodes and checks
// its body, runs schema validation per fieldValidation, then hands the object to the
// generic Store, which owns everything after that.
import { isCSRResource, stampCSRRequester } from '../auth/csr-requester.js';
import { checkCustomFields } from '../../apiextensions/field-validation.js';
import { definitionForGVK } from '../../api/schema.js';
import { undecodable, validateSchema } from '../../api/validation/schema-validate.js';
import { badRequest, unsupportedMediaType } from '../../machinery/status-error.js';
import { type RawResponse, readBody, successStatus, writeObject } from '../http.js';
import { parseListQuery, queryBool } from '../registry/list-options.js';
import type { KObject } from '../registry/object.js';
import { isObject, renderedJSON } from '../registry/object.js';
import type { DeleteOpts } from '../registry/store.js';
import { decodeObjectBody, mediaType } from './decode.js';
import { apiVersionOf, withTypeMeta } from './render.js';
import { type ParsedWriteOptions, parseWriteOptions, type Scope } from './scope.js';

/** Checks the body's apiVersion/kind against the endpoint, defaulting them when absent. */
export function checkTypeMeta(
  s: Scope,
  obj: KObject,
  expectKind = s.resource.kind,
  expectAPIVersion = apiVersionOf(s.resource),
): void {
  if (obj.apiVersion === undefined || obj.apiVersion === '') obj.apiVersion = expectAPIVersion;
  if (obj.kind === undefined || obj.kind === '') obj.kind = expectKind;
  if (obj.apiVersion !== expectAPIVersion) {
    throw badRequest(
      `the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${expectAPIVersion})`,
    );
  }
  if (obj.kind !== expectKind) {
    throw badRequest(
      `the kind in the data (${String(obj.kind)}) does not match the expected kind (${expectKind})`,
    );
  }
}

/** Structural validation of a body per fieldValidation; warnings go to the response. */
export function checkSchema(s: Scope, obj: KObject, duplicates: string[], wo: ParsedWriteOptions): void {
  if (s.custom) {
    checkCustomFields(s.custom, obj, duplicates, wo.fieldValidation, s.warnings);
    return;
  }
  if (wo.fieldValidation === 'Ignore' && duplicates.length === 0) {
    // Type errors still fail in Ignore mode, so validate anyway (cheap), only the unknown
    // field reporting is dropped.
  }
  const def = definitionForGVK({
    group: s.resource.group,
    version: s.resource.version,
    kind: String(obj.kind),
  });
  if (!def) return;
  const r = validateSchema(obj, def, {
    mode: wo.fieldValidation,
    duplicates,
    prune: true,
    // upstream's decoder reports strict problems through transformDecodeError too
    strictError: (message) => undecodable(obj, def, message),
  });
  for (const w of r.warnings) s.warnings.push(w);
}

/** Reads and decodes an object body. */
export async function readObject(s: Scope): Promise<{ obj: KObject; duplicates: string[] }> {
  const body = await readBody(s.req);
  if (body.length === 0) throw badRequest("Object 'Kind' is missing in ''");
  // Other subresources decode a kind of their own (Scale, Eviction, Binding, …).
  const main = s.info.subresource === '' || s.info.subresource === 'status';
  // Custom objects have no protobuf form: upstream's CR handler knows JSON and YAML only.
  if (
    s.custom &&
    main &&
    mediaType(s.req.headers['content-type']) === 'application/vnd.kubernetes.protobuf'
  ) {
    throw unsupportedMediaType('application/vnd.kubernetes.protobuf', [
      'application/json',
      'application/yaml',
    ]);
  }
  return decodeObjectBody(s.req.headers['content-type'], body, main ? s.resource.kind : undefined);
}

/** POST /…/<resource> */
export async function handleCreate(s: Scope): Promise<void> {
  const wo = parseWriteOptions(s);
  const { obj, duplicates } = await readObject(s);
  checkTypeMeta(s, obj);
  checkSchema(s, obj, duplicates, wo);
  if (isCSRResource(s.resource)) stampCSRRequester(obj, s.user);
  // The body was decoded for this request alone: the Store may use it without a copy.
  const created = await s.store.create(s.info.namespace, obj, wo, true);
  writeStored(s.res, 201, created, s);
}

/**
 * Replies with an object a Store write returned, reusing the JSON the Store rendered
 * while persisting it (it already starts with the resource's kind and apiVersion).
 */
export function writeStored(res: RawResponse, code: number, obj: KObject, s: Scope): void {
  const json = renderedJSON(obj);
  if (json === undefined) {
    writeObject(res, code, withTypeMeta(obj, s.resource));
    return;
  }
  res.statusCode = code;
  res.setHeader('Content-Type', 'application/json');
  res.end(json);
}

/** PUT /…/<resource>/<name>[/status] */
export async function handleUpdate(s: Scope): Promise<void> {
  const wo = parseWriteOptions(s);
  const { obj, duplicates } = await readObject(s);
  checkTypeMeta(s, obj);
  checkSchema(s, obj, duplicates, wo);
  const status = s.info.subresource === 'status';
  const r = await s.store.update(s.info.namespace, s.info.name, obj, wo, status);
  writeStored(s.res, r.created ? 201 : 200, r.obj, s);
}

/** Reads metav1.DeleteOptions from the body (JSON or protobuf) and the query. */
export async function readDeleteOptions(s: Scope): Promise<DeleteOpts> {
  const q = s.url.searchParams;
  const out: DeleteOpts = {};
  const body = await readBody(s.req);
  if (body.length > 0) {
    const { obj } = decodeObjectBody(s.req.headers['content-type'], body);
    const o = obj as Record<string, unknown>;
    if (typeof o.gracePeriodSeconds === 'number') out.gracePeriodSeconds = o.gracePeriodSeconds;
    if (typeof o.propagationPolicy === 'string')
      out.propagationPolicy = o.propagationPolicy as DeleteOpts['propagationPolicy'];
    if (typeof o.orphanDependents === 'boolean') out.orphanDependents = o.orphanDependents;
    if (isObject(o.preconditions)) {
      const p = o.preconditions;
      out.preconditions = {
        ...(typeof p.uid === 'string' ? { uid: p.uid } : {}),
        ...(typeof p.resourceVersion === 'string' ? { resourceVersion: p.resourceVersion } : {}),
      };
    }
    if (Array.isArray(o.dryRun) && o.dryRun.length > 0 && !q.has('dryRun'))
      q.append('dryRun', String(o.dryRun[0]));
  }
  const gp = q.get('gracePeriodSeconds');
  if (gp !== null) {
    const n = Number.parseInt(gp, 10);
    if (!Number.isFinite(n)) throw badRequest(`invalid gracePeriodSeconds: ${gp}`);
    out.gracePeriodSeconds = n;
  }
  const pp = q.get('propagationPolicy');
  if (pp !== null) out.propagationPolicy = pp as DeleteOpts['propagationPolicy'];
  const od = q.get('orphanDependents');
  if (od !== null) out.orphanDependents = queryBool(od);
  if (
    out.propagationPolicy !== undefined &&
    !['Orphan', 'Background', 'Foreground'].includes(out.propagationPolicy)
  ) {
    throw badRequest(
      `propagationPolicy: Unsupported value: ${JSON.stringify(out.propagationPolicy)}: supported values: "Foreground", "Background", "Orphan", "nil"`,
    );
  }
  if (out.orphanDependents !== undefined && out.propagationPolicy !== undefined) {
    throw badRequest('orphanDependents and propagationPolicy cannot both be set');
  }
  if (out.gracePeriodSeconds !== undefined && out.gracePeriodSeconds < 0) out.gracePeriodSeconds = 0;
  return out;
}

/** DELETE /…/<resource>/<name> */
export async function handleDelete(s: Scope): Promise<void> {
  const opts = await readDeleteOptions(s);
  const wo = parseWriteOptions(s);
  const r = await s.store.delete(s.info.namespace, s.info.name, opts, wo);
  if (!r.deleted) {
    // Still present (graceful or finalizer-held): upstream returns the object.
    const code = opts.orphanDependents === false ? 202 : 200;
    writeObject(s.res, code, withTypeMeta(r.obj, s.resource));
    return;
  }
  if (s.resource.group === '' && s.resource.plural === 'pods') {
    writeObject(s.res, 200, withTypeMeta(r.obj, s.resource));
    return;
  }
  writeObject(
    s.res,
    200,
    successStatus({
      name: s.info.name,
      group: s.resource.group,
      kind: s.resource.plural,
      ...(r.obj.metadata?.uid ? { uid: r.obj.metadata.uid } : {}),
    }),
  );
}

/** DELETE /…/<resource> (deletecollection) */
export async function handleDeleteCollection(s: Scope): Promise<void> {
  const opts = await readDeleteOptions(s);
  const wo = parseWriteOptions(s);
  const q = parseListQuery(s.url.searchParams, false);
  const deleted = await s.store.deleteCollection(s.info.namespace, q, opts, wo);
  writeObject(s.res, 200, {
    kind: s.resource.listKind,
    apiVersion: apiVersionOf(s.resource),
    metadata: {},
    items: deleted.map((o) => withTypeMeta(o, s.resource)),
  });
}
