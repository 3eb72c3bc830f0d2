// The service images, built from this checkout and run as containers against the local cloud,
// which runs here in the test process (host networking: see support.ts). Checks what the
// Dockerfile promises: ready through the real workload identity exchange, uid 1000, read-only
// root filesystem, nothing but node and the production tree inside, a clean exit on SIGTERM.
// Without Docker the suite is skipped and listed; with CI=true it fails instead.
import type { LocalCloud } from '@wi/local-azure';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrontendClient } from '../support/frontend-client.js';
import { startLocalCloud, waitForOk } from '../support/local-stack.js';
import {
  buildImagesOnce,
  docker$,
  type DockerCli,
  image,
  inspect,
  requireDocker,
  skipContainerTests,
  type StartedService,
  startServiceContainer,
} from './support.js';

/** Both services' grace period budget: k8s gives the frontend 30 s and the backend 45 s. */
const GRACE_SECONDS = 30;

describe.skipIf(skipContainerTests)('container images (Dockerfile, run with Docker)', () => {
  let cli: DockerCli;
  let cloud: LocalCloud;
  let backend: StartedService;
  let frontend: StartedService;

  beforeAll(async () => {
    cli = requireDocker();
    await buildImagesOnce(cli);
    cloud = await startLocalCloud();
    for (const name of ['backend', 'frontend'] as const) {
      const service = await startServiceContainer(
        cloud,
        name,
        // As `pnpm dev` starts the frontend: the backend's URL, and cookies over plain http.
        name === 'frontend' ? { BACKEND_URL: backend.url, COOKIE_SECURE: 'false' } : {},
      );
      const startedAt = Date.parse((await inspect(cli, service.container.getId())).StartedAt);
      await waitForOk(`${service.url}/healthz/ready`).catch((error: Error) => {
        throw new Error(`${error.message}\n${service.logs.join('')}`);
      });
      service.readyAfterMs = Date.now() - startedAt;
      if (name === 'backend') backend = service;
      else frontend = service;
    }
  }, 600_000);

  afterAll(async () => {
    await Promise.allSettled([frontend?.container.stop(), backend?.container.stop()]);
    await cloud?.stop();
  }, 120_000);

  it.each(['backend', 'frontend'] as const)(
    '%s image is at most 150 MB and holds no shell, package manager, dev dependency or package it cannot load',
    async (name) => {
      const size = Number(
        await docker$(cli, 'image', 'inspect', '--format', '{{.Size}}', image(name)),
      );
      console.log(`${image(name)}: ${(size / 1e6).toFixed(1)} MB`);
      // Issue 19's budget: the stripped node binary (108 MB) and its libraries, and the pruned
      // production tree (docker/strip-elf.mjs, docker/prune-unreachable.mjs).
      expect(size).toBeLessThanOrEqual(150e6);
      const service = name === 'backend' ? backend : frontend;
      const probe = await service.container.exec([
        '/usr/local/bin/node',
        '-e',
        `const fs = require('node:fs');
         const pnpm = fs.readdirSync('/app/node_modules/.pnpm');
         console.log(JSON.stringify({
           shell: ['/bin/sh', '/bin/bash', '/usr/bin/sh'].filter((p) => fs.existsSync(p)),
           managers: ['/usr/local/bin/npm', '/usr/local/bin/pnpm', '/usr/local/bin/corepack', '/usr/local/lib/node_modules']
             .filter((p) => fs.existsSync(p)),
           dev: pnpm.filter((p) => /^(typescript|@swc|vitest|eslint|prettier|azurite|testcontainers|playwright)/.test(p)),
           unloadable: pnpm.filter((p) => /^(@azure\\+msal-browser|sequelize|@grpc\\+grpc-js|moment|swagger-ui-dist)@/.test(p)),
           cosmos: pnpm.some((p) => p.startsWith('@azure+cosmos@')),
           sources: fs.existsSync('/app/src'),
           env: process.env.NODE_ENV,
         }));`,
      ]);
      expect(probe.exitCode).toBe(0);
      expect(JSON.parse(probe.output.trim().split('\n').at(-1)!)).toEqual({
        shell: [],
        managers: [],
        dev: [],
        unloadable: [],
        // Only the backend has a Cosmos DB role; the frontend's image has no Cosmos SDK at all.
        cosmos: name === 'backend',
        sources: false,
        env: 'production',
      });
    },
  );

  it.each(['backend', 'frontend'] as const)(
    '%s reaches ready through the workload identity exchange with its own identity',
    async (name) => {
      const service = name === 'backend' ? backend : frontend;
      console.log(`${name}: container start → ready in ${service.readyAfterMs} ms`);
      const response = await fetch(`${service.url}/healthz/ready`);
      expect(response.status).toBe(200);
      const exchanges = cloud.sts
        .exchanges()
        .filter((e) => e.clientId === cloud.sts.clientId(name));
      expect(exchanges.some((e) => e.outcome === 'success')).toBe(true);
      expect(
        exchanges.every((e) => e.assertionSubject === `system:serviceaccount:doc-intake:${name}`),
      ).toBe(true);
    },
  );

  it.each(['backend', 'frontend'] as const)(
    '%s runs as uid 1000 with a read-only root filesystem, writing only to /tmp',
    async (name) => {
      const service = name === 'backend' ? backend : frontend;
      const user = await docker$(
        cli,
        'inspect',
        '--format',
        '{{.Config.User}} {{.HostConfig.ReadonlyRootfs}}',
        service.container.getId(),
      );
      expect(user).toBe('1000:1000 true');
      const probe = await service.container.exec([
        '/usr/local/bin/node',
        '-e',
        `const fs = require('node:fs');
         const tryWrite = (p) => { try { fs.writeFileSync(p, 'x'); fs.unlinkSync(p); return 'ok'; } catch (e) { return e.code; } };
         const status = fs.readFileSync('/proc/1/status', 'utf8');
         console.log(JSON.stringify({
           uid: process.getuid(), gid: process.getgid(),
           pid1Uid: /^Uid:\\s+(\\d+)/m.exec(status)[1],
           app: tryWrite('/app/probe'), root: tryWrite('/probe'), tmp: tryWrite('/tmp/probe'),
         }));`,
      ]);
      expect(probe.exitCode).toBe(0);
      expect(JSON.parse(probe.output.trim().split('\n').at(-1)!)).toEqual({
        uid: 1000,
        gid: 1000,
        pid1Uid: '1000',
        app: 'EROFS',
        root: 'EROFS',
        tmp: 'ok',
      });
    },
  );

  it('processes an upload end to end, frontend container → local cloud → backend container', async () => {
    const client = new FrontendClient(frontend.url);
    const id = await client.uploadText('container.txt', 'from a container\nto a container');
    const record = await client.processed(id);
    expect(record).toMatchObject({ id, fileName: 'container.txt', lineCount: 2, wordCount: 6 });
  });

  it.each(['frontend', 'backend'] as const)(
    '%s exits cleanly on SIGTERM within the grace period',
    async (name) => {
      const service = name === 'backend' ? backend : frontend;
      const id = service.container.getId();
      const started = performance.now();
      await docker$(cli, 'kill', '--signal', 'TERM', id);
      const exitCode = Number(await docker$(cli, 'wait', id));
      const seconds = (performance.now() - started) / 1000;
      console.log(`${name}: SIGTERM → exit ${exitCode} in ${seconds.toFixed(2)} s`);
      // 0: Node's loop drained after Nest closed everything (Node is PID 1, so the signal Nest
      // re-raises after its shutdown hooks is ignored); 143 would be the same under an init.
      // Never 137 (SIGKILL) or an error code.
      expect([0, 143]).toContain(exitCode);
      expect(seconds).toBeLessThan(GRACE_SECONDS);
      expect(service.logs.join('')).not.toMatch(/"level":(50|60)/);
    },
  );
});
