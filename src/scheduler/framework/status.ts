// The result of one plugin call. Plugins never throw to say "does not fit": they return a
// Status whose code tells the framework what to do next, and `null` means Success (the
// common case allocates nothing, like upstream's nil *Status).

/** Status codes, as upstream's framework.Code. */
export const Code = {
  Success: 0,
  Error: 1,
  Unschedulable: 2,
  UnschedulableAndUnresolvable: 3,
  Wait: 4,
  Skip: 5,
  Pending: 6,
} as const;

/** One of the Code values. */
export type StatusCode = (typeof Code)[keyof typeof Code];

const CODE_NAMES = [
  'Success',
  'Error',
  'Unschedulable',
  'UnschedulableAndUnresolvable',
  'Wait',
  'Skip',
  'Pending',
];

/** A plugin's verdict: a code, human-readable reasons, and the plugin that decided. */
export class Status {
  readonly code: StatusCode;
  readonly reasons: readonly string[];
  /** The underlying error for Code.Error. */
  readonly err: Error | undefined;
  /** The plugin that returned this status (set by the framework). */
  plugin: string;

  /** A status with a code and reasons. */
  constructor(code: StatusCode, reasons: readonly string[] = [], err?: Error, plugin = '') {
    this.code = code;
    this.reasons = reasons;
    this.err = err;
    this.plugin = plugin;
  }

  /** The reasons joined by ", " (upstream's Message()). */
  message(): string {
    return this.reasons.join(', ');
  }

  /** The code's upstream name. */
  codeName(): string {
    return CODE_NAMES[this.code] ?? String(this.code);
  }

  /** True for Unschedulable, UnschedulableAndUnresolvable and Pending. */
  isRejected(): boolean {
    return (
      this.code === Code.Unschedulable ||
      this.code === Code.UnschedulableAndUnresolvable ||
      this.code === Code.Pending
    );
  }

  /** This status, recording the plugin that returned it. */
  withPlugin(name: string): this {
    this.plugin = name;
    return this;
  }

  /** The status as an Error (for logs and rejected promises). */
  asError(): Error {
    return this.err ?? new Error(this.message());
  }
}

/** What every plugin call returns; `null` is Success. */
export type PluginStatus = Status | null;

/** A new status with the code and reasons. */
export function newStatus(code: StatusCode, ...reasons: string[]): Status {
  return new Status(code, reasons);
}

/** An Error status wrapping err. */
export function asStatus(err: unknown): Status {
  const e = err instanceof Error ? err : new Error(String(err));
  return new Status(Code.Error, [e.message], e);
}

/** True for null and Code.Success. */
export function isSuccess(s: PluginStatus | undefined): boolean {
  return s === null || s === undefined || s.code === Code.Success;
}

/** The status's code, Success for null. */
export function codeOf(s: PluginStatus | undefined): StatusCode {
  return s === null || s === undefined ? Code.Success : s.code;
}

/** True when the status rejects the pod (Unschedulable, Unresolvable or Pending). */
export function isRejected(s: PluginStatus | undefined): boolean {
  return s?.isRejected() ?? false;
}

/** True for Code.Skip. */
export function isSkip(s: PluginStatus | undefined): boolean {
  return s !== null && s !== undefined && s.code === Code.Skip;
}

/** The shared Skip status (plugins must not mutate it). */
export const SKIP: Status = new Status(Code.Skip);
