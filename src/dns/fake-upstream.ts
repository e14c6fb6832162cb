// A scripted upstream DNS server on loopback, for tests of forwarding: answers from a table
// over UDP and TCP, counts what it was asked, and can force truncation or silence.

import dgram from 'node:dgram';
import net from 'node:net';
import {
  type DNSMessage,
  decodeMessage,
  encodeMessage,
  Flag,
  frameTcp,
  type ResourceRecord,
  TcpFramer,
} from './wire.js';

/** What the fake upstream answers for one name and type. */
export interface FakeAnswer {
  rcode?: number;
  answers?: ResourceRecord[];
  authority?: ResourceRecord[];
  /** Over UDP, answer with TC set and no records (the client must retry over TCP). */
  truncateUdp?: boolean;
  /** Never answer. */
  silent?: boolean;
}

/** A running fake upstream. */
export interface FakeUpstream {
  /** `127.0.0.1:<port>`, for a forwarder's upstream list. */
  address: string;
  port: number;
  /** Every question received, as `transport name type`. */
  log: string[];
  /** Replaces or adds an answer. */
  set(name: string, type: number, answer: FakeAnswer): void;
  close(): Promise<void>;
}

/** Starts a fake upstream on 127.0.0.1 with `table` keyed `name type` (lowercase name). */
export async function startFakeUpstream(table: Record<string, FakeAnswer> = {}): Promise<FakeUpstream> {
  const answers = new Map(Object.entries(table));
  const log: string[] = [];
  const respond = (packet: Buffer, transport: 'udp' | 'tcp'): Buffer | null => {
    let m: DNSMessage;
    try {
      m = decodeMessage(packet);
    } catch {
      return null;
    }
    const q = m.questions[0];
    if (!q) return null;
    log.push(`${transport} ${q.name} ${q.type}`);
    const a = answers.get(`${q.name.toLowerCase()} ${q.type}`) ?? { rcode: 3 };
    if (a.silent) return null;
    const truncated = transport === 'udp' && a.truncateUdp === true;
    const reply: DNSMessage = {
      id: m.id,
      flags: Flag.QR | Flag.RA | (m.flags & Flag.RD) | (truncated ? Flag.TC : 0),
      opcode: 0,
      rcode: a.rcode ?? 0,
      questions: m.questions,
      answers: truncated ? [] : (a.answers ?? []),
      authority: truncated ? [] : (a.authority ?? []),
      additional: [],
      ...(m.edns && { edns: { udpSize: 1232, extendedRcode: 0, version: 0, dnssecOk: false, options: [] } }),
    };
    return encodeMessage(reply);
  };

  const udp = dgram.createSocket('udp4');
  udp.on('message', (msg, rinfo) => {
    const r = respond(msg, 'udp');
    if (r) udp.send(r, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', () => resolve()));
  const port = udp.address().port;
  const conns = new Set<net.Socket>();
  const tcp = net.createServer((conn) => {
    conns.add(conn);
    conn.on('close', () => conns.delete(conn));
    conn.on('error', () => conn.destroy());
    const framer = new TcpFramer();
    conn.on('data', (chunk: Buffer) => {
      for (const msg of framer.push(chunk)) {
        const r = respond(msg, 'tcp');
        if (r) conn.write(frameTcp(r));
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    address: `127.0.0.1:${port}`,
    port,
    log,
    set: (name, type, answer) => answers.set(`${name.toLowerCase()} ${type}`, answer),
    close: async () => {
      for (const c of conns) c.destroy();
      await Promise.all([
        new Promise<void>((resolve) => udp.close(() => resolve())),
        new Promise<void>((resolve) => tcp.close(() => resolve())),
      ]);
    },
  };
}
