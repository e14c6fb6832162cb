// Work queues for controllers (client-go util/workqueue): a fair, deduplicating queue that
// never hands one item to two workers at once (queue.ts states the full contract), a
// delaying queue for `addAfter`, and a rate-limiting queue whose retries back off per item
// and overall. Time comes from an injected Clock.
export * from './delaying-queue.js';
export * from './queue.js';
export * from './rate-limiter.js';
export * from './rate-limiting-queue.js';
