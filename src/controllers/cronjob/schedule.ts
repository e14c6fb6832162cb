// Cron schedules as the CronJob controller reads them (robfig/cron's standard parser, as
// upstream uses): five fields — minute, hour, day of month, month, day of week — with `*`,
// `?`, lists, ranges, steps and JAN–DEC / SUN–SAT names, or one of @yearly, @annually,
// @monthly, @weekly, @daily, @midnight, @hourly. A `TZ=` / `CRON_TZ=` prefix or the
// CronJob's spec.timeZone selects the IANA zone the fields are read in (through Intl).
// As in robfig/cron, when both day fields are restricted a day matching either runs.

/** A parsed schedule. */
export interface CronSchedule {
  /** The first activation strictly after `after` (epoch ms), or undefined within 5 years. */
  next(after: number): number | undefined;
  /** The zone the fields are read in ('UTC' when none). */
  readonly timeZone: string;
}

interface Field {
  bits: Set<number>;
  star: boolean;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

interface Bounds {
  min: number;
  max: number;
  names?: string[];
  nameBase?: number;
}

function parseValue(s: string, b: Bounds): number {
  if (b.names !== undefined) {
    const i = b.names.indexOf(s.toUpperCase());
    if (i >= 0) return i + (b.nameBase ?? 0);
  }
  if (!/^[0-9]+$/.test(s))
    throw new Error(`failed to parse int from ${s}: strconv.Atoi: parsing "${s}": invalid syntax`);
  return Number(s);
}

function parseField(expr: string, b: Bounds): Field {
  const bits = new Set<number>();
  let star = false;
  for (const part of expr.split(',')) {
    const [rangePart, stepPart, extra] = part.split('/');
    if (extra !== undefined || rangePart === undefined) throw new Error(`too many slashes: ${part}`);
    let lo: number;
    let hi: number;
    if (rangePart === '*' || rangePart === '?') {
      lo = b.min;
      hi = b.max;
      if (stepPart === undefined) star = true;
    } else {
      const [a, c, more] = rangePart.split('-');
      if (more !== undefined || a === undefined) throw new Error(`too many hyphens: ${rangePart}`);
      lo = parseValue(a, b);
      hi = c === undefined ? (stepPart !== undefined ? b.max : lo) : parseValue(c, b);
    }
    const step = stepPart === undefined ? 1 : parseValue(stepPart, { min: 0, max: 0 });
    if (lo < b.min) throw new Error(`beginning of range (${lo}) below minimum (${b.min}): ${part}`);
    if (hi > b.max) throw new Error(`end of range (${hi}) above maximum (${b.max}): ${part}`);
    if (lo > hi) throw new Error(`beginning of range (${lo}) beyond end of range (${hi}): ${part}`);
    if (step === 0) throw new Error(`step of range should be a positive number: ${part}`);
    for (let v = lo; v <= hi; v += step) bits.add(v);
  }
  return { bits, star };
}

/** Wall-clock parts of an instant in a zone. */
interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** Throws when tz is not an IANA zone name Intl knows. */
export function validateTimeZone(tz: string): void {
  if (tz === '' || tz.toLowerCase() === 'local') throw new Error(`unknown time zone ${tz}`);
  try {
    formatter(tz);
  } catch {
    throw new Error(`unknown time zone ${tz}`);
  }
}

// Offset (ms) of zone tz from UTC at instant t.
function offsetAt(tz: string, t: number): number {
  if (tz === 'UTC') return 0;
  const parts: Record<string, number> = {};
  for (const p of formatter(tz).formatToParts(new Date(t)))
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const asUTC = Date.UTC(
    parts.year ?? 1970,
    (parts.month ?? 1) - 1,
    parts.day ?? 1,
    parts.hour ?? 0,
    parts.minute ?? 0,
    parts.second ?? 0,
  );
  return asUTC - Math.floor(t / 1000) * 1000;
}

function toWall(tz: string, t: number): Wall {
  const d = new Date(t + offsetAt(tz, t));
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
  };
}

