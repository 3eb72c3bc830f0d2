// docker-compose.yml: first, without Docker, that it hands each service exactly what `pnpm dev`
// does (LocalCloud.env, with the container paths) and runs it as k8s/base does; then, with
// Docker Compose, that `compose up` gives the same working app: an upload is processed.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { identitiesWith, loadIdentities } from '@wi/identities';
import { DEFAULT_PORTS, type LocalCloud } from '@wi/local-azure';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FrontendClient } from '../support/frontend-client.js';
import { freePort, repoRoot, startLocalCloud, waitForOk } from '../support/local-stack.js';
import {
  buildImagesOnce,
  CONTAINER_PATHS,
  containerEnv,
  image,
  requireCompose,
  requireDocker,
  skipComposeTests,
} from './support.js';

const run = promisify(execFile);

interface ComposeService {
  image: string;
  user?: string;
  read_only?: boolean;
  tmpfs?: string[];
  cap_drop?: string[];
  network_mode?: string;
  environment?: Record<string, string>;
  volumes?: string[];
  profiles?: string[];
}
const composeFile = parse(readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8'), {
  merge: true,
}) as { services: Record<string, ComposeService> };
const services = composeFile.services;
/** The services of the declaration that run as workloads: each has a block in the file. */
const declared = identitiesWith(
  await loadIdentities(join(repoRoot, 'infra', 'identities.json')),
).identities.map((identity) => identity.service);

/** LocalCloud.env on free ports, rewritten to the DEFAULT_PORTS the compose local cloud uses. */
function onDefaultPorts(cloud: LocalCloud, env: Record<string, string>): Record<string, string> {
  const actual: Record<keyof typeof DEFAULT_PORTS, string> = {
    sts: new URL(cloud.sts.authorityHost).port,
    keyVault: new URL(cloud.keyVault.vaultUrl).port,
    blob: new URL(cloud.blob.endpoint).port,
    cosmos: new URL(cloud.cosmos.endpoint).port,
    serviceBus: cloud.serviceBusNamespace.split(':')[1]!,
  };
  return Object.fromEntries(
    Object.entries(env).map(([key, value]) => [
      key,
      Object.entries(actual).reduce(
        (text, [name, port]) =>
          text.replace(
            new RegExp(`:${port}(?=/|$)`, 'g'),
            `:${DEFAULT_PORTS[name as keyof typeof DEFAULT_PORTS]}`,
          ),
        value,
      ),
    ]),
  );
}

describe('docker-compose.yml (static)', () => {
  let cloud: LocalCloud;
  beforeAll(async () => {
    cloud = await startLocalCloud();
  });
  afterAll(() => cloud?.stop());

  it('has a block for each service of the declaration, and the local cloud', () => {
    expect(Object.keys(services).sort()).toEqual(['local-cloud', ...declared].sort());
  });

  it.each(declared)('%s gets exactly the webhook variables and endpoints of `pnpm dev`', (name) => {
    const expected = onDefaultPorts(cloud, containerEnv(cloud, name));
    const env = services[name]!.environment!;
    for (const [key, value] of Object.entries(expected)) {
      expect({ [key]: env[key] }).toEqual({ [key]: value });
    }
    // As `pnpm dev` starts the frontend.
    if (name === 'frontend') {
      expect(env).toMatchObject({ BACKEND_URL: 'http://localhost:3001', COOKIE_SECURE: 'false' });
    }
  });

  it.each(declared)(
    '%s mounts only its own token volume, read-only at the AKS path, and runs as k8s/base does',
    (name) => {
      const service = services[name]!;
      expect(service.volumes).toEqual([
        `${name}-token:${CONTAINER_PATHS.tokenDir}:ro`,
        'local-azure-public:/etc/local-azure:ro',
      ]);
      for (const other of declared.filter((candidate) => candidate !== name)) {
        expect(service.volumes!.join()).not.toContain(`${other}-token`);
      }
      expect(services['local-cloud']!.volumes).toContain(
        `${name}-token:/var/lib/local-azure/tokens/${name}`,
      );
      expect(service).toMatchObject({
        user: '1000:1000',
        read_only: true,
        tmpfs: ['/tmp'],
        cap_drop: ['ALL'],
        network_mode: 'service:local-cloud',
      });
    },
  );

  it('names every image by an overridable variable', () => {
    for (const [name, service] of Object.entries(services)) {
      expect({ [name]: service.image }).toEqual({
        [name]: expect.stringMatching(/^\$\{[A-Z_]+_IMAGE:-[^}]+\}$/),
      });
    }
  });
});

describe.skipIf(skipComposeTests)('docker compose up (run with Docker Compose)', () => {
  let composeCli: string[];
  let project: string;
  let env: NodeJS.ProcessEnv;
  let frontendUrl: string;

  async function compose(...args: string[]) {
    const [command, ...prefix] = composeCli;
    return run(command!, [...prefix, '-p', project, ...args], {
      cwd: repoRoot,
      env,
      maxBuffer: 16 * 1024 * 1024,
    });
  }

  beforeAll(async () => {
    composeCli = requireCompose();
    await buildImagesOnce(requireDocker());
    project = `wi-containers-test-${process.pid}`;
    const frontendPort = await freePort();
    const backendPort = await freePort();
    env = {
      ...process.env,
      FRONTEND_PORT: String(frontendPort),
      BACKEND_PORT: String(backendPort),
      LOCAL_CLOUD_IMAGE: image('local-cloud'),
      BACKEND_IMAGE: image('backend'),
      FRONTEND_IMAGE: image('frontend'),
    };
    frontendUrl = `http://127.0.0.1:${frontendPort}`;
    try {
      await compose('up', '-d', '--no-build');
      await waitForOk(`http://127.0.0.1:${backendPort}/healthz/ready`);
      await waitForOk(`${frontendUrl}/healthz/ready`);
    } catch (error) {
      const logs = await compose('logs', '--no-color', '--tail', '40').catch(() => ({
        stdout: '',
      }));
      throw new Error(`${(error as Error).message}\n${logs.stdout}`);
    }
  }, 600_000);

  afterAll(async () => {
    if (project && composeCli) await compose('down', '--volumes', '--timeout', '45');
  }, 120_000);

  it('serves the app on the published port and processes an upload', async () => {
    const client = new FrontendClient(frontendUrl);
    const id = await client.uploadText('compose.txt', 'docker compose up\nsame app');
    const record = await client.processed(id);
    expect(record).toMatchObject({ id, fileName: 'compose.txt', lineCount: 2, wordCount: 5 });
  });

  it('stops every container cleanly within the grace period', async () => {
    const started = performance.now();
    await compose('stop', '--timeout', '45');
    const seconds = (performance.now() - started) / 1000;
    const { stdout } = await compose('ps', '-q');
    const ids = stdout.split('\n').filter(Boolean);
    const docker = requireDocker();
    const codes = await Promise.all(
      ids.map(async (id) =>
        (await run(docker.path, ['inspect', '--format', '{{.State.ExitCode}}', id])).stdout.trim(),
      ),
    );
    console.log(`compose stop: ${seconds.toFixed(1)} s, exit codes ${codes.join(', ')}`);
    expect(codes).toHaveLength(3);
    for (const code of codes) expect(['0', '143']).toContain(code);
    expect(seconds).toBeLessThan(45);
  });
});
