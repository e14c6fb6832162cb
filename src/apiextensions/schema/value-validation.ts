// Value validation of a custom object against its compiled schema, reproducing kube-openapi's
// SchemaValidator (k8s.io/kube-openapi/pkg/validation/validate) and the way apiextensions
// turns its results into field errors (kubeOpenAPIResultToFieldErrors). The wording matters:
// kubectl prints these messages verbatim in a 422. What kube-openapi reports is replicated
// including its quirks: every applicable validator runs even after a type mismatch, errors
// are de-duplicated by message, anyOf/oneOf keep the failures of the branch that matched
// most (MatchCount), a numeric bound is truncated to an integer when the value is one, and
// errors that are not per-field (anyOf/oneOf/allOf/not, range checks) land on the field
// `<nil>` with an empty value, exactly as upstream prints them.
import { goFloat, goQuote, goSprintV } from '../../machinery/go-format.js';
import type { FieldError } from '../../machinery/status-error.js';
import { type CSchema, deepEqualJSON } from './compile.js';
import { checkStringFormat, isKnownStringFormat } from './formats.js';

// kube-openapi's error codes (errors.InvalidTypeCode …) that the conversion distinguishes.
enum Code {
  InvalidType = 1,
  Required,
  TooLong,
  TooShort,
  Pattern,
  Enum,
  MultipleOf,
  Max,
  Min,
  Unique,
  MaxItems,
  MinItems,
  TooFewProperties,
  TooManyProperties,
  UnallowedProperty,
  MultipleOfMustBePositive,
  /** errors.New(CompositeErrorCode, …): anyOf/oneOf/allOf/not. */
  Composite,
  /** A plain Go error (fmt.Errorf), e.g. a range check. */
  Plain,
}

/** One kube-openapi error. */
interface OError {
  code: Code;
  /** The Validation's Name (a dotted path); unused for Composite/Plain. */
  name: string;
  value?: unknown;
  values?: readonly unknown[];
  valid?: number;
  message: string;
}

/** kube-openapi's validate.Result: errors de-duplicated by message, plus MatchCount. */
class Result {
  errors: OError[] = [];
  matchCount = 0;

  add(e: OError): void {
    if (!this.errors.some((x) => x.message === e.message)) this.errors.push(e);
  }

  merge(r: Result | undefined): this {
    if (r === undefined) return this;
    for (const e of r.errors) this.add(e);
    this.matchCount += r.matchCount;
    return this;
  }

  get valid(): boolean {
    return this.errors.length === 0;
  }
}

function single(e: OError): Result {
  const r = new Result();
  r.add(e);
  return r;
}

const IN = 'body';

/** The Go type kube-openapi sees for a decoded JSON value (integers decode as int64). */
type Kind = 'null' | 'string' | 'bool' | 'int' | 'float' | 'array' | 'object';

const INT64_LIMIT = 2 ** 63;

function kindOf(v: unknown): Kind {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) < INT64_LIMIT ? 'int' : 'float';
  if (Array.isArray(v)) return 'array';
  return 'object';
}

/** swag.IsFloat64AJSONInteger: integral and within ±2^53 (relative error 1e-9). */
function isJSONInteger(f: number): boolean {
  if (!Number.isFinite(f) || Math.abs(f) > 2 ** 53) return false;
  if (Number.isInteger(f)) return true;
  const g = Math.trunc(f);
  const diff = Math.abs(f - g);
  return diff / Math.min(Math.abs(f) + Math.abs(g), Number.MAX_VALUE) < 1e-9;
}

/** Go's `%v` of the value as kube-openapi holds it (int64 or float64). */
function numText(v: number, asInt: boolean): string {
  return asInt ? BigInt(Math.trunc(v)).toString() : goFloat(v);
}

// strconv.FormatFloat(f, 'f', -1, 64): plain decimal, no exponent.
function formatFloatF(f: number): string {
  if (Number.isInteger(f) && Math.abs(f) >= 1e21) return BigInt(f).toString();
  const s = String(f);
  if (!s.includes('e')) return s;
  return f.toFixed(20).replace(/0+$/, '').replace(/\.$/, '');
}

