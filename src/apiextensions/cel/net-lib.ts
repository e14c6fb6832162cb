// Kubernetes' IP and CIDR CEL libraries (net.IP, net.CIDR): ip()/isIP()/ip.isCanonical(),
// family and the address-class predicates, cidr()/isCIDR(), containsIP, containsCIDR,
// masked, prefixLength and string(). Parsing is Go's netip's: strict dotted quads (no
// leading zeros), IPv6 with `::` and an embedded IPv4 tail; zones and IPv4-mapped IPv6
// addresses are refused as upstream's library refuses them.
import { as, define, type FunctionTable } from './library.js';
import { CelEvalError, Opaque, type Val } from './values.js';

/** A net.IP value (4 or 16 bytes). */
export class IPVal extends Opaque {
  readonly typeName = 'net.IP';
  constructor(readonly bytes: Uint8Array) {
    super();
  }
  equals(o: Opaque): boolean {
    return o instanceof IPVal && sameBytes(o.bytes, this.bytes);
  }
}

/** A net.CIDR value. */
export class CIDRVal extends Opaque {
  readonly typeName = 'net.CIDR';
  constructor(
    readonly ip: IPVal,
    readonly bits: number,
  ) {
    super();
  }
  equals(o: Opaque): boolean {
    return o instanceof CIDRVal && o.bits === this.bits && o.ip.equals(this.ip);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function parseV4(s: string): Uint8Array | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^\d{1,3}$/.test(p) || (p.length > 1 && p.startsWith('0')) || Number(p) > 255) return undefined;
    out[i] = Number(p);
  }
  return out;
}

function parseV6(s: string): Uint8Array | undefined {
  let head = s;
  let v4: Uint8Array | undefined;
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    v4 = parseV4(s.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    head = `${s.slice(0, lastColon + 1)}0:0`;
  }
  const dbl = head.split('::');
  if (dbl.length > 2) return undefined;
  const group = (x: string): number[] | undefined => {
    if (x === '') return [];
    const gs = x.split(':');
    const out: number[] = [];
    for (const g of gs) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(Number.parseInt(g, 16));
    }
    return out;
  };
  const left = group(dbl[0]!);
  const right = dbl.length === 2 ? group(dbl[1]!) : [];
  if (left === undefined || right === undefined) return undefined;
  const fill = 8 - left.length - right.length;
  if ((dbl.length === 2 && fill < 1) || (dbl.length === 1 && fill !== 0)) return undefined;
  const words = [...left, ...new Array<number>(dbl.length === 2 ? fill : 0).fill(0), ...right];
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[i * 2] = w >> 8;
    out[i * 2 + 1] = w & 0xff;
  });
  if (v4 !== undefined) out.set(v4, 12);
  return out;
}

function parseIP(s: string): IPVal | string {
  if (s.includes('%')) return 'IP address with zone value is not allowed';
  const b = s.includes(':') ? parseV6(s) : parseV4(s);
  if (b === undefined) return `ParseAddr(${JSON.stringify(s)}): unable to parse IP`;
  if (b.length === 16 && b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) {
    return 'IPv4-mapped IPv6 address is not allowed';
  }
  return new IPVal(b);
}

/** The canonical text of an address (RFC 5952 for IPv6). */
function ipString(ip: IPVal): string {
  const b = ip.bytes;
  if (b.length === 4) return [...b].join('.');
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((b[i]! << 8) | b[i + 1]!);
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]): string => ws.map((w) => w.toString(16)).join(':');
  if (best < 0) return hex(words);
  return `${hex(words.slice(0, best))}::${hex(words.slice(best + bestLen))}`;
}

function parseCIDR(s: string): CIDRVal | string {
  const slash = s.indexOf('/');
  if (slash < 0) return `netip.ParsePrefix(${JSON.stringify(s)}): no '/'`;
  const ip = parseIP(s.slice(0, slash));
  if (typeof ip === 'string') return ip;
  const bitsText = s.slice(slash + 1);
  const max = ip.bytes.length * 8;
  if (
    !/^\d+$/.test(bitsText) ||
    (bitsText.length > 1 && bitsText.startsWith('0')) ||
    Number(bitsText) > max
  ) {
    return `netip.ParsePrefix(${JSON.stringify(s)}): bad bits after slash: ${JSON.stringify(bitsText)}`;
  }
  return new CIDRVal(ip, Number(bitsText));
}

function masked(ip: IPVal, bits: number): IPVal {
  const out = new Uint8Array(ip.bytes.length);
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    out[i] = ip.bytes[i]! & ((0xff << (8 - keep)) & 0xff);
  }
  return new IPVal(out);
}

function inPrefix(c: CIDRVal, ip: IPVal): boolean {
  return ip.bytes.length === c.ip.bytes.length && masked(ip, c.bits).equals(masked(c.ip, c.bits));
}

const prefix = (s: string): CIDRVal => {
  const c = parseCIDR(s);
  if (typeof c === 'string') throw new CelEvalError(c);
  return c;
};

