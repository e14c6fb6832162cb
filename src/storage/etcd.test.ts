import { after, before } from 'node:test';
import { runStorageConformance } from './conformance.js';
import { EtcdStorage } from './etcd.js';
import { type EtcdProcess, startEtcd } from './etcd-server.js';

let etcd: EtcdProcess | undefined;
before(async () => {
  etcd = await startEtcd();
});
after(async () => {
  await etcd?.stop();
});

runStorageConformance({
  name: 'etcd',
  open: async () => new EtcdStorage({ endpoints: [etcd!.clientUrl] }),
  settleMs: 300,
});
