// Response content negotiation. kts serves JSON (and YAML on request); Table and
// PartialObjectMetadata are JSON transformations selected by media-type parameters, as
// kubectl (`as=Table`) and metadata informers (`as=PartialObjectMetadata`) ask for them.
// Protobuf is never served: a protobuf-only Accept gets 406 so clients fall back to JSON.
import { notAcceptable } from '../machinery/status-error.js';

/** The representation chosen for a response. */
export type Representation =
  | { kind: 'object'; mediaType: 'application/json' | 'application/yaml' }
  | { kind: 'table'; version: 'v1' | 'v1beta1' }
  | { kind: 'partial'; version: 'v1' | 'v1beta1' }
  | { kind: 'discovery'; version: 'v2' | 'v2beta1' };

interface MediaRange {
  type: string;
  params: Record<string, string>;
  q: number;
}

/** Parses an Accept header into media ranges in preference order (q, then position). */
export function parseAccept(header: string | undefined): MediaRange[] {
  if (!header) return [{ type: '*/*', params: {}, q: 1 }];
  const out: Array<MediaRange & { i: number }> = [];
  header.split(',').forEach((part, i) => {
    const [type, ...ps] = part.split(';').map((s) => s.trim());
    if (!type) return;
    const params: Record<string, string> = {};
    let q = 1;
    for (const p of ps) {
      const eq = p.indexOf('=');
      if (eq < 0) continue;
      const k = p.slice(0, eq).trim().toLowerCase();
      const v = p
        .slice(eq + 1)
        .trim()
        .replace(/^"|"$/g, '');
      if (k === 'q') q = Number.parseFloat(v);
      else params[k] = v;
    }
    out.push({ type: type.toLowerCase(), params, q: Number.isFinite(q) ? q : 0, i });
  });
  out.sort((a, b) => b.q - a.q || a.i - b.i);
  return out.filter((m) => m.q > 0);
}

const SERVED = ['application/json', 'application/yaml', 'application/json;as=Table;v=v1;g=meta.k8s.io'];

/** What a resource endpoint can answer with. */
export interface NegotiationOptions {
  /** Table output is available (every resource read in kts has a table printer). */
  table: boolean;
  /** PartialObjectMetadata(List) is available. */
  partial: boolean;
  /** Aggregated discovery is available (only on /api and /apis). */
  discovery?: boolean;
}

/** Picks the representation for an Accept header; throws 406 when nothing fits. */
export function negotiate(accept: string | undefined, opts: NegotiationOptions): Representation {
  for (const m of parseAccept(accept)) {
    const as = m.params.as;
    const g = m.params.g;
    const v = m.params.v;
    if (m.type === 'application/json' || m.type === 'application/*' || m.type === '*/*') {
      if (as === undefined) return { kind: 'object', mediaType: 'application/json' };
      if (as === 'Table' && g === 'meta.k8s.io' && (v === 'v1' || v === 'v1beta1') && opts.table) {
        return { kind: 'table', version: v };
      }
      if (
        (as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') &&
        g === 'meta.k8s.io' &&
        (v === 'v1' || v === 'v1beta1') &&
        opts.partial
      ) {
        return { kind: 'partial', version: v };
      }
      if (
        as === 'APIGroupDiscoveryList' &&
        g === 'apidiscovery.k8s.io' &&
        (v === 'v2' || v === 'v2beta1') &&
        opts.discovery
      ) {
        return { kind: 'discovery', version: v };
      }
      continue;
    }
    if (m.type === 'application/yaml' && as === undefined)
      return { kind: 'object', mediaType: 'application/yaml' };
  }
  throw notAcceptable(SERVED);
}
