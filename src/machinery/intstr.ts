// IntOrString as upstream's k8s.io/apimachinery/pkg/util/intstr. On the wire it is a JSON
// number or a JSON string, so kts keeps it as `number | string`; the helpers here read it
// the way upstream does (maxSurge, maxUnavailable, targetPort, PDB minAvailable …).

/** An int32 or a string (`25%`, `http`), as it appears in JSON. */
export type IntOrString = number | string;

/** An IntOrString failed to read; the message is upstream's. */
export class IntOrStringError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IntOrStringError';
  }
}

const MAX_INT64 = 9223372036854775807n;
const MIN_INT64 = -9223372036854775808n;

/**
 * Go's strconv.Atoi on a 64-bit platform: optional sign and decimal digits; throws with
 * Go's message (`strconv.Atoi: parsing "x": invalid syntax`).
 */
export function atoi(s: string): number {
  if (!/^[+-]?[0-9]+$/.test(s)) {
    throw new IntOrStringError(`strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`);
  }
  const v = BigInt(s);
  if (v > MAX_INT64 || v < MIN_INT64) {
    throw new IntOrStringError(`strconv.Atoi: parsing ${JSON.stringify(s)}: value out of range`);
  }
  return Number(v);
}

/** A string holding an int32 becomes a number, anything else stays a string (upstream's Parse). */
export function parseIntOrString(val: string): IntOrString {
  if (/^[+-]?[0-9]+$/.test(val)) {
    const v = BigInt(val);
    if (v <= 2147483647n && v >= -2147483648n) return Number(v);
  }
  return val;
}

/** True when the value is the string variant. */
export function isIntOrStringString(v: IntOrString): v is string {
  return typeof v === 'string';
}

/** The integer value; a string that is not an integer reads as 0 (upstream's IntValue). */
export function intOrStringValue(v: IntOrString): number {
  if (typeof v === 'number') return v;
  try {
    return atoi(v);
  } catch {
    return 0;
  }
}

/** The string form (upstream's String()). */
export function intOrStringToString(v: IntOrString): string {
  return typeof v === 'number' ? String(v) : v;
}

/** v, or def when v is undefined (upstream's ValueOrDefault). */
export function intOrStringValueOrDefault(v: IntOrString | undefined | null, def: IntOrString): IntOrString {
  return v === undefined || v === null ? def : v;
}

// Returns [value, isPercent]; a string must end in '%'.
function intOrPercentValueSafely(v: IntOrString): [number, boolean] {
  if (typeof v === 'number') return [v, false];
  if (!v.endsWith('%')) throw new IntOrStringError('invalid type: string is not a percentage');
  try {
    return [atoi(v.slice(0, -1)), true];
  } catch (e) {
    throw new IntOrStringError(`invalid value ${JSON.stringify(v)}: ${(e as Error).message}`);
  }
}

// The lenient older reading: every '%' is dropped and the rest must be an integer.
function intOrPercentValue(v: IntOrString): [number, boolean] {
  if (typeof v === 'number') return [v, false];
  try {
    return [atoi(v.replaceAll('%', '')), true];
  } catch (e) {
    throw new IntOrStringError(`invalid value ${JSON.stringify(v)}: ${(e as Error).message}`);
  }
}

function scale(value: number, isPercent: boolean, total: number, roundUp: boolean): number {
  if (!isPercent) return value;
  const x = (value * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

/**
 * An absolute number, or a percentage of total rounded up or down (upstream's
 * GetScaledValueFromIntOrPercent); throws `invalid value for IntOrString: …`.
 */
export function getScaledValueFromIntOrPercent(
  v: IntOrString | undefined | null,
  total: number,
  roundUp: boolean,
): number {
  if (v === undefined || v === null) throw new IntOrStringError('nil value for IntOrString');
  let parsed: [number, boolean];
  try {
    parsed = intOrPercentValueSafely(v);
  } catch (e) {
    throw new IntOrStringError(`invalid value for IntOrString: ${(e as Error).message}`);
  }
  return scale(parsed[0], parsed[1], total, roundUp);
}

/** The deprecated lenient variant (upstream's GetValueFromIntOrPercent). */
export function getValueFromIntOrPercent(
  v: IntOrString | undefined | null,
  total: number,
  roundUp: boolean,
): number {
  if (v === undefined || v === null) throw new IntOrStringError('nil value for IntOrString');
  let parsed: [number, boolean];
  try {
    parsed = intOrPercentValue(v);
  } catch (e) {
    throw new IntOrStringError(`invalid value for IntOrString: ${(e as Error).message}`);
  }
  return scale(parsed[0], parsed[1], total, roundUp);
}
