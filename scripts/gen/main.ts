// `npm run gen`: runs every generator (`scripts/gen/*.gen.ts`) in name order and writes the
// files they return. Output must be deterministic: running it twice changes nothing.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type GeneratedFile, type Generator, makeContext } from './context.js';

const ctx = makeContext();
const here = join(ctx.root, 'scripts', 'gen');
const modules = readdirSync(here)
  .filter((f) => f.endsWith('.gen.ts'))
  .sort();

let written = 0;
let unchanged = 0;
for (const m of modules) {
  const mod = (await import(pathToFileURL(join(here, m)).href)) as { generate?: Generator };
  if (typeof mod.generate !== 'function') throw new Error(`${m} does not export generate()`);
  const files: GeneratedFile[] = mod.generate(ctx);
  for (const f of files) {
    const abs = join(ctx.root, f.path);
    let old: string | undefined;
    try {
      old = readFileSync(abs, 'utf8');
    } catch {
      old = undefined;
    }
    if (old === f.content) {
      unchanged++;
      continue;
    }
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, f.content);
    written++;
  }
}
process.stdout.write(`gen: ${modules.length} generators, ${written} files written, ${unchanged} unchanged\n`);
