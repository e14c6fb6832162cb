// The bundle step of `npm run build` (scripts/build.mjs): src/cli/main.ts through esbuild into
// DIST/bundle/, one ES module entry plus chunks, so `kts` loads a few dozen files instead of
// ~440 modules one by one (Node's ESM loader pays per module for resolution, reads and
// linking; see docs/ARCHITECTURE.md, "Bundled build"). `splitting` keeps every dynamic
// import() a chunk of its own that loads only when reached, as in dist/: a command's code
// loads only when it runs, and an agent never loads the control plane.
//
// Packages stay external when they are native (better-sqlite3) or heavy and loaded lazily on
// some paths only (etcd3 and gRPC for an etcd datastore, proto-loader for the cri runtime);
// Node resolves them from the node_modules beside dist/, as for dist/cli/. Assets code reads
// beside itself at run time (the CRI .proto, via import.meta.url) are copied next to the chunks.
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';

/** Packages never bundled (see the header). */
export const EXTERNAL = ['better-sqlite3', 'etcd3', '@grpc/grpc-js', '@grpc/proto-loader'];

// Bundled CommonJS packages (yaml) call require() for Node's built-in modules, which an ES
// module does not have.
const REQUIRE_SHIM =
  "import { createRequire as __ktsCreateRequire } from 'node:module';\n" +
  'const require = __ktsCreateRequire(import.meta.url);';

/**
 * `text` with every non-ASCII UTF-16 unit written as a \uXXXX escape. esbuild's ascii
 * charset leaves regular expression literals alone (a `µ` in a duration pattern made V8
 * hold the 1 MB API server chunk as two-byte text); the escape means the same in string,
 * template and regular expression literals, the only places the sources have them.
 */
function asciiOnly(text) {
  return text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Copies every .proto under `srcDir` into each of `dirs`. */
function copyProtos(srcDir, dirs) {
  for (const e of readdirSync(srcDir, { withFileTypes: true })) {
    const p = join(srcDir, e.name);
    if (e.isDirectory()) copyProtos(p, dirs);
    else if (e.name.endsWith('.proto')) {
      for (const to of dirs) {
        mkdirSync(to, { recursive: true });
        copyFileSync(p, join(to, e.name));
      }
    }
  }
}

/**
 * Bundles `root`/src/cli/main.ts into `outdir` (emptied first) as `main.js` and
 * `chunks/*.js`; `metafile`, when given, receives esbuild's account of what went where.
 */
export async function bundleCli({ root, outdir, metafile }) {
  rmSync(outdir, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: { main: join(root, 'src', 'cli', 'main.ts') },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: EXTERNAL,
    banner: { js: REQUIRE_SHIM },
    chunkNames: 'chunks/[name]-[hash]',
    // V8 keeps every loaded module's source text in the heap (it compiles functions lazily),
    // as one-byte Latin-1 only when all of it is: whitespace and comments go (one '…' in a
    // comment doubled the kubelet chunk's 200 KB), names stay, so stack traces still name
    // functions; `node --enable-source-maps` maps them to the TypeScript sources.
    minifyWhitespace: true,
    minifySyntax: true,
    charset: 'ascii',
    write: false,
    sourcemap: 'linked',
    sourcesContent: false,
    legalComments: 'none',
    metafile: metafile !== undefined,
    logLevel: 'warning',
  });
  for (const f of result.outputFiles) {
    mkdirSync(dirname(f.path), { recursive: true });
    writeFileSync(f.path, f.path.endsWith('.js') ? asciiOnly(f.text) : f.contents);
  }
  if (metafile !== undefined) writeFileSync(metafile, JSON.stringify(result.metafile));
  // import.meta.url of bundled code is its chunk's URL.
  copyProtos(join(root, 'src'), [outdir, join(outdir, 'chunks')]);
}
