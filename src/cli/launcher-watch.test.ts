import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { stopWithNpmLauncher } from './launcher-watch.js';

describe('stopWithNpmLauncher', () => {
  it('does nothing unless npm launched the process', () => {
    let gone = false;
    const stop = stopWithNpmLauncher({}, () => {
      gone = true;
    });
    stop();
    assert.equal(gone, false);
  });

  it('stops a process launched by npm once its parent (the shell under npm) is gone', async () => {
    // sh starts node in the background and exits once node is up: node loses its parent.
    const script = `
      import { stopWithNpmLauncher } from ${JSON.stringify(new URL('./launcher-watch.ts', import.meta.url).href)};
      stopWithNpmLauncher(process.env, () => { process.stdout.write('stopped\\n'); process.exit(0); });
      setTimeout(() => { process.stdout.write('still running\\n'); process.exit(1); }, 5000);
    `;
    const sh = spawn(
      '/bin/sh',
      ['-c', `"${process.execPath}" --import tsx --input-type=module -e "$0" & sleep 2`, script],
      { env: { ...process.env, npm_command: 'exec' }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    sh.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    await new Promise((r) => sh.stdout.once('close', r));
    assert.equal(out.trim(), 'stopped');
  });
});
