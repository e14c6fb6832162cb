// X.509 certificate issuance for the cluster PKI (CA, serving and client certificates).
// Keys are ECDSA P-256: fast to generate (start-up time matters) and accepted by kubectl,
// client-go, Node and Python TLS stacks.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
} from 'node:crypto';
import { isIP } from 'node:net';
import { bitString, boolean, context, integer, octetString, oid, seq, set, time, utf8 } from './der.js';

const OID = {
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

/** A certificate subject: Kubernetes reads the user from CN and groups from O. */
export interface Subject {
  commonName: string;
  organizations?: string[];
}

/** What to put in a new certificate. */
export interface CertificateTemplate {
  subject: Subject;
  /** Validity; notBefore defaults to one hour ago to tolerate clock skew. */
  notBefore?: Date;
  notAfter: Date;
  isCA?: boolean;
  /** Extended key usages. */
  usages?: Array<'serverAuth' | 'clientAuth'>;
  /** DNS names and IP addresses for the subjectAltName extension. */
  sans?: string[];
}

/** A certificate with its private key, both PEM. */
export interface KeyPair {
  certPem: string;
  keyPem: string;
}

/** Generates a new ECDSA P-256 private key. */
export function generateKey(): KeyObject {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
}

/** RDNSequence in Go's pkix.Name order (O before CN), one attribute per RDN. */
function encodeName(s: Subject): Buffer {
  const rdns: Buffer[] = [];
  for (const o of s.organizations ?? []) rdns.push(set(seq(oid(OID.organization), utf8(o))));
  rdns.push(set(seq(oid(OID.commonName), utf8(s.commonName))));
  return seq(...rdns);
}

function keyUsageBits(isCA: boolean): Buffer {
  // bit 0 digitalSignature, bit 2 keyEncipherment, bit 5 keyCertSign, bit 6 cRLSign (MSB first).
  let byte = 0x80 | 0x20;
  if (isCA) byte |= 0x04 | 0x02;
  let unused = 0;
  while (unused < 7 && ((byte >> unused) & 1) === 0) unused++;
  return Buffer.from([0x03, 0x02, unused, byte]);
}

function encodeSans(sans: string[]): Buffer {
  const names = sans.map((n) => {
    const v = isIP(n);
    if (v === 4) return context(7, Buffer.from(n.split('.').map((x) => Number.parseInt(x, 10))), false);
    if (v === 6) return context(7, ipv6Bytes(n), false);
    return context(2, Buffer.from(n, 'ascii'), false);
  });
  return seq(...names);
}

function ipv6Bytes(ip: string): Buffer {
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const h = head ? head.split(':').filter((x) => x !== '') : [];
  const t = tail ? tail.split(':').filter((x) => x !== '') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g: string, i: number) => {
    out.writeUInt16BE(Number.parseInt(g, 16), i * 2);
  });
  return out;
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? seq(oid(id), boolean(true), octetString(value)) : seq(oid(id), octetString(value));
}

function keyId(spkiDer: Buffer): Buffer {
  return createHash('sha1').update(spkiDer).digest();
}

/** The issuer of a certificate: the CA's certificate and key, or undefined for self-signed. */
export interface Issuer {
  certPem: string;
  keyPem: string;
}

/** Issues a certificate for `publicKey`, signed by `issuer` (self-signed when omitted). */
export function issueCertificate(
  tpl: CertificateTemplate,
  publicKey: KeyObject,
  issuer?: Issuer,
  selfKey?: KeyObject,
): string {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  let issuerName: Buffer;
  let issuerKey: KeyObject;
  let issuerKeyId: Buffer;
  if (issuer) {
    const caDer = pemToDer(issuer.certPem);
    issuerName = certificateSubjectDer(caDer);
    issuerKey = createPrivateKey(issuer.keyPem);
    issuerKeyId = keyId(createPublicKey(issuerKey).export({ type: 'spki', format: 'der' }));
  } else {
    if (!selfKey) throw new Error('x509: a self-signed certificate needs its private key');
    issuerName = encodeName(tpl.subject);
    issuerKey = selfKey;
    issuerKeyId = keyId(spki);
  }
  const isCA = tpl.isCA === true;
  const exts: Buffer[] = [
    extension(OID.keyUsage, true, keyUsageBits(isCA)),
    extension(OID.basicConstraints, true, isCA ? seq(boolean(true)) : seq()),
    extension(OID.subjectKeyIdentifier, false, octetString(keyId(spki))),
    extension(OID.authorityKeyIdentifier, false, seq(context(0, issuerKeyId, false))),
  ];
  if (tpl.usages && tpl.usages.length > 0) {
    exts.push(extension(OID.extKeyUsage, false, seq(...tpl.usages.map((u) => oid(OID[u])))));
  }
  if (tpl.sans && tpl.sans.length > 0) exts.push(extension(OID.subjectAltName, false, encodeSans(tpl.sans)));
  const serial = BigInt(`0x${randomBytes(16).toString('hex')}`) >> 1n;
  const alg = seq(oid(OID.ecdsaWithSHA256));
  const notBefore = tpl.notBefore ?? new Date(Date.now() - 3600_000);
  const tbs = seq(
    context(0, integer(2n)),
    integer(serial),
    alg,
    issuerName,
    seq(time(notBefore), time(tpl.notAfter)),
    encodeName(tpl.subject),
    spki,
    context(3, seq(...exts)),
  );
  const signature = sign('sha256', tbs, issuerKey);
  return derToPem(seq(tbs, alg, bitString(signature)), 'CERTIFICATE');
}

/** Creates a key and a certificate for it in one step. */
export function createKeyPair(tpl: CertificateTemplate, issuer?: Issuer): KeyPair {
  const key = generateKey();
  const certPem = issueCertificate(tpl, createPublicKey(key), issuer, key);
  return { certPem, keyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/** PEM armour. */
export function derToPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** The DER bytes of the first PEM block. */
export function pemToDer(pem: string): Buffer {
  const m = /-----BEGIN [A-Z0-9 ]+-----([\s\S]*?)-----END [A-Z0-9 ]+-----/.exec(pem);
  if (!m) throw new Error('x509: no PEM block found');
  return Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
}

// Certificate ::= SEQUENCE { tbsCertificate, … }; tbs = [0] version, serial, alg, issuer,
// validity, subject, … — the subject is the sixth element.
function certificateSubjectDer(certDer: Buffer): Buffer {
  const cert = readSeq(certDer);
  const tbs = readSeq(cert[0]!);
  return tbs[5]!;
}

function readSeq(buf: Buffer): Buffer[] {
  // Inline reader over one SEQUENCE: returns the raw TLVs of its children.
  let pos = 1;
  let len = buf[pos]!;
  pos++;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[pos + i]!;
    pos += n;
  }
  const out: Buffer[] = [];
  const end = pos + len;
  while (pos < end) {
    const start = pos;
    pos++;
    let l = buf[pos]!;
    pos++;
    if (l & 0x80) {
      const n = l & 0x7f;
      l = 0;
      for (let i = 0; i < n; i++) l = l * 256 + buf[pos + i]!;
      pos += n;
    }
    pos += l;
    out.push(buf.subarray(start, pos));
  }
  return out;
}
