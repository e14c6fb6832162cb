#!/usr/bin/env node
// Copies non-TypeScript assets that code loads at run time (e.g. gRPC .proto files) from
// src/ into dist/ after `tsc`, keeping their relative paths.
import { copyFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const ASSET_EXT = ['.proto'];

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (ASSET_EXT.some((e) => name.endsWith(e))) {
      const out = join('dist', relative('src', p));
      mkdirSync(dirname(out), { recursive: true });
      copyFileSync(p, out);
    }
  }
}
walk('src');
