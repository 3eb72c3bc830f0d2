// The local cloud in its own process (so a test can run it on an accelerated clock), on free
// ports. Prints one JSON line per event: {"event":"ready","env":{service: variables}} once
// started, then the cloud's own events (token files written, token exchanges). SIGTERM stops it.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalCloud } from '@wi/local-azure';

/** argv[2]: {"services": [...], "cloud": LocalCloudOptions without stateDir, ports and log}. */
const { services, cloud: options } = JSON.parse(process.argv[2] ?? '{}');
const print = (event) => process.stdout.write(`${JSON.stringify(event)}\n`);

const cloud = await LocalCloud.start({
  stateDir: await mkdtemp(join(tmpdir(), 'local-azure-')),
  ports: { sts: 0, keyVault: 0, blob: 0, cosmos: 0, serviceBus: 0 },
  ...options,
  log: print,
});
const env = Object.fromEntries(services.map((service) => [service, cloud.env(service)]));
print({ event: 'ready', env });
process.once('SIGTERM', () => {
  void cloud.stop().then(() => process.exit(0));
});