function classes(ip: IPVal): Record<string, boolean> {
  const b = ip.bytes;
  const v4 = b.length === 4;
  const unspecified = b.every((x) => x === 0);
  const loopback = v4 ? b[0] === 127 : b.slice(0, 15).every((x) => x === 0) && b[15] === 1;
  const multicast = v4 ? (b[0]! & 0xf0) === 0xe0 : b[0] === 0xff;
  const llMulticast = v4
    ? b[0] === 224 && b[1] === 0 && b[2] === 0
    : b[0] === 0xff && (b[1]! & 0x0f) === 0x02;
  const llUnicast = v4 ? b[0] === 169 && b[1] === 254 : b[0] === 0xfe && (b[1]! & 0xc0) === 0x80;
  const broadcast = v4 && b.every((x) => x === 255);
  return {
    isUnspecified: unspecified,
    isLoopback: loopback,
    isLinkLocalMulticast: llMulticast,
    isLinkLocalUnicast: llUnicast,
    isGlobalUnicast: !unspecified && !loopback && !multicast && !llUnicast && !broadcast,
  };
}

/** Defines the IP and CIDR libraries into a table. */
export function defineNet(t: FunctionTable): void {
  define(t, 'ip', [
    {
      sig: '(string) -> net.IP',
      impl: (a) => {
        const r = parseIP(as.str(a[0]));
        if (typeof r === 'string')
          throw new CelEvalError(
            `IP Address ${JSON.stringify(as.str(a[0]))} parse error during conversion from string: ${r}`,
          );
        return r;
      },
    },
    { sig: 'net.CIDR.() -> net.IP', impl: (a) => (a[0] as CIDRVal).ip },
  ]);
  define(t, 'isIP', [{ sig: '(string) -> bool', impl: (a) => typeof parseIP(as.str(a[0])) !== 'string' }]);
  define(t, 'ip.isCanonical', [
    {
      sig: '(string) -> bool',
      impl: (a) => {
        const r = parseIP(as.str(a[0]));
        if (typeof r === 'string') throw new CelEvalError(r);
        return ipString(r) === as.str(a[0]);
      },
    },
  ]);
  define(t, 'family', [
    { sig: 'net.IP.() -> int', impl: (a) => ((a[0] as IPVal).bytes.length === 4 ? 4n : 6n) },
  ]);
  for (const name of [
    'isUnspecified',
    'isLoopback',
    'isLinkLocalMulticast',
    'isLinkLocalUnicast',
    'isGlobalUnicast',
  ]) {
    define(t, name, [{ sig: 'net.IP.() -> bool', impl: (a) => classes(a[0] as IPVal)[name] === true }]);
  }
  define(t, 'cidr', [
    {
      sig: '(string) -> net.CIDR',
      impl: (a) => {
        const r = parseCIDR(as.str(a[0]));
        if (typeof r === 'string')
          throw new CelEvalError(`network address parse error during conversion from string: ${r}`);
        return r;
      },
    },
  ]);
  define(t, 'isCIDR', [
    { sig: '(string) -> bool', impl: (a) => typeof parseCIDR(as.str(a[0])) !== 'string' },
  ]);
  define(t, 'containsIP', [
    { sig: 'net.CIDR.(net.IP) -> bool', impl: (a) => inPrefix(a[0] as CIDRVal, a[1] as IPVal) },
    {
      sig: 'net.CIDR.(string) -> bool',
      impl: (a) => {
        const ip = parseIP(as.str(a[1]));
        if (typeof ip === 'string') throw new CelEvalError(ip);
        return inPrefix(a[0] as CIDRVal, ip);
      },
    },
  ]);
  const containsCIDR = (c: CIDRVal, o: CIDRVal): boolean => o.bits >= c.bits && inPrefix(c, o.ip);
  define(t, 'containsCIDR', [
    { sig: 'net.CIDR.(net.CIDR) -> bool', impl: (a) => containsCIDR(a[0] as CIDRVal, a[1] as CIDRVal) },
    { sig: 'net.CIDR.(string) -> bool', impl: (a) => containsCIDR(a[0] as CIDRVal, prefix(as.str(a[1]))) },
  ]);
  define(t, 'masked', [
    {
      sig: 'net.CIDR.() -> net.CIDR',
      impl: (a) => new CIDRVal(masked((a[0] as CIDRVal).ip, (a[0] as CIDRVal).bits), (a[0] as CIDRVal).bits),
    },
  ]);
  define(t, 'prefixLength', [{ sig: 'net.CIDR.() -> int', impl: (a) => BigInt((a[0] as CIDRVal).bits) }]);
  define(t, 'string', [
    { sig: '(net.IP) -> string', impl: (a: Val[]) => ipString(a[0] as IPVal) },
    {
      sig: '(net.CIDR) -> string',
      impl: (a: Val[]) => `${ipString((a[0] as CIDRVal).ip)}/${(a[0] as CIDRVal).bits}`,
    },
  ]);
}
