#!/usr/bin/env node
// Entry point of the `kts` command: runs the bundled CLI (dist/bundle/main.js, a few chunks
// that load far faster than the ~440 modules of dist/cli/) when it was built, else the
// compiled modules in dist/. `npm run build` makes both; `npm install` runs it through the
// `prepare` script.
import { existsSync } from 'node:fs';

const bundle = new URL('../dist/bundle/main.js', import.meta.url);
const entry = existsSync(bundle) ? bundle.href : '../dist/cli/main.js';
import(entry).catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/main.js')) {
    console.error('kts: not built yet; run `npm install` (or `npm run build`) in the kts folder first');
    process.exit(1);
  }
  throw err;
});
