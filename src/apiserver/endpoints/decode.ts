// Request body decoding by Content-Type. JSON keeps the duplicate-key paths for strict
// field validation; protobuf bodies (kubectl's typed clients) have Go's zero values
// dropped so they read like the JSON form. Anything unparseable is a 400, never a crash,
// worded as upstream's transformDecodeError words it when the expected kind is known.
import { decodeJSONWithDuplicates, JSONSyntaxError } from '../../api/codec/json.js';
import { decodeProtobufDroppingZeros, hasProtobufPrefix } from '../../api/codec/protobuf.js';
import { decodeYAML } from '../../api/codec/yaml.js';
import { badRequest, StatusError, unsupportedMediaType } from '../../machinery/status-error.js';
import type { KObject } from '../registry/object.js';
import { isObject } from '../registry/object.js';

/** A decoded request body. */
export interface DecodedBody {
  obj: KObject;
  /** JSON paths of duplicate keys (JSON bodies only). */
  duplicates: string[];
}

/** The media type of a Content-Type header, lower-cased, without parameters. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

const OBJECT_TYPES = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];

/**
 * Decodes an object body (create, update, delete options, subresource posts). With `into`
 * (the kind the endpoint expects) a syntax error reads as upstream's: `the object provided
 * is unrecognized (must be of type Pod): couldn't get version/kind; json parse error: …`.
 */
export function decodeObjectBody(contentType: string | undefined, body: Buffer, into?: string): DecodedBody {
  const mt = mediaType(contentType) || 'application/json';
  let decoded: DecodedBody;
  try {
    decoded = decodeAs(mt, body);
    // Upstream reads apiVersion and kind into strings before anything else; any other JSON
    // type fails there (and must not reach code that would stringify a deep structure).
    if (mt !== 'application/vnd.kubernetes.protobuf') checkTypeMetaTypes(decoded.obj);
  } catch (e) {
    if (into === undefined || !(e instanceof StatusError) || e.reason !== 'BadRequest') throw e;
    const why =
      e instanceof JSONSyntaxError || e instanceof TypeMetaError
        ? `couldn't get version/kind; json parse error: ${e.goMessage}`
        : e.message;
    throw badRequest(
      `the object provided is unrecognized (must be of type ${into}): ${why} (${summarizeData(body, 30)})`,
    );
  }
  if (!isObject(decoded.obj)) throw badRequest(`Object 'Kind' is missing in '${truncate(body)}'`);
  return decoded;
}

class TypeMetaError extends StatusError {
  constructor(readonly goMessage: string) {
    super({ reason: 'BadRequest', code: 400, message: goMessage });
  }
}

function checkTypeMetaTypes(obj: unknown): void {
  if (!isObject(obj)) return;
  for (const f of ['apiVersion', 'kind'] as const) {
    const v = obj[f];
    if (v === undefined || v === null || typeof v === 'string') continue;
    const what =
      typeof v === 'number'
        ? 'number'
        : typeof v === 'boolean'
          ? 'bool'
          : Array.isArray(v)
            ? 'array'
            : 'object';
    throw new TypeMetaError(`json: cannot unmarshal ${what} into Go struct field .${f} of type string`);
  }
}

// Upstream's summarizeData: JSON-looking bodies as text, anything else as hex.
function summarizeData(data: Buffer, max: number): string {
  if (data.length === 0) return '<empty>';
  const cut = data.length > max;
  const head = cut ? data.subarray(0, max) : data;
  const s = data[0] === 0x7b ? head.toString('utf8') : head.toString('hex');
  return cut ? `${s} ...` : s;
}

function decodeAs(mt: string, body: Buffer): DecodedBody {
  let value: unknown;
  let duplicates: string[] = [];
  switch (mt) {
    case 'application/json': {
      const r = decodeJSONWithDuplicates(body);
      value = r.value;
      duplicates = r.duplicates;
      break;
    }
    case 'application/yaml':
      value = decodeYAML(body);
      break;
    case 'application/vnd.kubernetes.protobuf': {
      if (!hasProtobufPrefix(body)) {
        throw badRequest(
          'provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]',
        );
      }
      value = decodeProtobufDroppingZeros(body);
      break;
    }
    default:
      throw unsupportedMediaType(mt, OBJECT_TYPES);
  }
  return { obj: value as KObject, duplicates };
}

function truncate(b: Buffer): string {
  const s = b.toString('utf8');
  return s.length > 100 ? `${s.slice(0, 100)}...` : s;
}
