// GET of one object, and LIST (which turns into WATCH with `watch=true`).
import { writeText } from '../http.js';
import { negotiate } from '../negotiation.js';
import type { IncludeObject } from '../printers/index.js';
import { parseListQuery } from '../registry/list-options.js';
import { renderList, renderObject } from './render.js';
import type { Scope } from './scope.js';
import { serveWatch } from './watch.js';

function includeObject(s: Scope): IncludeObject {
  const v = s.url.searchParams.get('includeObject');
  return v === 'None' || v === 'Object' ? v : 'Metadata';
}

function send(s: Scope, body: string): void {
  s.res.statusCode = 200;
  s.res.setHeader('Content-Type', 'application/json');
  s.res.end(body);
}

/** GET /…/<resource>/<name>[/status] */
export async function handleGet(s: Scope): Promise<void> {
  const rep = negotiate(s.req.headers.accept as string | undefined, { table: true, partial: true });
  const obj = await s.store.get(s.info.namespace, s.info.name);
  if (rep.kind === 'object' && rep.mediaType === 'application/yaml') {
    const { encodeYAMLValue } = await import('../yaml-output.js');
    s.res.statusCode = 200;
    s.res.setHeader('Content-Type', 'application/yaml');
    s.res.end(encodeYAMLValue(JSON.parse(renderObject(obj, s.resource, rep, includeObject(s), s.now))));
    return;
  }
  send(s, renderObject(obj, s.resource, rep, includeObject(s), s.now));
}

/** GET /…/<resource> (list or watch) */
export async function handleList(s: Scope): Promise<void> {
  const rep = negotiate(s.req.headers.accept as string | undefined, { table: true, partial: true });
  const q = parseListQuery(s.url.searchParams, s.info.verb === 'watch');
  if (q.watch) {
    await serveWatch(s.store, {
      namespace: s.info.namespace,
      query: q,
      rep,
      includeObject: includeObject(s),
      res: s.res,
      signal: s.signal,
      now: () => new Date(),
    });
    return;
  }
  const page = await s.store.list(s.info.namespace, q);
  if (rep.kind === 'object' && rep.mediaType === 'application/yaml') {
    const { encodeYAMLValue } = await import('../yaml-output.js');
    writeText(
      s.res,
      200,
      encodeYAMLValue(JSON.parse(renderList(page, s.resource, rep, includeObject(s), s.now))),
    );
    return;
  }
  send(s, renderList(page, s.resource, rep, includeObject(s), s.now));
}
