// Well-known messages whose JSON form is not an object: Time, MicroTime, Duration (strings),
// Quantity (string), IntOrString (number | string), RawExtension and FieldsV1 (embedded JSON,
// or an embedded protobuf envelope inside RawExtension), and named-slice wrappers (arrays).
import { badRequest } from '../../machinery/status-error.js';
import { parseJSONValue } from './json.js';
import {
  K_MESSAGE,
  type MessageDesc,
  S_DURATION,
  S_FIELDS_V1,
  S_INT_OR_STRING,
  S_LIST,
  S_MICROTIME,
  S_QUANTITY,
  S_RAW_EXTENSION,
  S_TIME,
} from './protobuf-descriptors.js';
import {
  formatDuration,
  formatMicroTime,
  formatTime,
  parseDuration,
  parseTime,
} from './protobuf-wellknown.js';
import {
  hasProtobufPrefix,
  type ProtoReader,
  type ProtoWriter,
  protoError,
  WIRE_LEN,
  WIRE_VARINT,
} from './protobuf-wire.js';

type ReadInto = (r: ProtoReader, desc: MessageDesc, out: Record<string, unknown>, depth: number) => void;
type DecodeEnvelope = (bytes: Uint8Array, depth: number) => Record<string, unknown>;
type WriteScalar = (w: ProtoWriter, kind: number, v: unknown, p: string) => void;

/** The JSON value of an absent-but-implied special message (map values without a value). */
export function zeroOfSpecial(special: number): unknown {
  switch (special) {
    case S_TIME:
    case S_MICROTIME:
    case S_RAW_EXTENSION:
    case S_FIELDS_V1:
      return null;
    case S_DURATION:
      return '0s';
    case S_QUANTITY:
      return '0';
    case S_INT_OR_STRING:
      return 0;
    case S_LIST:
      return [];
    default:
      return {};
  }
}

function num(v: unknown): number {
  return typeof v === 'number' ? v : 0;
}

/** Decodes a special message bounded by `r.end` into its JSON value. */
export function decodeSpecial(
  r: ProtoReader,
  msg: MessageDesc,
  depth: number,
  readInto: ReadInto,
  decodeEnvelope: DecodeEnvelope,
): unknown {
  if (msg.special === S_RAW_EXTENSION || msg.special === S_FIELDS_V1) {
    let raw: Uint8Array | undefined;
    while (r.pos < r.end) {
      const tag = r.uint32();
      if (tag >>> 3 === 1) {
        if ((tag & 7) !== WIRE_LEN)
          throw protoError(`wrong wireType = ${tag & 7} for field raw of ${msg.name}`);
        raw = r.bytes();
      } else r.skip(tag & 7);
    }
    if (raw === undefined || raw.length === 0) return null;
    if (msg.special === S_RAW_EXTENSION && hasProtobufPrefix(raw)) return decodeEnvelope(raw, depth + 1);
    return parseJSONValue(raw);
  }
  // Upstream's zero metav1.Time marshals to no bytes at all and reads back as the zero time.
  if ((msg.special === S_TIME || msg.special === S_MICROTIME) && r.pos === r.end) return null;
  const o: Record<string, unknown> = {};
  readInto(r, msg, o, depth);
  switch (msg.special) {
    case S_TIME:
      return formatTime(num(o.seconds));
    case S_MICROTIME:
      return formatMicroTime(num(o.seconds), num(o.nanos));
    case S_DURATION:
      return formatDuration(num(o.duration));
    case S_QUANTITY:
      return typeof o.string === 'string' && o.string !== '' ? o.string : '0';
    case S_INT_OR_STRING:
      return o.type === 1 ? (typeof o.strVal === 'string' ? o.strVal : '') : num(o.intVal);
    case S_LIST:
      return Array.isArray(o.items) ? o.items : [];
    default:
      throw protoError(`${msg.name}: unsupported special message`);
  }
}

/** Encodes a special message's JSON value (the caller wrote the tag and length mark). */
export function encodeSpecial(
  w: ProtoWriter,
  msg: MessageDesc,
  v: unknown,
  p: string,
  writeScalar: WriteScalar,
): void {
  const expect = (what: string): never => {
    const got = v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
    throw badRequest(`cannot encode ${p} as protobuf: expected ${what}, got ${got}`);
  };
  switch (msg.special) {
    case S_TIME:
    case S_MICROTIME: {
      if (typeof v !== 'string') expect('RFC 3339 time string');
      const t = parseTime(v as string);
      w.tag(1, WIRE_VARINT);
      w.int64(t.seconds);
      w.tag(2, WIRE_VARINT);
      // metav1.Time keeps whole seconds only; MicroTime keeps microseconds.
      w.int64(msg.special === S_TIME ? 0 : Math.floor(t.nanos / 1000) * 1000);
      return;
    }
    case S_DURATION: {
      if (typeof v !== 'string') expect('duration string');
      w.tag(1, WIRE_VARINT);
      w.int64(parseDuration(v as string));
      return;
    }
    case S_QUANTITY: {
      if (typeof v !== 'string' && typeof v !== 'number') expect('quantity string');
      w.tag(1, WIRE_LEN);
      w.string(String(v));
      return;
    }
    case S_INT_OR_STRING: {
      if (typeof v === 'number') {
        if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) expect('int32 or string');
        w.tag(1, WIRE_VARINT);
        w.int64(0);
        w.tag(2, WIRE_VARINT);
        w.int64(v);
        w.tag(3, WIRE_LEN);
        w.string('');
      } else if (typeof v === 'string') {
        w.tag(1, WIRE_VARINT);
        w.int64(1);
        w.tag(2, WIRE_VARINT);
        w.int64(0);
        w.tag(3, WIRE_LEN);
        w.string(v);
      } else expect('integer or string');
      return;
    }
    case S_RAW_EXTENSION:
    case S_FIELDS_V1: {
      w.tag(1, WIRE_LEN);
      w.string(JSON.stringify(v));
      return;
    }
    case S_LIST: {
      if (!Array.isArray(v)) expect('array');
      const item = msg.fields[0];
      if (!item || item.kind >= K_MESSAGE) throw protoError(`${msg.name}: malformed list wrapper`);
      const arr = v as unknown[];
      for (let i = 0; i < arr.length; i++) {
        w.tag(1, item.wire);
        writeScalar(w, item.kind, arr[i], `${p}[${i}]`);
      }
      return;
    }
    default:
      throw protoError(`${msg.name}: unsupported special message`);
  }
}
