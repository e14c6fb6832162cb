// The default data dir: /var/lib/kts for root (a system service), ~/.kts otherwise.
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where `kts server` and `kts kubectl` keep state when no --data-dir is given. */
export function defaultDataDir(): string {
  return process.getuid?.() === 0 ? '/var/lib/kts' : join(homedir(), '.kts');
}
