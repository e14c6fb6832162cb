#!/usr/bin/env node
// `npm run build` (and `prepare`): what the `kts` command runs.
//   1. tsc -p tsconfig.build.json → DIST/ (the compiled modules, one per source file);
//   2. the non-TypeScript assets code loads at run time (gRPC .proto files) → DIST/, at the
//      same relative paths;
//   3. the esbuild bundle of the CLI → DIST/bundle/ (scripts/bundle.mjs), which bin/kts.js
//      prefers.
// Usage: node scripts/build.mjs [--outdir DIST] [--metafile FILE] [--allow-type-errors]
// DIST defaults to dist/. bench/startup.ts builds into a temporary DIST with this script;
// --allow-type-errors keeps going when tsc reports errors (it still emits), as a working tree
// with another change in progress may have.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { bundleCli } from './bundle.mjs';

const args = process.argv.slice(2);
const option = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const root = resolve(import.meta.dirname, '..');
const dist = resolve(option('--outdir') ?? join(root, 'dist'));
const metafile = option('--metafile');

const tsc = spawnSync(
  process.execPath,
  [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json', '--outDir', dist],
  { cwd: root, stdio: 'inherit' },
);
if (tsc.status !== 0 && !args.includes('--allow-type-errors')) process.exit(tsc.status ?? 1);

const src = join(root, 'src');
function copyAssets(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) copyAssets(p);
    else if (e.name.endsWith('.proto')) {
      const to = join(dist, relative(src, p));
      mkdirSync(dirname(to), { recursive: true });
      copyFileSync(p, to);
    }
  }
}
copyAssets(src);

await bundleCli({ root, outdir: join(dist, 'bundle'), ...(metafile !== undefined ? { metafile } : {}) });
