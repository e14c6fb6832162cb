// IP addresses as the cluster DNS names them: canonical text (so an address written two
// ways in two objects is one key), reverse-zone names (in-addr.arpa, ip6.arpa) and the
// dashed labels CoreDNS uses for pod and endpoint names (10-42-0-5, fd00--1).

/** The four bytes of a dotted IPv4 address, or null when it is not one. */
export function ipv4Bytes(address: string): Uint8Array | null {
  const parts = address.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i] as string;
    if (!/^\d{1,3}$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

/** The sixteen bytes of an IPv6 address (an embedded dotted IPv4 tail is allowed), or null. */
export function ipv6Bytes(address: string): Uint8Array | null {
  if (!address.includes(':')) return null;
  let head = address;
  let v4: Uint8Array | null = null;
  const lastColon = address.lastIndexOf(':');
  if (address.indexOf('.', lastColon) !== -1) {
    v4 = ipv4Bytes(address.slice(lastColon + 1));
    if (!v4) return null;
    head = `${address.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const left = halves[0] ? (halves[0] as string).split(':') : [];
  const right = halves.length === 2 && halves[1] ? (halves[1] as string).split(':') : [];
  const fill = 8 - left.length - right.length;
  if (halves.length === 1 ? fill !== 0 : fill < 1) return null;
  const groups = [...left, ...Array<string>(halves.length === 2 ? fill : 0).fill('0'), ...right];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const g = groups[i] as string;
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    const n = Number.parseInt(g, 16);
    out[i * 2] = n >> 8;
    out[i * 2 + 1] = n & 0xff;
  }
  if (v4) out.set(v4, 12);
  return out;
}

/** Formats sixteen bytes the RFC 5952 way (lowercase, longest zero run collapsed). */
export function formatIPv6(bytes: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2)
    groups.push((((bytes[i] as number) << 8) | (bytes[i + 1] as number)).toString(16));
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestAt < 0) return groups.join(':');
  return `${groups.slice(0, bestAt).join(':')}::${groups.slice(bestAt + bestLen).join(':')}`;
}

/** The address family of a textual IP: 4, 6, or 0 when it is not an address. */
export function ipFamily(address: string): 0 | 4 | 6 {
  if (ipv4Bytes(address)) return 4;
  if (ipv6Bytes(address)) return 6;
  return 0;
}

/** The canonical text of an address (IPv6 per RFC 5952), or null when it is not one. */
export function canonicalIP(address: string): string | null {
  if (ipv4Bytes(address)) return address.split('.').map(Number).join('.');
  const b = ipv6Bytes(address);
  return b ? formatIPv6(b) : null;
}

/** The reverse-zone name of an address (no trailing dot), or null when it is not one. */
export function reverseName(address: string): string | null {
  const v4 = ipv4Bytes(address);
  if (v4) return `${Array.from(v4).reverse().join('.')}.in-addr.arpa`;
  const v6 = ipv6Bytes(address);
  if (!v6) return null;
  const nibbles: string[] = [];
  for (let i = 15; i >= 0; i--) {
    const b = v6[i] as number;
    nibbles.push((b & 0xf).toString(16), (b >> 4).toString(16));
  }
  return `${nibbles.join('.')}.ip6.arpa`;
}

/**
 * The address a full reverse name stands for (canonical text), or null for anything else
 * (partial names like 10.in-addr.arpa, bad labels). `name` is lowercase.
 */
export function addressFromReverse(name: string): string | null {
  if (name.endsWith('.in-addr.arpa')) {
    const labels = name.slice(0, -'.in-addr.arpa'.length).split('.');
    if (labels.length !== 4) return null;
    return canonicalIP(labels.reverse().join('.'));
  }
  if (name.endsWith('.ip6.arpa')) {
    const labels = name.slice(0, -'.ip6.arpa'.length).split('.');
    if (labels.length !== 32 || !labels.every((l) => /^[0-9a-f]$/.test(l))) return null;
    const hex = labels.reverse().join('');
    const bytes = new Uint8Array(16);
    for (let i = 0; i < 16; i++) bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
    return formatIPv6(bytes);
  }
  return null;
}

/** Whether a lowercase name lies in a reverse zone CoreDNS's kubernetes plugin serves. */
export function isReverseName(name: string): boolean {
  return (
    name.endsWith('.in-addr.arpa') ||
    name === 'in-addr.arpa' ||
    name.endsWith('.ip6.arpa') ||
    name === 'ip6.arpa'
  );
}

/** The dashed label CoreDNS derives from an address (10.0.0.1 → 10-0-0-1, fd00::1 → fd00--1). */
export function dashedLabel(address: string): string {
  return address.replace(/[.:]/g, '-');
}

/**
 * The address a dashed pod label stands for, as CoreDNS reads it: exactly three dashes and
 * no '--' is IPv4, anything else is IPv6 with dashes for colons. Null when it is not an IP.
 */
export function addressFromDashed(label: string): string | null {
  let dashes = 0;
  for (let i = 0; i < label.length; i++) if (label.charCodeAt(i) === 45) dashes++;
  const text = dashes === 3 && !label.includes('--') ? label.replace(/-/g, '.') : label.replace(/-/g, ':');
  return canonicalIP(text);
}
