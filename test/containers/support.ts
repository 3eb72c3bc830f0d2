import { execFile, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { LocalCloud } from '@wi/local-azure';
import { GenericContainer, type StartedTestContainer, Wait } from 'testcontainers';
import { freePort, repoRoot } from '../support/local-stack.js';

const run = promisify(execFile);

export interface DockerCli {
  /** A docker CLI that can build with BuildKit (buildx, or the built-in builder of Docker < 23). */
  path: string;
  serverVersion: string;
}

function output(cli: string, args: string[]): string | undefined {
  const result = spawnSync(cli, args, { encoding: 'utf8', timeout: 20_000 });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

/** The first docker CLI that reaches a daemon and can build with BuildKit, if any. */
function findDocker(): DockerCli | undefined {
  const candidates = [process.env.DOCKER, 'docker', '/usr/bin/docker'].filter(
    (cli): cli is string => !!cli,
  );
  for (const path of new Set(candidates)) {
    const serverVersion = output(path, ['version', '--format', '{{.Server.Version}}']);
    if (!serverVersion) continue;
    const clientMajor = Number(
      output(path, ['version', '--format', '{{.Client.Version}}'])?.split('.')[0],
    );
    if (output(path, ['buildx', 'version']) !== undefined || clientMajor < 23) {
      return { path, serverVersion };
    }
  }
  return undefined;
}

export const docker = findDocker();

/**
 * Container tests skip where there is no Docker, and say so in the summary; in CI a missing
 * Docker is a failure, never a skip (.ci/run bootstraps `docker`).
 */
export const skipContainerTests = !docker && process.env.CI !== 'true';

export function requireDocker(): DockerCli {
  if (!docker) {
    throw new Error(
      'No usable Docker: need a daemon and a CLI that builds with BuildKit (docker buildx, or ' +
        'DOCKER=/usr/bin/docker for a pre-23 client). CI must bootstrap `docker`.',
    );
  }
  // testcontainers' settings (no reaper, host networking) are in test/support/global-setup.ts.
  return docker;
}

export const IMAGE_TAG = 'containers-test';
export const image = (name: 'frontend' | 'backend' | 'local-cloud') =>
  `doc-intake-${name}:${IMAGE_TAG}`;

/** Builds images with scripts/docker-build.sh, the one place that knows the build flags. */
export async function buildImages(
  cli: DockerCli,
  names: ('frontend' | 'backend' | 'local-cloud')[],
): Promise<void> {
  try {
    await run('bash', [join(repoRoot, 'scripts/docker-build.sh'), ...names], {
      cwd: repoRoot,
      env: { ...process.env, DOCKER: cli.path, IMAGE_TAG },
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`image build failed:\n${`${stdout}\n${stderr}`.slice(-6000)}`);
  }
}

const ALL_IMAGES = ['backend', 'frontend', 'local-cloud'] as const;

/**
 * Builds all three images once per test run, whichever test file asks first: the files run in
 * separate workers of one Vitest process, so a directory created atomically next to that
 * process's id elects the builder, and the others wait for its result.
 */
/** Removes the markers of earlier runs whose Vitest process is gone. */
function removeStaleBuildMarkers(): void {
  for (const name of readdirSync(tmpdir())) {
    const pid = Number(/^wi-container-images-(\d+)-/.exec(name)?.[1]);
    if (!pid || pid === process.ppid) continue;
    try {
      process.kill(pid, 0);
    } catch {
      rmSync(join(tmpdir(), name), { recursive: true, force: true });
    }
  }
}

export async function buildImagesOnce(cli: DockerCli): Promise<void> {
  // The Vitest process's id, and on Linux its start time, so a reused pid never finds an old result.
  let started = '';
  try {
    started = readFileSync(`/proc/${process.ppid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]!;
  } catch {
    // not Linux: the pid alone (markers of finished runs are removed below)
  }
  const dir = join(tmpdir(), `wi-container-images-${process.ppid}-${started}`);
  const result = join(dir, 'result.json');
  try {
    await mkdir(dir);
    removeStaleBuildMarkers();
  } catch {
    const deadline = Date.now() + 600_000;
    for (;;) {
      const text = await readFile(result, 'utf8').catch(() => undefined);
      if (text) {
        const { error } = JSON.parse(text) as { error?: string };
        if (error) throw new Error(error);
        return;
      }
      if (Date.now() > deadline) throw new Error('timed out waiting for the image build');
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  const begun = performance.now();
  try {
    await buildImages(cli, [...ALL_IMAGES]);
    await writeFile(result, JSON.stringify({}));
    console.log(`images built in ${((performance.now() - begun) / 1000).toFixed(1)} s`);
  } catch (error) {
    await writeFile(result, JSON.stringify({ error: (error as Error).message }));
    throw error;
  }
}

export async function docker$(cli: DockerCli, ...args: string[]): Promise<string> {
  const { stdout } = await run(cli.path, args, { maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim();
}

/** testcontainers has no switch for a read-only root filesystem; the HostConfig has. */
class ServiceContainer extends GenericContainer {
  withReadOnlyRootFilesystem(): this {
    this.hostConfig.ReadonlyRootfs = true;
    return this;
  }

  /** A cgroup memory limit with no swap beyond it, as a pod's resources.limits.memory. */
  withMemoryLimit(bytes: number | undefined): this {
    if (bytes) {
      this.hostConfig.Memory = bytes;
      this.hostConfig.MemorySwap = bytes;
    }
    return this;
  }
}

export interface StartedService {
  name: 'frontend' | 'backend';
  container: StartedTestContainer;
  url: string;
  logs: string[];
  /** ms from `docker start` until /healthz/ready answered 200 */
  readyAfterMs?: number;
}

/** Where the container finds what the host's local cloud hands a service (as in k8s/overlays/local). */
export const CONTAINER_PATHS = {
  tokenDir: '/var/run/secrets/azure/tokens',
  caFile: '/etc/local-azure/ca.pem',
  preload: '/etc/local-azure/localhost-dns.cjs',
} as const;

/**
 * The webhook's variables and the endpoints, exactly as `pnpm dev` hands them to the service
 * (LocalCloud.env), with the three host paths replaced by where the container mounts them.
 */
export function containerEnv(cloud: LocalCloud, service: string): Record<string, string> {
  // The trust variables of other runtimes (SSL_CERT_FILE, REQUESTS_CA_BUNDLE) name a bundle on the
  // host; the images run Node alone, which trusts the local CA through NODE_EXTRA_CA_CERTS.
  const { SSL_CERT_FILE: _openssl, REQUESTS_CA_BUNDLE: _python, ...env } = cloud.env(service);
  return {
    ...env,
    AZURE_FEDERATED_TOKEN_FILE: `${CONTAINER_PATHS.tokenDir}/azure-identity-token`,
    NODE_EXTRA_CA_CERTS: CONTAINER_PATHS.caFile,
    NODE_OPTIONS: `--require ${CONTAINER_PATHS.preload}`,
  };
}

/**
 * Runs a service image against the local cloud running in this (host) process. Host networking:
 * the container's localhost is the host's, so every URL of LocalCloud.env (https://localhost:PORT,
 * https://kv-intake.vault.localhost:PORT through the preload) and the certificate names stay as
 * they are. Read-only root filesystem, tmpfs on /tmp, as k8s/base runs the pods.
 */
export async function startServiceContainer(
  cloud: LocalCloud,
  name: 'frontend' | 'backend',
  extraEnv: Record<string, string> = {},
  options: { memoryLimitBytes?: number } = {},
): Promise<StartedService> {
  const port = await freePort();
  const tokenFile = cloud.sts.tokenFilePath(name);
  // The local cloud (the kubelet's stand-in) writes the token 0600 as the user running the
  // tests; the container runs as uid 1000, as on AKS where the token is readable by the pod's
  // user. Rotation rewrites it 0600 again after 48 minutes, long after these tests.
  await chmod(tokenFile, 0o644);
  const logs: string[] = [];
  const container = await new ServiceContainer(image(name))
    .withNetworkMode('host')
    .withReadOnlyRootFilesystem()
    .withMemoryLimit(options.memoryLimitBytes)
    .withTmpFs({ '/tmp': 'rw,noexec,nosuid,size=64m' })
    .withBindMounts([
      { source: dirname(tokenFile), target: CONTAINER_PATHS.tokenDir, mode: 'ro' },
      { source: cloud.caCertPath, target: CONTAINER_PATHS.caFile, mode: 'ro' },
      {
        source: join(repoRoot, 'packages/local-azure/preload/localhost-dns.cjs'),
        target: CONTAINER_PATHS.preload,
        mode: 'ro',
      },
    ])
    .withEnvironment({ ...containerEnv(cloud, name), PORT: String(port), ...extraEnv })
    .withLogConsumer((stream) => stream.on('data', (chunk) => logs.push(String(chunk))))
    .withWaitStrategy(Wait.forLogMessage(/listening/))
    .withStartupTimeout(30_000)
    .start()
    .catch((error: Error) => {
      throw new Error(`${name} container did not start: ${error.message}\n${logs.join('')}`);
    });
  return { name, container, url: `http://127.0.0.1:${port}`, logs };
}

/** The running container's state, as Docker reports it. */
export async function inspect(
  cli: DockerCli,
  id: string,
): Promise<{ StartedAt: string; FinishedAt: string; ExitCode: number; Running: boolean }> {
  return JSON.parse(await docker$(cli, 'inspect', '--format', '{{json .State}}', id));
}

/** `docker compose` (v2 plugin) or Debian's `docker-compose` (v1), whichever is there. */
function findCompose(): string[] | undefined {
  if (docker && output(docker.path, ['compose', 'version']) !== undefined) {
    return [docker.path, 'compose'];
  }
  if (output('docker-compose', ['version']) !== undefined) return ['docker-compose'];
  return undefined;
}

export const compose = docker ? findCompose() : undefined;

/** Like the image tests: skipped and listed without Docker Compose, a failure in CI. */
export const skipComposeTests = !compose && process.env.CI !== 'true';

export function requireCompose(): string[] {
  requireDocker();
  if (!compose) {
    throw new Error(
      'No Docker Compose: need `docker compose` or `docker-compose` (Debian: apt-get install docker-compose).',
    );
  }
  return compose;
}