/** IsValueValidAgainstRange: the Go-typed parse kube-openapi does before comparing. */
function rangeError(
  v: number,
  asInt: boolean,
  typeName: string,
  format: string,
  prefix: string,
  path: string,
): OError | undefined {
  const rep = asInt ? numText(v, true) : formatFloatF(v);
  let bad = false;
  if (typeName === 'integer') {
    const isIntText = /^[+-]?\d+$/.test(rep);
    const n = isIntText ? BigInt(rep) : 0n;
    if (format === 'int32') bad = !isIntText || n > 2147483647n || n < -2147483648n;
    else bad = !isIntText || n > 9223372036854775807n || n < -9223372036854775808n;
  } else if (format === 'float') {
    bad = Math.abs(Number(rep)) > 3.4028234663852886e38;
  }
  if (!bad) return undefined;
  const message =
    format !== ''
      ? `${prefix} value must be of type ${typeName} with format ${format} in ${path}`
      : `${prefix} value must be of type ${typeName} (default format) in ${path}`;
  return { code: Code.Plain, name: '', message };
}

function typeName(k: Kind): string {
  switch (k) {
    case 'bool':
      return 'boolean';
    case 'int':
      return 'integer';
    case 'float':
      return 'number';
    default:
      return k;
  }
}

function invalidType(path: string, type: string, value: unknown): OError {
  const message =
    typeof value === 'string'
      ? `${path} in ${IN} must be of type ${type}: ${goQuote(value)}`
      : `${path} in ${IN} must be of type ${type}`;
  return { code: Code.InvalidType, name: path, value, message };
}

function validateType(s: CSchema, path: string, v: unknown, k: Kind): Result {
  const r = new Result();
  r.matchCount++;
  if (k === 'null') {
    if (s.types.length > 0 && !s.nullable) return single(invalidType(path, s.types.join(','), 'null'));
    return r;
  }
  const sch = typeName(k);
  const fmt = k === 'int' ? 'int64' : k === 'float' ? 'float64' : '';
  const has = (t: string): boolean => s.types.includes(t);
  const isFloatInt = k === 'float' && isJSONInteger(v as number) && has('integer');
  const isIntFloat = k === 'int' && has('number');
  if (
    k !== 'string' &&
    k !== 'array' &&
    s.format !== '' &&
    !(has(sch) || fmt === s.format || isFloatInt || isIntFloat)
  ) {
    return single(invalidType(path, s.format, fmt));
  }
  if (!(has('number') || has('integer')) && s.format !== '' && (k === 'string' || k === 'array')) return r;
  if (!(has(sch) || isFloatInt || isIntFloat)) return single(invalidType(path, s.types.join(','), sch));
  return r;
}

function validateString(s: CSchema, path: string, v: string): Result | undefined {
  if (s.maxLength !== undefined || s.minLength !== undefined) {
    const len = [...v].length;
    if (s.maxLength !== undefined && len > s.maxLength) {
      return single({
        code: Code.TooLong,
        name: path,
        value: v,
        valid: s.maxLength,
        message: `${path} in ${IN} should be at most ${s.maxLength} chars long`,
      });
    }
    if (s.minLength !== undefined && len < s.minLength) {
      return single({
        code: Code.TooShort,
        name: path,
        value: v,
        valid: s.minLength,
        message: `${path} in ${IN} should be at least ${s.minLength} chars long`,
      });
    }
  }
  if (s.pattern !== undefined && s.patternRe !== undefined) {
    const re = s.patternRe;
    if (!re.ok) {
      const shown = `${s.pattern}, but pattern is invalid: ${re.error}`;
      return single({
        code: Code.Pattern,
        name: path,
        value: v,
        message: `${path} in ${IN} should match '${shown}'`,
      });
    }
    if (!re.re.test(v)) {
      return single({
        code: Code.Pattern,
        name: path,
        value: v,
        message: `${path} in ${IN} should match '${s.pattern}'`,
      });
    }
  }
  return undefined;
}

