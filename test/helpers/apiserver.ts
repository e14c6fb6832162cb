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

/**
 * Starts a server; `datastore` defaults to sqlite in the temp dir. Without a controller
 * manager nothing creates namespaces' `default` ServiceAccount, which the ServiceAccount
 * admission plugin requires for pods, so the harness creates it in `default` as the
 * serviceaccount controller would (`namespaces` lists more namespaces to prepare).
 */
export async function startTestApiServer(
  datastore?: string,
  namespaces: string[] = ['default'],
): Promise<TestApiServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kts-apiserver-'));
  const server = await startApiServer({
    dataDir,
    httpsPort: 0,
    bindAddress: '127.0.0.1',
    ...(datastore ? { datastoreEndpoint: datastore } : {}),
  });
  const sas = server.stores.byName('', 'serviceaccounts');
  for (const ns of namespaces) {
    await sas.create(
      ns,
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } },
      {
        dryRun: false,
        fieldManager: 'test-harness',
        subresource: '',
        warnings: [],
      },
    );
  }
  return {
    server,
    dataDir,
    async stop() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