function fromWall(tz: string, w: Wall): number {
  const naive = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute);
  let t = naive - offsetAt(tz, naive);
  t = naive - offsetAt(tz, t);
  return t;
}

class Schedule implements CronSchedule {
  constructor(
    private readonly minute: Field,
    private readonly hour: Field,
    private readonly dom: Field,
    private readonly month: Field,
    private readonly dow: Field,
    readonly timeZone: string,
  ) {}

  private dayMatches(w: Wall): boolean {
    const dow = new Date(Date.UTC(w.year, w.month - 1, w.day)).getUTCDay();
    const domOk = this.dom.bits.has(w.day);
    const dowOk = this.dow.bits.has(dow);
    if (this.dom.star || this.dow.star) return domOk && dowOk;
    return domOk || dowOk;
  }

  next(after: number): number | undefined {
    // Start at the next whole minute, then search field by field in wall-clock time.
    const w = toWall(this.timeZone, Math.floor(after / 60_000) * 60_000 + 60_000);
    const limitYear = w.year + 5;
    for (let guard = 0; guard < 100_000; guard++) {
      if (w.year > limitYear) return undefined;
      if (!this.month.bits.has(w.month)) {
        w.month++;
        w.day = 1;
        w.hour = 0;
        w.minute = 0;
        if (w.month > 12) {
          w.month = 1;
          w.year++;
        }
        continue;
      }
      const daysInMonth = new Date(Date.UTC(w.year, w.month, 0)).getUTCDate();
      if (w.day > daysInMonth || !this.dayMatches(w)) {
        w.day++;
        w.hour = 0;
        w.minute = 0;
        if (w.day > daysInMonth) {
          w.day = 1;
          w.month++;
          if (w.month > 12) {
            w.month = 1;
            w.year++;
          }
        }
        continue;
      }
      if (!this.hour.bits.has(w.hour)) {
        w.hour++;
        w.minute = 0;
        if (w.hour > 23) {
          w.hour = 0;
          w.day++;
        }
        continue;
      }
      if (!this.minute.bits.has(w.minute)) {
        w.minute++;
        if (w.minute > 59) {
          w.minute = 0;
          w.hour++;
          if (w.hour > 23) {
            w.hour = 0;
            w.day++;
          }
        }
        continue;
      }
      const t = fromWall(this.timeZone, w);
      if (t > after) return t;
      w.minute++;
    }
    return undefined;
  }
}

/** Parses a schedule (cron.ParseStandard); `timeZone` applies when the spec has no TZ prefix. */
export function parseSchedule(spec: string, timeZone?: string): CronSchedule {
  let s = spec.trim();
  let tz = timeZone ?? 'UTC';
  const m = /^(CRON_TZ|TZ)=(\S+)\s+/.exec(s);
  if (m !== null) {
    tz = m[2] ?? 'UTC';
    s = s.slice(m[0].length).trim();
  }
  validateTimeZone(tz);
  if (s.startsWith('@')) {
    const d = DESCRIPTORS[s.toLowerCase()];
    if (d === undefined) throw new Error(`unrecognized descriptor: ${s}`);
    s = d;
  }
  const fields = s.split(/\s+/).filter((f) => f !== '');
  if (fields.length !== 5)
    throw new Error(`expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`);
  const [mi, h, dom, mo, dow] = fields as [string, string, string, string, string];
  return new Schedule(
    parseField(mi, { min: 0, max: 59 }),
    parseField(h, { min: 0, max: 23 }),
    parseField(dom, { min: 1, max: 31 }),
    parseField(mo, { min: 1, max: 12, names: MONTHS, nameBase: 1 }),
    parseField(dow, { min: 0, max: 6, names: DAYS, nameBase: 0 }),
    tz,
  );
}

/** True when the schedule string carries a TZ= or CRON_TZ= prefix. */
export function hasTimeZonePrefix(spec: string): boolean {
  return spec.includes('TZ');
}