function validateNumber(s: CSchema, path: string, v: number, k: Kind): Result {
  const r = new Result();
  const asInt = k === 'int';
  const checked = rangeError(v, asInt, s.numType, s.numFormat, 'Checked', path);
  if (checked !== undefined) r.add(checked);
  const bound = (
    b: number,
    prefix: string,
    nativeCheck: (bi: number) => OError | undefined,
    floatCheck: () => OError | undefined,
  ): Result => {
    const sub = new Result();
    const e = rangeError(b, false, s.numType, s.numFormat, prefix, path);
    if (e !== undefined) sub.add(e);
    // With a valid bound the comparison is done in the value's Go type (int64 truncates the bound).
    const cmp = sub.valid && asInt ? nativeCheck(Math.trunc(b)) : floatCheck();
    if (cmp !== undefined) sub.add(cmp);
    return sub;
  };
  const parts: Result[] = [];
  if (s.multipleOf !== undefined) {
    const f = s.multipleOf;
    parts.push(
      bound(
        f,
        'MultipleOf',
        (fi) => {
          if (fi <= 0) return notPositive(path, String(fi));
          return v % fi !== 0 ? notMultiple(path, String(fi), v) : undefined;
        },
        () => {
          if (f <= 0) return notPositive(path, goFloat(f));
          const mult = f < 1 ? (1 / f) * v : v / f;
          return isJSONInteger(mult) ? undefined : notMultiple(path, goFloat(f), v);
        },
      ),
    );
  }
  const min = new Result();
  const max = new Result();
  if (s.maximum !== undefined) {
    const m = s.maximum;
    const ex = s.exclusiveMaximum;
    max.merge(
      bound(
        m,
        'Maximum boundary',
        (mi) =>
          (!ex && v > mi) || (ex && v >= mi) ? exceeds(path, 'max', ex, numText(mi, true), v) : undefined,
        () => ((!ex && v > m) || (ex && v >= m) ? exceeds(path, 'max', ex, goFloat(m), v) : undefined),
      ),
    );
  }
  if (s.minimum !== undefined) {
    const m = s.minimum;
    const ex = s.exclusiveMinimum;
    min.merge(
      bound(
        m,
        'Minimum boundary',
        (mi) =>
          (!ex && v < mi) || (ex && v <= mi) ? exceeds(path, 'min', ex, numText(mi, true), v) : undefined,
        () => ((!ex && v < m) || (ex && v <= m) ? exceeds(path, 'min', ex, goFloat(m), v) : undefined),
      ),
    );
  }
  for (const p of parts) r.merge(p);
  r.merge(min).merge(max);
  r.matchCount++;
  return r;
}

function notPositive(path: string, factor: string): OError {
  return {
    code: Code.MultipleOfMustBePositive,
    name: path,
    value: Number(factor),
    message: `factor MultipleOf declared for ${path} must be positive: ${factor}`,
  };
}

function notMultiple(path: string, factor: string, v: number): OError {
  return {
    code: Code.MultipleOf,
    name: path,
    value: v,
    message: `${path} in ${IN} should be a multiple of ${factor}`,
  };
}

function exceeds(path: string, which: 'max' | 'min', exclusive: boolean, bound: string, v: number): OError {
  const rel =
    which === 'max'
      ? exclusive
        ? 'less than'
        : 'less than or equal to'
      : exclusive
        ? 'greater than'
        : 'greater than or equal to';
  return {
    code: which === 'max' ? Code.Max : Code.Min,
    name: path,
    value: v,
    message: `${path} in ${IN} should be ${rel} ${bound}`,
  };
}

function validateEnum(s: CSchema, path: string, v: unknown): Result | undefined {
  const values = s.enum;
  if (values === undefined || values.length === 0) return undefined;
  if (v !== null && v !== undefined) {
    for (const e of values) if (e !== null && deepEqualJSON(v, e)) return undefined;
  }
  return single({
    code: Code.Enum,
    name: path,
    value: v ?? null,
    values,
    message: `${path} in ${IN} should be one of ${goSprintV(values)}`,
  });
}

