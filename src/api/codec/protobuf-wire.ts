// Protobuf wire format primitives: a bounds-checked reader and a growable writer. Every
// malformed input (truncated varint, length past the end, over-long varint, integers that do
// not fit a JS number) ends as a 400 StatusError, never a RangeError or a silent wrong value.
import { badRequest, type StatusError } from '../../machinery/status-error.js';

/** Wire type: varint. */
export const WIRE_VARINT = 0;
/** Wire type: 64-bit little-endian. */
export const WIRE_FIXED64 = 1;
/** Wire type: length-delimited (strings, bytes, messages, packed repeated). */
export const WIRE_LEN = 2;
/** Wire type: start group (proto2, never used by Kubernetes). */
export const WIRE_START_GROUP = 3;
/** Wire type: end group. */
export const WIRE_END_GROUP = 4;
/** Wire type: 32-bit little-endian. */
export const WIRE_FIXED32 = 5;

const TWO_32 = 4294967296;

/** A protobuf decoding failure, phrased like upstream's generated (gogo) unmarshalers. */
export function protoError(message: string): StatusError {
  return badRequest(`error decoding protobuf: ${message}`);
}

/** True when the bytes start with the Kubernetes protobuf prefix `k8s\0`. */
export function hasProtobufPrefix(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 && bytes[0] === 0x6b && bytes[1] === 0x38 && bytes[2] === 0x73 && bytes[3] === 0x00
  );
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Reads protobuf primitives from a byte range; `pos` advances as values are read. */
export class ProtoReader {
  pos: number;
  /** The bound of the message being read; narrowed while a sub-message is decoded. */
  end: number;

  constructor(
    readonly buf: Uint8Array,
    start = 0,
    end = buf.length,
  ) {
    this.pos = start;
    this.end = end;
  }

  /** A varint that must fit 32 bits unsigned (tags, lengths); longer encodings are errors. */
  uint32(): number {
    const buf = this.buf;
    let pos = this.pos;
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (pos >= this.end) throw protoError('unexpected EOF (truncated varint)');
      const b = buf[pos++] as number;
      if (shift < 32) result += (b & 0x7f) * 2 ** shift;
      else if ((b & 0x7f) !== 0) throw protoError('integer overflow (value exceeds 32 bits)');
      shift += 7;
      if (b < 0x80) {
        this.pos = pos;
        if (result > 0xffffffff) throw protoError('integer overflow (value exceeds 32 bits)');
        return result;
      }
    }
    throw protoError('integer overflow (varint longer than 10 bytes)');
  }

  /**
   * A full 64-bit varint as two 32-bit halves (two's complement), so int32/int64/uint64/bool
   * can each be read exactly.
   */
  varint64(): [lo: number, hi: number] {
    const buf = this.buf;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (pos >= this.end) throw protoError('unexpected EOF (truncated varint)');
      const b = buf[pos++] as number;
      const bits = b & 0x7f;
      if (i < 4) lo |= bits << (7 * i);
      else if (i === 4) {
        lo |= (bits & 0x0f) << 28;
        hi |= bits >>> 4;
      } else hi |= bits << (7 * i - 32);
      if (b < 0x80) {
        if (i === 9 && b > 1) throw protoError('integer overflow (varint exceeds 64 bits)');
        this.pos = pos;
        return [lo >>> 0, hi >>> 0];
      }
    }
    throw protoError('integer overflow (varint longer than 10 bytes)');
  }

  /** int64 (two's complement) as a JS number; beyond ±(2^53-1) is an error. */
  int64(): number {
    const start = this.pos;
    const b = this.buf[start];
    if (b !== undefined && b < 0x80 && start < this.end) {
      this.pos = start + 1;
      return b;
    }
    const [lo, hi] = this.varint64();
    if (hi & 0x80000000) {
      // negative: value = -(~x + 1)
      const nlo = ~lo >>> 0;
      const nhi = ~hi >>> 0;
      const mag = nhi * TWO_32 + nlo + 1;
      if (mag > Number.MAX_SAFE_INTEGER)
        throw unsafeInteger(BigInt.asIntN(64, BigInt(bigString(lo, hi))).toString());
      return -mag;
    }
    const v = hi * TWO_32 + lo;
    if (v > Number.MAX_SAFE_INTEGER) throw unsafeInteger(bigString(lo, hi));
    return v;
  }

  /** uint64 as a JS number; beyond 2^53-1 is an error. */
  uint64(): number {
    const [lo, hi] = this.varint64();
    const v = hi * TWO_32 + lo;
    if (v > Number.MAX_SAFE_INTEGER) throw unsafeInteger(bigString(lo, hi));
    return v;
  }

  /** int32: the low 32 bits, sign-extended (negative values arrive as 10-byte varints). */
  int32(): number {
    const b = this.buf[this.pos];
    if (b !== undefined && b < 0x80 && this.pos < this.end) {
      this.pos++;
      return b;
    }
    return this.varint64()[0] | 0;
  }

  /** uint32: the low 32 bits. */
  uint32Value(): number {
    return this.varint64()[0];
  }

  /** bool: any non-zero varint is true. */
  bool(): boolean {
    const [lo, hi] = this.varint64();
    return lo !== 0 || hi !== 0;
  }

  /** IEEE double (wire type fixed64). */
  double(): number {
    this.need(8);
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getFloat64(0, true);
    this.pos += 8;
    return v;
  }

  /** IEEE float (wire type fixed32). */
  float(): number {
    this.need(4);
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getFloat32(0, true);
    this.pos += 4;
    return v;
  }

  /** A length prefix; returns the end offset of the delimited range after checking it fits. */
  delimitedEnd(): number {
    const len = this.uint32();
    if (len > this.end - this.pos) {
      throw protoError(`unexpected EOF (length ${len} runs past the end of the message)`);
    }
    return this.pos + len;
  }

  /** A length-delimited byte range (a view, not a copy). */
  bytes(): Uint8Array {
    const end = this.delimitedEnd();
    const out = this.buf.subarray(this.pos, end);
    this.pos = end;
    return out;
  }

  /** A length-delimited UTF-8 string; invalid UTF-8 is an error. */
  string(): string {
    const end = this.delimitedEnd();
    const buf = this.buf;
    let pos = this.pos;
    // Short ASCII strings (names, labels) are the common case and cheaper to build by hand
    // than through TextDecoder.
    if (end - pos <= 64) {
      let s = '';
      for (; pos < end; pos++) {
        const c = buf[pos] as number;
        if (c >= 0x80) break;
        s += String.fromCharCode(c);
      }
      if (pos === end) {
        this.pos = end;
        return s;
      }
      pos = this.pos;
    }
    let out: string;
    try {
      out = utf8.decode(buf.subarray(pos, end));
    } catch {
      throw protoError('invalid UTF-8 in string field');
    }
    this.pos = end;
    return out;
  }

  /** Skips one field value of the given wire type (unknown fields). */
  skip(wireType: number, depth = 0): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.varint64();
        return;
      case WIRE_FIXED64:
        this.need(8);
        this.pos += 8;
        return;
      case WIRE_LEN:
        this.pos = this.delimitedEnd();
        return;
      case WIRE_FIXED32:
        this.need(4);
        this.pos += 4;
        return;
      case WIRE_START_GROUP: {
        if (depth > 100) throw protoError('max nesting depth exceeded in group');
        for (;;) {
          if (this.pos >= this.end) throw protoError('unexpected EOF (unterminated group)');
          const tag = this.uint32();
          const wt = tag & 7;
          if (wt === WIRE_END_GROUP) return;
          this.skip(wt, depth + 1);
        }
      }
      default:
        throw protoError(`illegal wireType ${wireType}`);
    }
  }

  private need(n: number): void {
    if (this.end - this.pos < n) throw protoError('unexpected EOF');
  }
}

