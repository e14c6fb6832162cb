// Client-side caches of API objects (client-go tools/cache): the reflector mirrors a
// resource by list + watch; the shared informer keeps it in an indexed store and tells
// handlers about changes; the factory shares one informer per resource; listers read the
// cache. Cached objects are shared, never copied: consumers treat them as read-only.
export * from './indexer.js';
export * from './informer-factory.js';
export * from './listers.js';
export * from './reflector.js';
export * from './shared-informer.js';
export * from './store.js';
