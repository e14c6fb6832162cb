// Container logs in the CRI log format, shared by both runtimes and by the kubelet's log
// endpoint. One line per entry: `<RFC3339Nano time> <stdout|stderr> <F|P> <content>`, where
// `P` marks a partial line (the rest follows in later entries) and `F` a full one. The
// process runtime writes logs with `CriLogWriter` (with size-based rotation); containerd
// writes its own, and `readLogs`/`followLogs` read either.

import {
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { open } from 'node:fs/promises';

/** Which stream a log entry came from. */
export type LogStream = 'stdout' | 'stderr';

/** One parsed CRI log entry. */
export interface LogEntry {
  /** The timestamp exactly as written (RFC 3339 with nanoseconds). */
  time: string;
  /** The timestamp as nanoseconds since the epoch. */
  timeNanos: bigint;
  stream: LogStream;
  /** True for a `P` (partial) entry: no newline follows its content. */
  partial: boolean;
  content: Buffer;
}

const wallBase = BigInt(Date.now()) * 1_000_000n;
const monoBase = process.hrtime.bigint();

/** Nanoseconds since the epoch, with sub-millisecond precision and never going backwards. */
export function logClockNanos(): bigint {
  return wallBase + (process.hrtime.bigint() - monoBase);
}

/** Formats nanoseconds since the epoch as RFC 3339 with 9 fractional digits (UTC). */
export function formatRfc3339Nano(nanos: bigint): string {
  const ms = Number(nanos / 1_000_000n);
  const iso = new Date(ms).toISOString(); // 2024-01-02T03:04:05.123Z
  const frac = (nanos % 1_000_000_000n).toString().padStart(9, '0');
  return `${iso.slice(0, 19)}.${frac}Z`;
}

/** Parses an RFC 3339 timestamp (any fraction length, Z or ±hh:mm) to nanoseconds. */
export function parseRfc3339Nano(s: string): bigint {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(s);
  if (m === null) throw new Error(`invalid RFC 3339 time ${JSON.stringify(s)}`);
  const seconds = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(seconds)) throw new Error(`invalid RFC 3339 time ${JSON.stringify(s)}`);
  return BigInt(seconds) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

/** Formats one CRI log line (with its trailing newline). */
export function formatLogLine(
  nanos: bigint,
  stream: LogStream,
  partial: boolean,
  content: Buffer | string,
): Buffer {
  const head = Buffer.from(`${formatRfc3339Nano(nanos)} ${stream} ${partial ? 'P' : 'F'} `);
  return Buffer.concat([head, Buffer.isBuffer(content) ? content : Buffer.from(content), Buffer.from('\n')]);
}

/** Parses one CRI log line (without its newline); undefined when malformed. */
export function parseLogLine(line: Buffer): LogEntry | undefined {
  const s1 = line.indexOf(0x20);
  const s2 = s1 < 0 ? -1 : line.indexOf(0x20, s1 + 1);
  const s3 = s2 < 0 ? -1 : line.indexOf(0x20, s2 + 1);
  if (s3 < 0) {
    // `<time> <stream> <tag>` with empty content has no third space.
    if (s2 < 0 || line.length - s2 !== 2) return undefined;
  }
  const time = line.subarray(0, s1).toString('latin1');
  const stream = line.subarray(s1 + 1, s2).toString('latin1');
  const tag = line.subarray(s2 + 1, s3 < 0 ? line.length : s3).toString('latin1');
  if ((stream !== 'stdout' && stream !== 'stderr') || (tag !== 'F' && tag !== 'P')) return undefined;
  let timeNanos: bigint;
  try {
    timeNanos = parseRfc3339Nano(time);
  } catch {
    return undefined;
  }
  return {
    time,
    timeNanos,
    stream,
    partial: tag === 'P',
    content: s3 < 0 ? Buffer.alloc(0) : Buffer.from(line.subarray(s3 + 1)),
  };
}

/** Splits a log file's bytes into entries, skipping malformed lines. */
export function parseLogFile(data: Buffer): LogEntry[] {
  const out: LogEntry[] = [];
  let start = 0;
  for (;;) {
    const nl = data.indexOf(0x0a, start);
    if (nl < 0) break;
    const e = parseLogLine(data.subarray(start, nl));
    if (e !== undefined) out.push(e);
    start = nl + 1;
  }
  return out;
}

/** Rotation limits of a log writer. */
export interface LogRotation {
  /** Rotate once the file reaches this many bytes (default 10 MiB, the kubelet's default). */
  maxSize?: number;
  /** Files kept per container, the live one included (default 5, the kubelet's default). */
  maxFiles?: number;
}

/**
 * Writes a container's stdout/stderr as CRI log lines. Output is split at newlines; a line
 * longer than `maxLineSize` is cut into `P` entries; bytes without a newline wait until the
 * newline arrives or the stream ends. When the file reaches `maxSize` it becomes `<path>.1`
 * (older ones shift to `.2`…), keeping `maxFiles` files in all.
 */
export class CriLogWriter {
  private fd: number;
  private size: number;
  private readonly pending: Record<LogStream, Buffer> = { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };
  private readonly maxSize: number;
  private readonly maxFiles: number;

  constructor(
    readonly path: string,
    rotation: LogRotation = {},
    private readonly maxLineSize = 16 * 1024,
    private readonly clock: () => bigint = logClockNanos,
  ) {
    this.maxSize = rotation.maxSize ?? 10 * 1024 * 1024;
    this.maxFiles = Math.max(1, rotation.maxFiles ?? 5);
    this.fd = openSync(path, 'a', 0o640);
    this.size = statSync(path).size;
  }

  /** Appends a chunk of a stream's output. */
  write(stream: LogStream, chunk: Buffer): void {
    let data = this.pending[stream].length > 0 ? Buffer.concat([this.pending[stream], chunk]) : chunk;
    for (;;) {
      const nl = data.indexOf(0x0a);
      if (nl < 0) break;
      this.emitLine(stream, data.subarray(0, nl));
      data = data.subarray(nl + 1);
    }
    while (data.length >= this.maxLineSize) {
      this.append(formatLogLine(this.clock(), stream, true, data.subarray(0, this.maxLineSize)));
      data = data.subarray(this.maxLineSize);
    }
    this.pending[stream] = Buffer.from(data);
  }

  private emitLine(stream: LogStream, line: Buffer): void {
    while (line.length > this.maxLineSize) {
      this.append(formatLogLine(this.clock(), stream, true, line.subarray(0, this.maxLineSize)));
      line = line.subarray(this.maxLineSize);
    }
    this.append(formatLogLine(this.clock(), stream, false, line));
  }

  private append(bytes: Buffer): void {
    writeSync(this.fd, bytes);
    this.size += bytes.length;
    if (this.size >= this.maxSize) this.rotate();
  }

  /** Moves the live file aside and starts a new one. */
  rotate(): void {
    closeSync(this.fd);
    if (this.maxFiles <= 1) rmSync(this.path, { force: true });
    else {
      rmSync(`${this.path}.${this.maxFiles - 1}`, { force: true });
      for (let i = this.maxFiles - 2; i >= 1; i--) {
        if (existsSync(`${this.path}.${i}`)) renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`);
      }
      renameSync(this.path, `${this.path}.1`);
    }
    this.fd = openSync(this.path, 'a', 0o640);
    this.size = 0;
  }

  /** Flushes unterminated output of `stream` as a full line (its writer has ended). */
  endStream(stream: LogStream): void {
    if (this.pending[stream].length > 0) {
      const rest = this.pending[stream];
      this.pending[stream] = Buffer.alloc(0);
      this.emitLine(stream, rest);
    }
  }

  /** Flushes both streams and closes the file. */
  close(): void {
    this.endStream('stdout');
    this.endStream('stderr');
    closeSync(this.fd);
  }
}

/** What to read, as `kubectl logs` asks for it. */
export interface ReadLogOptions {
  /** Only the last N lines (full lines; partial entries join the line they belong to). */
  tailLines?: number;
  /** Only entries at or after this time (nanoseconds since the epoch). */
  sinceNanos?: bigint;
  /** Prefix each line with its RFC 3339 timestamp. */
  timestamps?: boolean;
  /** Only this stream (default both). */
  stream?: LogStream;
  /** Stop after this many bytes of output. */
  limitBytes?: number;
}

interface Line {
  time: string;
  timeNanos: bigint;
  stream: LogStream;
  text: Buffer;
  complete: boolean;
}

/** Joins P entries into lines per stream; the last line may still be incomplete. */
function joinLines(entries: LogEntry[], carry: Map<LogStream, Line>): Line[] {
  const out: Line[] = [];
  for (const e of entries) {
    const open = carry.get(e.stream);
    const line: Line = open ?? {
      time: e.time,
      timeNanos: e.timeNanos,
      stream: e.stream,
      text: Buffer.alloc(0),
      complete: false,
    };
    line.text = Buffer.concat([line.text, e.content]);
    if (e.partial) carry.set(e.stream, line);
    else {
      carry.delete(e.stream);
      line.complete = true;
      out.push(line);
    }
  }
  return out;
}

function selectLines(lines: Line[], o: ReadLogOptions): Line[] {
  let sel = lines.filter(
    (l) =>
      (o.stream === undefined || l.stream === o.stream) &&
      (o.sinceNanos === undefined || l.timeNanos >= o.sinceNanos),
  );
  if (o.tailLines !== undefined) sel = o.tailLines <= 0 ? [] : sel.slice(-o.tailLines);
  return sel;
}

function renderLine(l: Line, timestamps: boolean): Buffer {
  const text = l.complete ? Buffer.concat([l.text, Buffer.from('\n')]) : l.text;
  // Like the kubelet: always 9 fractional digits on output, whatever precision was stored.
  return timestamps ? Buffer.concat([Buffer.from(`${formatRfc3339Nano(l.timeNanos)} `), text]) : text;
}

/** Reads a container's current log file and renders it as `kubectl logs` output. */
export function readLogs(path: string, options: ReadLogOptions = {}): Buffer {
  const data = existsSync(path) ? readFileSync(path) : Buffer.alloc(0);
  const carry = new Map<LogStream, Line>();
  const lines = joinLines(parseLogFile(data), carry);
  // An unfinished P run at the end of the file is output as it stands.
  lines.push(...carry.values());
  const out = Buffer.concat(
    selectLines(lines, options).map((l) => renderLine(l, options.timestamps === true)),
  );
  return options.limitBytes !== undefined ? out.subarray(0, options.limitBytes) : out;
}

/**
 * Streams a container's log: first what `readLogs` would give, then every new line as it is
 * written, surviving rotation (a new file at `path` is read from its start), until `signal`
 * aborts or `until()` says the container is gone and the file is drained.
 */
export async function* followLogs(
  path: string,
  options: ReadLogOptions & {
    signal?: AbortSignal;
    pollMs?: number;
    until?: () => boolean | Promise<boolean>;
  },
): AsyncGenerator<Buffer> {
  const timestamps = options.timestamps === true;
  let budget = options.limitBytes ?? Number.POSITIVE_INFINITY;
  const emit = (b: Buffer): Buffer => {
    const out = b.subarray(0, Math.max(0, Math.min(b.length, budget)));
    budget -= out.length;
    return out;
  };
  let ino = -1;
  let offset = 0;
  let rest = Buffer.alloc(0);
  let first = true;
  const carry = new Map<LogStream, Line>();
  while (options.signal?.aborted !== true && budget > 0) {
    let st: { ino: number; size: number } | undefined;
    try {
      st = statSync(path);
    } catch {
      st = undefined;
    }
    if (st !== undefined && (st.ino !== ino || st.size < offset)) {
      ino = st.ino;
      offset = 0;
      rest = Buffer.alloc(0);
    }
    if (st !== undefined && st.size > offset) {
      const fh = await open(path, 'r');
      try {
        const buf = Buffer.alloc(st.size - offset);
        const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
        offset += bytesRead;
        const data = Buffer.concat([rest, buf.subarray(0, bytesRead)]);
        const lastNl = data.lastIndexOf(0x0a);
        rest = Buffer.from(data.subarray(lastNl + 1));
        let lines = joinLines(parseLogFile(data.subarray(0, lastNl + 1)), carry);
        lines = first
          ? selectLines(lines, options)
          : selectLines(lines, { ...options, tailLines: undefined });
        first = false;
        for (const l of lines) {
          const out = emit(renderLine(l, timestamps));
          if (out.length > 0) yield out;
          if (budget <= 0) return;
        }
      } finally {
        await fh.close();
      }
    } else if (first) {
      first = false;
    } else if (options.until !== undefined && (await options.until())) {
      return;
    }
    await sleepUnlessAborted(options.pollMs ?? 200, options.signal);
  }
}

function sleepUnlessAborted(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
