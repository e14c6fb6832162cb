// Test doubles of the client library, first-class code: a FakeClock driven by the test, a
// FakeClient over an in-memory ObjectTracker (resourceVersions, selectors, watch with
// history and 410 on compaction) that implements the same Client interface as the REST
// client, and reactors to inject faults.
export * from './fake-client.js';
export * from './fake-clock.js';
export * from './object-tracker.js';
