// Starts an in-process API server on a free loopback port with its own temp data dir, and
// removes everything it created when stopped.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ApiServer, startApiServer } from '../../src/apiserver/server.js';

/** A test API server and where it keeps its files. */
export interface TestApiServer {
  server: ApiServer;
  dataDir: string;
  stop(): Promise<void>;
}

/** Starts a server; `datastore` defaults to sqlite in the temp dir. */
export async function startTestApiServer(datastore?: string): Promise<TestApiServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kts-apiserver-'));
  const server = await startApiServer({
    dataDir,
    httpsPort: 0,
    bindAddress: '127.0.0.1',
    ...(datastore ? { datastoreEndpoint: datastore } : {}),
  });
  return {
    server,
    dataDir,
    async stop() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