function validateSlice(s: CSchema, path: string, v: unknown[]): Result {
  const r = new Result();
  if (s.items !== undefined) {
    for (let i = 0; i < v.length; i++) r.merge(validateValue(s.items, `${path}[${i}]`, v[i]));
  }
  if (s.minItems !== undefined && v.length < s.minItems) {
    r.add({
      code: Code.MinItems,
      name: path,
      value: v.length,
      valid: s.minItems,
      message: `${path} in ${IN} should have at least ${s.minItems} items`,
    });
  }
  if (s.maxItems !== undefined && v.length > s.maxItems) {
    r.add({
      code: Code.MaxItems,
      name: path,
      value: v.length,
      valid: s.maxItems,
      message: `${path} in ${IN} should have at most ${s.maxItems} items`,
    });
  }
  if (s.uniqueItems) {
    outer: for (let i = 1; i < v.length; i++) {
      for (let j = 0; j < i; j++) {
        if (deepEqualJSON(v[i], v[j])) {
          r.add({ code: Code.Unique, name: path, message: `${path} in ${IN} shouldn't contain duplicates` });
          break outer;
        }
      }
    }
  }
  r.matchCount++;
  return r;
}

function validateObject(s: CSchema, path: string, v: Record<string, unknown>): Result {
  const r = new Result();
  const n = Object.keys(v).length;
  if (s.minProperties !== undefined && n < s.minProperties) {
    r.add({
      code: Code.TooFewProperties,
      name: path,
      value: n,
      valid: s.minProperties,
      message: `${path} in ${IN} should have at least ${s.minProperties} properties`,
    });
  }
  if (s.maxProperties !== undefined && n > s.maxProperties) {
    r.add({
      code: Code.TooManyProperties,
      name: path,
      value: n,
      valid: s.maxProperties,
      message: `${path} in ${IN} should have at most ${s.maxProperties} properties`,
    });
  }
  const props = s.properties;
  if (s.additionalProperties === false) {
    for (const k of Object.keys(v)) {
      if (props?.has(k) !== true) {
        r.add({
          code: Code.UnallowedProperty,
          name: path,
          value: k,
          message: `${path}.${k} in ${IN} is a forbidden property`,
        });
      }
    }
  } else if (typeof s.additionalProperties === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (props?.has(k) !== true) r.merge(validateValue(s.additionalProperties, `${path}.${k}`, x));
    }
  }
  if (props !== undefined) {
    for (const [k, ps] of props) {
      if (Object.hasOwn(v, k)) r.merge(validateValue(ps, path === '' ? k : `${path}.${k}`, v[k]));
    }
  }
  for (const k of s.required) {
    if (!Object.hasOwn(v, k)) {
      r.add({ code: Code.Required, name: `${path}.${k}`, message: `${path}.${k} in ${IN} is required` });
    }
  }
  return r;
}

function composite(message: string): OError {
  return { code: Code.Composite, name: '', message };
}

function validateSchemaProps(s: CSchema, path: string, v: unknown): Result {
  const main = new Result();
  if (s.anyOf.length > 0) {
    let best: Result | undefined;
    let firstSuccess: Result | undefined;
    for (const sub of s.anyOf) {
      const res = validateValue(sub, path, v);
      if (res.valid) {
        best = undefined;
        firstSuccess = res;
        break;
      }
      if (best === undefined || res.matchCount > best.matchCount) best = res;
    }
    if (firstSuccess === undefined)
      main.add(composite(`${goQuote(path)} must validate at least one schema (anyOf)`));
    if (best !== undefined) main.merge(best);
    else if (firstSuccess !== undefined) main.merge(firstSuccess);
  }
  if (s.oneOf.length > 0) {
    let best: Result | undefined;
    let firstSuccess: Result | undefined;
    let validated = 0;
    for (const sub of s.oneOf) {
      const res = validateValue(sub, path, v);
      if (res.valid) {
        validated++;
        best = undefined;
        firstSuccess ??= res;
        continue;
      }
      if (validated === 0 && (best === undefined || res.matchCount > best.matchCount)) best = res;
    }
    if (validated !== 1) {
      const more = validated === 0 ? 'Found none valid' : `Found ${validated} valid alternatives`;
      main.add(composite(`${goQuote(path)} must validate one and only one schema (oneOf). ${more}`));
      if (best !== undefined) main.merge(best);
    } else if (firstSuccess !== undefined) {
      main.merge(firstSuccess);
    }
  }
  if (s.allOf.length > 0) {
    let validated = 0;
    for (const sub of s.allOf) {
      const res = validateValue(sub, path, v);
      if (res.valid) validated++;
      main.merge(res);
    }
    if (validated !== s.allOf.length) {
      const more = validated === 0 ? '. None validated' : '';
      main.add(composite(`${goQuote(path)} must validate all the schemas (allOf)${more}`));
    }
  }
  if (s.not !== undefined && validateValue(s.not, path, v).valid) {
    main.add(composite(`${goQuote(path)} must not validate the schema (not)`));
  }
  main.matchCount++;
  return main;
}

