import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { identitiesWith, loadIdentities, startOrder } from '@wi/identities';
import { LocalCloud, type LocalCloudOptions } from '@wi/local-azure';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const identitiesFile = join(repoRoot, 'infra/identities.json');

/** The local cloud on free ports, in memory, trusting the CA the test runner trusts. */
export async function startLocalCloud(
  overrides: Partial<LocalCloudOptions> = {},
): Promise<LocalCloud> {
  return LocalCloud.start({
    stateDir: await mkdtemp(join(tmpdir(), 'local-azure-')),
    caDir: process.env.LOCAL_AZURE_STATE_DIR,
    identitiesFile,
    ports: { sts: 0, keyVault: 0, blob: 0, cosmos: 0, serviceBus: 0 },
    ...overrides,
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export interface RunningService {
  name: string;
  url: string;
  process: ChildProcess;
  output: string[];
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** The services `pnpm dev` starts: the workloads of the declaration (no optional feature's). */
export async function declaredServices(file = identitiesFile): Promise<string[]> {
  return identitiesWith(await loadIdentities(file)).identities.map((identity) => identity.service);
}

/**
 * Starts a built service (dist/main.js) as `pnpm dev` does: a child process with the webhook's env.
 * `name` is a service of the declaration; anything else is refused before a path is built from it.
 */
export async function startService(
  name: string,
  env: Record<string, string>,
): Promise<RunningService> {
  const services = await declaredServices();
  if (!services.includes(name)) {
    throw new Error(`'${name}' is not a service of infra/identities.json (${services.join(', ')})`);
  }
  const port = await freePort();
  const child = spawn(process.execPath, [join(repoRoot, `services/${name}/dist/main.js`)], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    process: child,
    output,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Polls until the URL answers 2xx, or fails with the last answer and the service's output. */
export async function waitForOk(
  url: string,
  service?: RunningService,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (service && service.process.exitCode !== null) {
      throw new Error(
        `${service.name} exited with ${service.process.exitCode}:\n${service.output.join('')}`,
      );
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
      if (response.ok) return;
      last = `${response.status} ${await response.text()}`;
    } catch (error) {
      last = String((error as Error & { cause?: { code?: string } }).cause?.code ?? error);
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  throw new Error(
    `${url} not ready after ${timeoutMs} ms: ${last}\n${service?.output.join('') ?? ''}`,
  );
}

export async function poll<T>(
  fn: () => Promise<T | undefined>,
  timeoutMs = 10_000,
  intervalMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export interface RunningStack {
  cloud: LocalCloud;
  /** Every service of the declaration, by name. */
  services: Record<string, RunningService>;
  backend: RunningService;
  frontend: RunningService;
  stop(): Promise<void>;
}

export interface StackOptions {
  /** Extra variables per service, by name. */
  env?: Record<string, Record<string, string>>;
  /** Shorthands for env.frontend and env.backend. */
  frontendEnv?: Record<string, string>;
  backendEnv?: Record<string, string>;
  /** Edits a copy of infra/identities.json: how a misconfiguration is set up, never in code. */
  identities?: (file: IdentitiesJson) => void;
  /** Runs after the local cloud started and before the services do (seed secrets, ...). */
  beforeServices?: (cloud: LocalCloud) => Promise<void>;
  /** Wait for /healthz/live only: a misconfigured service is alive but never ready. */
  expectNotReady?: boolean;
  /** How long each service gets to answer its probe (waitForOk's default: 30 s). */
  readyTimeoutMs?: number;
}

// The shape is validated by the local cloud when it loads the file.
export type IdentitiesJson = {
  identities: {
    service: string;
    federatedCredential: { issuer: string; subject: string; audiences: string[] };
    roleAssignments: { role: string; roleDefinitionId: string; scope: Record<string, string> }[];
  }[];
};

/** A copy of infra/identities.json changed by `edit`, in a temporary file. */
export async function editedIdentities(edit: (file: IdentitiesJson) => void): Promise<string> {
  const file = JSON.parse(await readFile(identitiesFile, 'utf8')) as IdentitiesJson & {
    $schema?: string;
  };
  delete file.$schema;
  edit(file);
  const path = join(await mkdtemp(join(tmpdir(), 'identities-')), 'identities.json');
  await writeFile(path, JSON.stringify(file, null, 2));
  return path;
}

/**
 * The local cloud and every service of the declaration, ready: what `pnpm dev` runs, on free
 * ports. Each service starts after the services it calls (startOrder), with <CALLEE>_URL set.
 */
export async function startStack(options: StackOptions = {}): Promise<RunningStack> {
  const cloud = await startLocalCloud(
    options.identities ? { identitiesFile: await editedIdentities(options.identities) } : {},
  );
  await options.beforeServices?.(cloud);
  const extra: Record<string, Record<string, string> | undefined> = {
    ...options.env,
    frontend: { ...options.env?.frontend, ...options.frontendEnv },
    backend: { ...options.env?.backend, ...options.backendEnv },
  };
  const services: Record<string, RunningService> = {};
  const stop = async () => {
    await Promise.all(Object.values(services).map((service) => service.stop()));
    await cloud.stop();
  };
  try {
    const probe = options.expectNotReady ? 'live' : 'ready';
    // The app's own wiring (which service calls which) is the real declaration's, also when a
    // test edits the copy the cloud enforces: a caller whose grant a test removed still calls.
    const wiring = identitiesWith(await loadIdentities(identitiesFile)).identities;
    const started = new Set(cloud.identities.identities.map((identity) => identity.service));
    for (const identity of startOrder(wiring).filter((i) => started.has(i.service))) {
      const urls = Object.fromEntries(
        (identity.calls ?? [])
          .filter((call) => services[call.service])
          .map((call) => [
            `${call.service.toUpperCase().replaceAll('-', '_')}_URL`,
            services[call.service]!.url,
          ]),
      );
      services[identity.service] = await startService(identity.service, {
        ...cloud.env(identity.service),
        ...urls,
        ...extra[identity.service],
      });
    }
    for (const service of Object.values(services)) {
      await waitForOk(`${service.url}/healthz/${probe}`, service, options.readyTimeoutMs);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { cloud, services, backend: services.backend!, frontend: services.frontend!, stop };
}
