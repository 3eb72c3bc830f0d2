#!/usr/bin/env node
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { LocalCloud } from './local-cloud.js';

const usage = `Usage: local-azure start [--state-dir DIR] [--identities FILE] [--verbose]
                         [--service-account-token-lifetime SECONDS] [--access-token-lifetime SECONDS]

Starts the local cloud (OIDC issuer, Entra token endpoint, Key Vault, Blob, Cosmos DB, Service Bus)
and writes, per service in the identities file, DIR/env/<service>.env with the variables the AKS
workload identity webhook would inject plus the endpoints. Run a service against it with
  (set -a; . .local-azure/env/<service>.env; exec node <your service entry>.js)
(sourcing rather than node --env-file, which never overrides a variable already set, such as a
NODE_EXTRA_CA_CERTS your machine exports).
Token lifetimes default to an hour, as on AKS; shorten them to watch the token files rotate at
80 % of their lifetime and the services pick the new token up.
Ctrl-C stops it.`;

function seconds(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) {
    console.error(`local-azure: --${flag} must be a whole number of seconds, not '${value}'`);
    process.exit(64);
  }
  return parsed;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      'state-dir': { type: 'string', default: '.local-azure' },
      identities: { type: 'string', default: 'infra/identities.json' },
      verbose: { type: 'boolean', default: false },
      'service-account-token-lifetime': { type: 'string' },
      'access-token-lifetime': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || positionals[0] !== 'start') {
    console.log(usage);
    process.exit(values.help ? 0 : 64);
  }
  const stateDir = resolve(values['state-dir']);
  // Ctrl-C during start-up stops whatever has started, rather than killing the process mid-way.
  const state: { cloud?: LocalCloud; stopping: boolean } = { stopping: false };
  const stop = async () => {
    state.stopping = true;
    if (!state.cloud) return; // still starting: stopped right after start returns
    await state.cloud.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  const cloud = await LocalCloud.start({
    stateDir,
    identitiesFile: resolve(values.identities),
    persist: true,
    serviceAccountTokenLifetimeSeconds: seconds(
      'service-account-token-lifetime',
      values['service-account-token-lifetime'],
    ),
    accessTokenLifetimeSeconds: seconds('access-token-lifetime', values['access-token-lifetime']),
    log: values.verbose ? (event) => console.log(JSON.stringify(event)) : undefined,
  });
  state.cloud = cloud;
  if (state.stopping) {
    await cloud.stop();
    process.exit(0);
  }
  for (const file of await cloud.writeEnvFiles(join(stateDir, 'env'))) console.log(file);
  console.log(
    `local cloud ready; issuer ${cloud.sts.issuerUrl}, authority ${cloud.sts.authorityHost} (Ctrl-C stops)`,
  );
}

main().catch((error: unknown) => {
  console.error(`local-azure: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
