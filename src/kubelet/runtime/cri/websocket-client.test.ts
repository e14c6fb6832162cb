import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exitCodeFromStatus } from '../exec-status.js';
import { encodeFrame, FrameDecoder } from './websocket-client.js';

describe('WebSocket framing', () => {
  it('decodes what it encodes, at every length class, split anywhere', () => {
    for (const len of [0, 5, 125, 126, 300, 65535, 65536, 70000]) {
      const payload = Buffer.alloc(len, len % 251);
      const frame = encodeFrame(2, payload, Buffer.from([1, 2, 3, 4]));
      const d = new FrameDecoder();
      const cut = Math.floor(frame.length / 2);
      const frames = [...d.push(frame.subarray(0, cut)), ...d.push(frame.subarray(cut))];
      assert.equal(frames.length, 1);
      assert.deepEqual([frames[0]?.fin, frames[0]?.opcode], [true, 2]);
      assert.ok(frames[0]?.payload.equals(payload), `length ${len}`);
    }
  });

  it('reads exit codes from channel-protocol statuses', () => {
    const cases: [string, number][] = [
      ['{"metadata":{},"status":"Success"}', 0],
      [
        '{"status":"Failure","message":"command terminated with non-zero exit code","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}',
        3,
      ],
      ['{"status":"Failure","message":"boom"}', 1],
      ['not json', 1],
    ];
    for (const [text, code] of cases) assert.equal(exitCodeFromStatus(text).code, code, text);
  });
});
