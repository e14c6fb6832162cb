// Errors raised inside the patch engines, and their translation into the API errors the
// apiserver sends. The engines raise PatchError with upstream's message text and a kind; the
// translation (upstream's interpretStrategicMergePatchError and the JSON patch handler in
// apiserver/pkg/endpoints/handlers/patch.go) is done once, here.
import { StatusError, badRequest } from '../status-error.js';
import { goFormat, goTypeName } from './json-values.js';

/** What went wrong, as far as the HTTP status is concerned. */
export type PatchErrorKind =
  /** mergepatch.ErrBadJSONDoc and decode failures: 400. */
  | 'badJSONDoc'
  /** ErrBadPatchFormatFor{PrimitiveList,RetainKeys,SetElementOrderList}: 400. */
  | 'badPatchFormat'
  /** ErrUnsupportedStrategicMergePatchFormat: 400. */
  | 'unsupported'
  /** ErrNoListOfLists, ErrPatchContentNotMatchRetainKeys: 422. */
  | 'unprocessable'
  /** A three-way patch conflicts with changes made to the live object (overwrite=false). */
  | 'conflict'
  /** Anything else: upstream returns the bare error, which the apiserver serves as a 500. */
  | 'other';

/** An error from a patch engine, carrying upstream's message. */
export class PatchError extends Error {
  readonly kind: PatchErrorKind;

  constructor(kind: PatchErrorKind, message: string) {
    super(message);
    this.name = 'PatchError';
    this.kind = kind;
  }
}

/** mergepatch.ErrBadJSONDoc. */
export const errBadJSONDoc = (): PatchError => new PatchError('badJSONDoc', 'invalid JSON document');
/** mergepatch.ErrNoListOfLists. */
export const errNoListOfLists = (): PatchError =>
  new PatchError('unprocessable', 'lists of lists are not supported');
/** mergepatch.ErrBadPatchFormatForPrimitiveList. */
export const errBadPatchFormatForPrimitiveList = (): PatchError =>
  new PatchError('badPatchFormat', 'invalid patch format of primitive list');
/** mergepatch.ErrBadPatchFormatForRetainKeys. */
export const errBadPatchFormatForRetainKeys = (): PatchError =>
  new PatchError('badPatchFormat', 'invalid patch format of retainKeys');
/** mergepatch.ErrBadPatchFormatForSetElementOrderList. */
export const errBadPatchFormatForSetElementOrderList = (): PatchError =>
  new PatchError('badPatchFormat', 'invalid patch format of setElementOrder list');

/** mergepatch.ErrNoMergeKey. */
export function errNoMergeKey(m: unknown, key: string): PatchError {
  return new PatchError('other', `map: ${goFormat(m)} does not contain declared merge key: ${key}`);
}

/** mergepatch.ErrBadArgType: `expected a <want>, but received a <got>`. */
export function errBadArgType(want: 'map' | 'slice', actual: unknown): PatchError {
  const w = want === 'map' ? 'map[string]interface {}' : '[]interface {}';
  return new PatchError('other', `expected a ${w}, but received a ${goTypeName(actual)}`);
}

/** mergepatch.ErrBadPatchType: `unknown patch type: <t> in map: <m>`. */
export function errBadPatchType(t: unknown, m: unknown): PatchError {
  const ts = typeof t === 'string' ? t : `%!s(${goTypeName(t)}=${goFormat(t)})`;
  return new PatchError('other', `unknown patch type: ${ts} in map: ${goFormat(m)}`);
}

/** An otherwise uncategorised engine error with upstream's text. */
export function errOther(message: string): PatchError {
  return new PatchError('other', message);
}

/**
 * 422 as upstream's NewGenericServerResponse(422, …) builds it: the engine's own message is
 * replaced by a fixed sentence (kubectl prints `The request is invalid: the server rejected
 * our request due to an error in our request`).
 */
export function genericUnprocessable(): StatusError {
  return new StatusError({
    code: 422,
    reason: 'Invalid',
    message: 'the server rejected our request due to an error in our request',
    details: {},
  });
}

/** A bare Go error returned from a handler: 500 with no reason and the error text. */
export function unknownServerError(message: string): StatusError {
  return new StatusError({ code: 500, message });
}

/** Translates a strategic merge patch failure into the API error the apiserver serves. */
export function strategicMergePatchStatusError(err: unknown): StatusError {
  if (err instanceof StatusError) return err;
  if (!(err instanceof PatchError)) {
    return unknownServerError(err instanceof Error ? err.message : String(err));
  }
  let out: StatusError;
  switch (err.kind) {
    case 'badJSONDoc':
    case 'badPatchFormat':
    case 'unsupported':
      out = badRequest(err.message);
      break;
    case 'unprocessable':
      out = genericUnprocessable();
      break;
    default:
      out = unknownServerError(err.message);
  }
  out.cause = err;
  return out;
}