function bigString(lo: number, hi: number): string {
  return ((BigInt(hi) << 32n) | BigInt(lo)).toString();
}

function unsafeInteger(value: string): StatusError {
  return protoError(`integer ${value} is outside the range a JSON number holds exactly (±2^53-1)`);
}

const utf8Encoder = new TextEncoder();

/** Appends protobuf primitives to a growable buffer. */
export class ProtoWriter {
  buf: Uint8Array;
  pos = 0;

  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  /** A tag (field number and wire type). */
  tag(field: number, wireType: number): void {
    this.uint32((field << 3) | wireType);
  }

  /** An unsigned varint below 2^32. */
  uint32(v: number): void {
    this.ensure(5);
    v >>>= 0;
    while (v > 0x7f) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[this.pos++] = v;
  }

  /** A signed integer (int32/int64) as a two's complement varint; negatives take 10 bytes. */
  int64(v: number): void {
    if (v >= 0 && v < 0x80000000) {
      this.uint32(v);
      return;
    }
    let x = BigInt.asUintN(64, BigInt(v));
    this.ensure(10);
    while (x > 0x7fn) {
      this.buf[this.pos++] = Number(x & 0x7fn) | 0x80;
      x >>= 7n;
    }
    this.buf[this.pos++] = Number(x);
  }

  /** A bool varint. */
  bool(v: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
  }

  /** An IEEE double. */
  double(v: number): void {
    this.ensure(8);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).setFloat64(0, v, true);
    this.pos += 8;
  }

  /** An IEEE float. */
  float(v: number): void {
    this.ensure(4);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).setFloat32(0, v, true);
    this.pos += 4;
  }

  /** Length-prefixed bytes. */
  bytes(b: Uint8Array): void {
    this.uint32(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Length-prefixed UTF-8 string. */
  string(s: string): void {
    // Worst case 3 bytes per UTF-16 unit; encode straight into the buffer after a 5-byte
    // length slot, then close the gap.
    const max = s.length * 3;
    this.ensure(max + 5);
    const start = this.pos;
    const { written } = utf8Encoder.encodeInto(s, this.buf.subarray(start + 5, start + 5 + max));
    this.uint32(written);
    const lenBytes = this.pos - start;
    if (lenBytes !== 5) this.buf.copyWithin(this.pos, start + 5, start + 5 + written);
    this.pos += written;
  }

  /** Starts a length-delimited region; pass the returned mark to `endDelimited`. */
  beginDelimited(): number {
    return this.pos;
  }

  /** Closes a region begun at `mark` by inserting its length prefix before it. */
  endDelimited(mark: number): void {
    const len = this.pos - mark;
    let n = 1;
    for (let v = len >>> 7; v > 0; v >>>= 7) n++;
    this.ensure(n);
    this.buf.copyWithin(mark + n, mark, this.pos);
    const end = this.pos + n;
    this.pos = mark;
    this.uint32(len);
    this.pos = end;
  }

  /** The bytes written so far (a copy-free view). */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}
