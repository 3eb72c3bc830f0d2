import { fileURLToPath } from 'node:url';
import { ensureLocalCa } from '@wi/local-azure';

const stateDir = fileURLToPath(new URL('../../.local-azure', import.meta.url));
const localhostPreload = fileURLToPath(
  new URL('../../packages/local-azure/preload/localhost-dns.cjs', import.meta.url),
);

/**
 * The test workers are forked after this runs, so the variables below reach them at process start,
 * which is the only time Node reads NODE_EXTRA_CA_CERTS: the same way `pnpm dev` starts the services.
 */
export default async function setup(): Promise<void> {
  const ca = await ensureLocalCa(stateDir);
  process.env.NODE_EXTRA_CA_CERTS = ca.caCertPath;
  process.env.LOCAL_AZURE_STATE_DIR = stateDir;
  // testcontainers' reaper container cannot be pulled offline; the tests stop what they start.
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  // Host networking throughout: no need for testcontainers to find the host's address (which it
  // does by pulling alpine).
  process.env.TESTCONTAINERS_HOST_OVERRIDE ??= 'localhost';
  const preload = `--require ${localhostPreload}`;
  if (!process.env.NODE_OPTIONS?.includes(preload)) {
    process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} ${preload}`.trim();
  }
}
