#!/usr/bin/env node
// Entry point of the `kts` command: runs the compiled CLI from dist/ (built by `npm run build`,
// which `npm install` runs through the `prepare` script).
import('../dist/cli/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/main.js')) {
    console.error('kts: not built yet; run `npm install` (or `npm run build`) in the kts folder first');
    process.exit(1);
  }
  throw err;
});
