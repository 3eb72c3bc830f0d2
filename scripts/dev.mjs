#!/usr/bin/env node
// `pnpm dev`: the whole system on this machine. Starts the local cloud (OIDC issuer, token
// endpoint, Key Vault, Blob, Cosmos DB, Service Bus) in this process, then every service of the
// declaration (infra/identities.json) as a child process with exactly the variables the AKS
// webhook would inject. Ctrl-C stops everything.
//
// Service N of the declaration listens on 3000 + N (override with <SERVICE>_PORT); a service gets
// <CALLEE>_URL for each service whose API it calls, and starts after it. The local cloud listens on
// its fixed ports (what .local-azure/env and the docs name), or on free ones with
// LOCAL_AZURE_FREE_PORTS=true (a second stack beside the first, as the generator's test runs).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startOrder } from '@wi/identities';
import { LocalCloud } from '@wi/local-azure';

const root = fileURLToPath(new URL('..', import.meta.url));
const started = performance.now();
const verbose = process.env.LOG_LEVEL === 'debug';

const children = new Map();
let stopping = false;

function step(text) {
  console.log(`\u001b[36m▸\u001b[0m ${text}`);
}

/** Prints a service's JSON log line compactly; the JSON stays available with LOG_FORMAT=json. */
function printLine(name, line) {
  if (process.env.LOG_FORMAT === 'json') return console.log(`${name} ${line}`);
  try {
    const entry = JSON.parse(line);
    const level =
      { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' }[entry.level] ??
      entry.level;
    // Request lines and Nest's route table are in the JSON output (LOG_FORMAT=json) when you need them.
    if (
      !verbose &&
      (entry.req || ['RoutesResolver', 'RouterExplorer', 'NestApplication'].includes(entry.context))
    )
      return;
    const extra = ['documentId', 'outcome', 'deliveryCount', 'durationMs', 'err']
      .filter((key) => entry[key] !== undefined)
      .map(
        (key) =>
          `${key}=${typeof entry[key] === 'object' ? JSON.stringify(entry[key].message ?? entry[key]) : entry[key]}`,
      )
      .join(' ');
    console.log(
      `${name.padEnd(9)} ${String(level).padEnd(5)} ${entry.msg ?? ''} ${extra}`.trimEnd(),
    );
  } catch {
    console.log(`${name.padEnd(9)} ${line}`);
  }
}

function startService(name, port, env) {
  const child = spawn(process.execPath, [`services/${name}/dist/main.js`], {
    cwd: root,
    env: { ...process.env, ...env, PORT: String(port), NODE_ENV: 'development' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.set(name, child);
  createInterface({ input: child.stdout }).on('line', (line) => printLine(name, line));
  createInterface({ input: child.stderr }).on('line', (line) => printLine(name, line));
  child.on('exit', (code, signal) => {
    children.delete(name);
    if (!stopping) {
      console.error(`${name} exited (${signal ?? code}); stopping everything.`);
      void shutdown(1);
    }
  });
  return child;
}

// A minute: a service loads telemetry, the SDKs and Nest, then probes each resource; on a busy
// two-core machine with three services starting at once that has taken more than 30 s.
async function waitUntilReady(name, url, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (stopping) return;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
      if (response.ok) return;
      last = `${response.status} ${await response.text()}`;
    } catch (error) {
      last = error.cause?.code ?? error.message;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${name} was not ready after ${timeoutMs / 1000} s: ${last}`);
}

let cloud;
async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  step('stopping…');
  const exits = [...children.values()].map(
    (child) =>
      new Promise((resolve) => {
        child.once('exit', resolve);
        child.kill('SIGTERM');
      }),
  );
  const forced = setTimeout(() => children.forEach((child) => child.kill('SIGKILL')), 30_000);
  await Promise.all(exits);
  clearTimeout(forced);
  await cloud?.stop();
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));
// Last resort if this process dies another way: never leave a service running.
process.on('exit', () => children.forEach((child) => child.kill('SIGKILL')));

try {
  step(
    'starting the local cloud (issuer, token endpoint, Key Vault, Blob, Cosmos DB, Service Bus)…',
  );
  cloud = await LocalCloud.start({
    stateDir: `${root}.local-azure`,
    identitiesFile: `${root}infra/identities.json`,
    persist: true,
    ...(process.env.LOCAL_AZURE_FREE_PORTS === 'true'
      ? { ports: { sts: 0, keyVault: 0, blob: 0, cosmos: 0, serviceBus: 0 } }
      : {}),
    log: (event) => verbose && console.log(`local-azure ${JSON.stringify(event)}`),
  });
  // What a workload in another language sources to run as a service (docs/other-languages.md).
  await cloud.writeEnvFiles(`${root}.local-azure/env`);
  const cloudSeconds = ((performance.now() - started) / 1000).toFixed(1);
  step(`local cloud ready in ${cloudSeconds} s; tokens: ${cloud.sts.issuerUrl}`);

  const services = startOrder(cloud.identities.identities);
  step(
    `starting ${services.map((s) => s.service).join(', ')} with the workload identity variables…`,
  );
  const port = (name) =>
    Number(
      process.env[`${envName(name)}_PORT`] ??
        3000 + cloud.identities.identities.findIndex((s) => s.service === name),
    );
  for (const identity of services) {
    startService(identity.service, port(identity.service), {
      ...cloud.env(identity.service),
      ...Object.fromEntries(
        (identity.calls ?? []).map((call) => [
          `${envName(call.service)}_URL`,
          `http://localhost:${port(call.service)}`,
        ]),
      ),
      // Pages are served over plain http://localhost here, where Safari drops Secure cookies.
      COOKIE_SECURE: 'false',
    });
  }
  await Promise.all(
    services.map((s) =>
      waitUntilReady(s.service, `http://localhost:${port(s.service)}/healthz/ready`),
    ),
  );
  // What a person opens: the services no other service calls (the frontend).
  const called = new Set(services.flatMap((s) => (s.calls ?? []).map((call) => call.service)));
  const entry = services
    .filter((s) => !called.has(s.service))
    .map((s) => `http://localhost:${port(s.service)}`);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `\n  \u001b[32mReady in ${seconds} s.\u001b[0m Open \u001b[1m${entry.join(' ')}\u001b[0m   (Ctrl-C stops everything)\n`,
  );
} catch (error) {
  console.error(`\n${error.message}`);
  await shutdown(1);
}

/** FRONTEND for frontend, REPORT_WORKER for report-worker: the prefix of its variables. */
function envName(service) {
  return service.toUpperCase().replaceAll('-', '_');
}
