// kube-proxy for kts. Contract: the proxier consumes Service and EndpointSlice events (from
// informers) and keeps the node's data plane equal to them. The nftables mode (default where
// nft works) writes only the `ip kts-proxy` table, in one `nft -f` transaction per sync, and
// cleanup deletes exactly that table. The iptables mode writes only
// chains named KTS-*, reached by jump rules it inserts once into the built-in chains, in
// batched iptables-restore --noflush transactions (full or partial), and removes exactly
// those on cleanup; masquerade uses mark bit 13 (0x2000) unless told otherwise. The userspace
// mode relays TCP/UDP through sockets where iptables is unavailable. IPv4 only.

export {
  cleanupKts,
  detectBackend,
  ExecIptables,
  type ExecIptablesOptions,
  type Iptables,
  type IptablesBackend,
  IptablesError,
  readKernelState,
} from './iptables.js';
export {
  assembleTables,
  DEFAULT_MASQUERADE_BIT,
  JUMP_RULES,
  KTS_CHAIN_PREFIX,
  masqueradeMark,
  type RuleConfig,
  renderRestore,
  servicePortRules,
  type Tables,
} from './iptables-rules.js';
export {
  categorizeEndpoints,
  chainHash,
  type EndpointInfo,
  endpointsForServicePort,
  ProxyState,
  type ServicePortInfo,
  servicePortsFromService,
} from './model.js';
export {
  cleanupNftables,
  ExecNft,
  type ExecNftOptions,
  type Nft,
  NftablesEngine,
  nftAvailable,
} from './nftables.js';
export {
  NFT_HAIRPIN_SET,
  NFT_TABLE,
  type NftRefs,
  type NftServicePortRules,
  nftServicePortRules,
  renderNftFull,
  renderNftPartial,
} from './nftables-rules.js';
export {
  type EngineSyncResult,
  IptablesEngine,
  Proxier,
  type ProxierOptions,
  type ProxyView,
  ruleConfig,
  type SyncEngine,
  type SyncResult,
} from './proxier.js';
export { UserspaceProxier, type UserspaceProxierOptions } from './userspace/proxier.js';