/** SchemaValidator.Validate: every validator that applies to the value's kind, in upstream's order. */
function validateValue(s: CSchema, path: string, v: unknown): Result {
  const r = new Result();
  const k = kindOf(v);
  if (k === 'null') {
    r.merge(validateType(s, path, v, k));
    r.merge(validateEnum(s, path, v));
    return r;
  }
  const step = (x: Result | undefined): void => {
    r.merge(x);
    r.matchCount++;
  };
  if (s.types.length > 0 || s.format !== '') step(validateType(s, path, v, k));
  step(validateSchemaProps(s, path, v));
  if (k === 'string') {
    step(validateString(s, path, v as string));
    if (s.format !== '' && isKnownStringFormat(s.format)) {
      step(
        checkStringFormat(s.format, v as string)
          ? undefined
          : single({
              code: Code.InvalidType,
              name: path,
              value: v,
              message: `${path} in ${IN} must be of type ${s.format}: ${goQuote(v as string)}`,
            }),
      );
    }
  }
  if (k === 'int' || k === 'float') step(validateNumber(s, path, v as number, k));
  if (k === 'array') step(validateSlice(s, path, v as unknown[]));
  step(validateEnum(s, path, v));
  if (k === 'object') step(validateObject(s, path, v as Record<string, unknown>));
  r.matchCount++;
  return r;
}

/** The enum values as apiextensions lists them: strings as-is, others as JSON. */
function enumStrings(values: readonly unknown[]): string[] {
  return values.map((x) => (typeof x === 'string' ? x : JSON.stringify(x)));
}

/**
 * Validates value against s and returns upstream's field errors. `root` is the field path
 * the value sits at (undefined for a whole object, whose non-field errors print as `<nil>`).
 */
export function validateAgainstSchema(s: CSchema, value: unknown, root?: string): FieldError[] {
  const res = validateValue(s, '', value);
  const out: FieldError[] = [];
  const base = root ?? '<nil>';
  for (const e of res.errors) {
    if (e.code === Code.Composite || e.code === Code.Plain) {
      out.push({ type: 'FieldValueInvalid', field: base, badValue: '', detail: e.message });
      continue;
    }
    const name = e.name.startsWith('.') ? e.name.slice(1) : e.name;
    const field = name === '' ? base : root === undefined ? name : `${root}.${name}`;
    const value = e.value === undefined || e.value === null ? '' : e.value;
    switch (e.code) {
      case Code.Required:
        out.push({ type: 'FieldValueRequired', field, detail: '' });
        break;
      case Code.Enum: {
        const valid = enumStrings(e.values ?? []);
        out.push({
          type: 'FieldValueNotSupported',
          field,
          badValue: e.value ?? null,
          detail: valid.length > 0 ? `supported values: ${valid.map(goQuote).join(', ')}` : '',
        });
        break;
      }
      case Code.TooLong:
        out.push({
          type: 'FieldValueTooLong',
          field,
          detail: `may not be more than ${e.valid ?? -1} ${e.valid === 1 ? 'byte' : 'bytes'}`,
        });
        break;
      case Code.MaxItems:
      case Code.TooManyProperties:
        out.push({
          type: 'FieldValueTooMany',
          field,
          badValue: typeof e.value === 'number' ? e.value : -1,
          detail: `must have at most ${e.valid ?? -1} items`,
        });
        break;
      case Code.InvalidType:
        out.push({ type: 'FieldValueTypeInvalid', field, badValue: value, detail: e.message });
        break;
      default:
        out.push({ type: 'FieldValueInvalid', field, badValue: value, detail: e.message });
    }
  }
  return out;
}
