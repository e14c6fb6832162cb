// PKCS#10 certificate requests (RFC 2986), the `spec.request` of a CertificateSigningRequest:
// `createCertificateRequest` writes one for a key (the kubelet's TLS bootstrap), and
// `parseCertificateRequest` reads one back (subject, public key, subjectAltNames) and checks
// its self-signature, as Go's x509.ParseCertificateRequest + CheckSignature do for signers.
import { createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { isIP } from 'node:net';
import {
  children,
  context,
  type Node,
  octetString,
  oid,
  readNode,
  readOid,
  seq,
  set,
  tlv,
  utf8,
} from '../../pki/der.js';
import { derToPem, pemToDer } from '../../pki/x509.js';

const OID = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  extensionRequest: '1.2.840.113549.1.9.14',
  subjectAltName: '2.5.29.17',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  ecdsaWithSHA384: '1.2.840.10045.4.3.3',
  ecdsaWithSHA512: '1.2.840.10045.4.3.4',
  sha256WithRSA: '1.2.840.113549.1.1.11',
  sha384WithRSA: '1.2.840.113549.1.1.12',
  sha512WithRSA: '1.2.840.113549.1.1.13',
  ed25519: '1.3.101.112',
} as const;

const HASH_OF: Record<string, string | null> = {
  [OID.ecdsaWithSHA256]: 'sha256',
  [OID.ecdsaWithSHA384]: 'sha384',
  [OID.ecdsaWithSHA512]: 'sha512',
  [OID.sha256WithRSA]: 'sha256',
  [OID.sha384WithRSA]: 'sha384',
  [OID.sha512WithRSA]: 'sha512',
  [OID.ed25519]: null,
};

/** A parsed certificate request. */
export interface CertificateRequest {
  commonName: string;
  organizations: string[];
  publicKey: KeyObject;
  dnsNames: string[];
  ipAddresses: string[];
  emailAddresses: string[];
  uris: string[];
}

/** What to request. */
export interface CertificateRequestTemplate {
  commonName: string;
  organizations?: string[];
  /** DNS names and IP addresses. */
  sans?: string[];
}

function encodeSubject(t: CertificateRequestTemplate): Buffer {
  const rdns = (t.organizations ?? []).map((o) => set(seq(oid(OID.organization), utf8(o))));
  rdns.push(set(seq(oid(OID.commonName), utf8(t.commonName))));
  return seq(...rdns);
}

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map((x) => Number.parseInt(x, 10)));
  const [head = '', tail] = ip.split('::');
  const h = head.split(':').filter((x) => x !== '');
  const t = tail === undefined ? [] : tail.split(':').filter((x) => x !== '');
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => {
    out.writeUInt16BE(Number.parseInt(g, 16), i * 2);
  });
  return out;
}

/** Writes a PEM `CERTIFICATE REQUEST` for `key` (ECDSA, RSA or Ed25519). */
export function createCertificateRequest(t: CertificateRequestTemplate, key: KeyObject): string {
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const attrs: Buffer[] = [];
  if (t.sans && t.sans.length > 0) {
    const names = t.sans.map((n) =>
      isIP(n) !== 0 ? context(7, ipBytes(n), false) : context(2, Buffer.from(n, 'ascii'), false),
    );
    const ext = seq(oid(OID.subjectAltName), octetString(seq(...names)));
    attrs.push(seq(oid(OID.extensionRequest), set(seq(ext))));
  }
  const info = seq(Buffer.from([0x02, 0x01, 0x00]), encodeSubject(t), spki, context(0, Buffer.concat(attrs)));
  const type = key.asymmetricKeyType;
  const [algOid, hash] =
    type === 'ed25519'
      ? [OID.ed25519, null]
      : type === 'rsa'
        ? [OID.sha256WithRSA, 'sha256']
        : [OID.ecdsaWithSHA256, 'sha256'];
  const alg = type === 'rsa' ? seq(oid(algOid), tlv(0x05, Buffer.alloc(0))) : seq(oid(algOid));
  const sig = sign(hash, info, key);
  return derToPem(seq(info, alg, tlv(0x03, Buffer.concat([Buffer.from([0]), sig]))), 'CERTIFICATE REQUEST');
}

function text(n: Node): string {
  // PrintableString, IA5String and friends are ASCII; UTF8String is UTF-8.
  return n.tag === 0x0c ? n.content.toString('utf8') : n.content.toString('latin1');
}

function formatIP(b: Buffer): string {
  if (b.length === 4) return [...b].join('.');
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(b.readUInt16BE(i).toString(16));
  return parts
    .join(':')
    .replace(/\b(?:0:){2,}0?/, ':')
    .replace(/^:(?!:)/, '::');
}

/**
 * Parses a PEM (or DER) certificate request and verifies its signature; throws with a
 * message naming what is wrong.
 */
export function parseCertificateRequest(input: string | Buffer): CertificateRequest {
  let der: Buffer;
  if (typeof input === 'string' || input.subarray(0, 10).toString('latin1').startsWith('-----')) {
    const pem = input.toString();
    if (!/-----BEGIN CERTIFICATE REQUEST-----/.test(pem))
      throw new Error('PEM block type must be CERTIFICATE REQUEST');
    der = pemToDer(pem);
  } else der = input;
  const top = children(readNode(der));
  const [infoNode, algNode, sigNode] = top;
  if (!infoNode || !algNode || !sigNode) throw new Error('x509: malformed certificate request');
  const info = children(infoNode);
  const [, subjectNode, spkiNode, attrsNode] = info;
  if (!subjectNode || !spkiNode) throw new Error('x509: malformed certificate request');
  const out: CertificateRequest = {
    commonName: '',
    organizations: [],
    publicKey: createPublicKey({ key: spkiNode.raw, format: 'der', type: 'spki' }),
    dnsNames: [],
    ipAddresses: [],
    emailAddresses: [],
    uris: [],
  };
  for (const rdn of children(subjectNode)) {
    for (const atv of children(rdn)) {
      const [t, v] = children(atv);
      if (!t || !v) continue;
      const id = readOid(t.content);
      if (id === OID.commonName) out.commonName = text(v);
      else if (id === OID.organization) out.organizations.push(text(v));
    }
  }
  if (attrsNode !== undefined && attrsNode.tag === 0xa0) {
    for (const attr of children(attrsNode)) {
      const [t, values] = children(attr);
      if (!t || !values || readOid(t.content) !== OID.extensionRequest) continue;
      for (const exts of children(values)) {
        for (const ext of children(exts)) {
          const parts = children(ext);
          if (!parts[0] || readOid(parts[0].content) !== OID.subjectAltName) continue;
          const value = parts[parts.length - 1]!;
          for (const gn of children(readNode(value.content))) {
            if (gn.tag === 0x82) out.dnsNames.push(gn.content.toString('ascii'));
            else if (gn.tag === 0x87) out.ipAddresses.push(formatIP(gn.content));
            else if (gn.tag === 0x81) out.emailAddresses.push(gn.content.toString('ascii'));
            else if (gn.tag === 0x86) out.uris.push(gn.content.toString('ascii'));
          }
        }
      }
    }
  }
  const algOid = readOid(children(algNode)[0]?.content ?? Buffer.alloc(0));
  const hash = HASH_OF[algOid];
  if (hash === undefined)
    throw new Error(`x509: cannot verify signature: algorithm ${algOid} is unimplemented`);
  const ok = verify(hash, infoNode.raw, out.publicKey, sigNode.content.subarray(1));
  if (!ok) throw new Error('x509: ECDSA verification failure');
  return out;
}
