import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFile, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import {
  repoRoot,
  identitiesFile,
  type RunningService,
  startService,
  waitForOk,
} from '../support/local-stack.js';

/**
 * Date runs this many times faster in every process of the test: an hour takes 40 s. Checks
 * allow Entra's 5 minutes of clock skew (3.3 s of real time here), and the SDKs refresh tokens
 * 2 minutes (1.3 s) before they expire. 120x would leave a refresh 1 s, too little on a loaded
 * two-core machine.
 */
const SPEED = 90;
/** The workload identity webhook's default projected token lifetime (rotated at 80 %: 48 min). */
const SERVICE_ACCOUNT_TOKEN_LIFETIME_S = 3600;
/**
 * Shorter than Entra's 60–90 minutes so that each service exchanges its token every five
 * (accelerated) minutes, many times before and after the rotation and the old token's expiry.
 */
const ACCESS_TOKEN_LIFETIME_S = 600;
/**
 * Until 30 minutes after the first token expired: well past the last access token it could buy,
 * and 13 s of real time after the 10 minutes the load must keep succeeding past that expiry.
 */
const RUN_UNTIL_S = SERVICE_ACCOUNT_TOKEN_LIFETIME_S + 1800;

const PACE_MS = 50;

const clockPreload = join(repoRoot, 'test/support/time/accelerated-clock.mjs');
const cloudProcess = join(repoRoot, 'test/support/time/local-cloud-process.mjs');

interface CloudEvent {
  event: string;
  [key: string]: unknown;
}

interface Outcome {
  /** Seconds since the clock started running fast, on that clock. */
  fakeSeconds: number;
  status: number | string;
  ok: boolean;
}

/**
 * "Rotate the service account token file and let the old one expire under load: 0 failed
 * requests." The kubelet (here the local cloud) replaces the projected token at 80 % of its hour;
 * DefaultAzureCredential must pick the new file up before the old token expires, for every
 * audience, while requests keep coming. Waiting an hour in real time is not a test, so every
 * process runs its Date 90× faster (test/support/time/accelerated-clock.mjs): the SDK's
 * five-minute file cache, MSAL's token cache, our single-flight cache, the token lifetimes and
 * the STS's expiry checks all run unchanged on that clock.
 *
 * A control backend reads a copy of the token file, the mistake of baking the token into a
 * Secret: it must start failing once its copy expires, which proves the load would see a
 * failure if the running services had one.
 */
describe('service account token rotation under load', () => {
  const children: ChildProcess[] = [];
  const services: RunningService[] = [];

  afterAll(async () => {
    await Promise.all(services.map((service) => service.stop('SIGKILL')));
    for (const child of children) child.kill('SIGTERM');
  });

  it(
    'loses no request while the projected token rotates and the old one expires',
    async () => {
      // The clock runs real while everything starts (which takes from seconds to most of a
      // minute on a loaded machine) and fast from one shared origin once all are live.
      const originFile = join(await mkdtemp(join(tmpdir(), 'clock-origin-')), 'origin');
      let origin = Infinity;
      const clockEnv = {
        WI_CLOCK_SPEED: String(SPEED),
        WI_CLOCK_ORIGIN_MS: 'signal',
        WI_CLOCK_ORIGIN_FILE: originFile,
      };
      const fakeSeconds = () => ((Date.now() - origin) * SPEED) / 1000;

      const { env, events } = await startAcceleratedCloud(clockEnv, children);
      const withClock = (variables: Record<string, string>) => ({
        ...variables,
        ...clockEnv,
        NODE_OPTIONS: `${variables.NODE_OPTIONS ?? ''} --import ${clockPreload}`.trim(),
        WORKER_MAX_CONCURRENCY: '1',
      });
      const backendEnv = env.backend!;
      const copiedTokenFile = join(await mkdtemp(join(tmpdir(), 'copied-token-')), 'token');
      await copyFile(backendEnv.AZURE_FEDERATED_TOKEN_FILE!, copiedTokenFile);

      const [backend, control] = await Promise.all([
        startService('backend', withClock(backendEnv)),
        startService(
          'backend',
          withClock({ ...backendEnv, AZURE_FEDERATED_TOKEN_FILE: copiedTokenFile }),
        ),
      ]);
      services.push(backend, control);
      const frontend = await startService(
        'frontend',
        withClock({ ...env.frontend!, BACKEND_URL: backend.url }),
      );
      services.push(frontend);
      await Promise.all(
        // Three services starting at once on two shared cores can take more than 30 s.
        [backend, control, frontend].map((s) => waitForOk(`${s.url}/healthz/live`, s, 90_000)),
      );
      // A moment ahead, so every process has read it before it passes: they agree to the ms.
      origin = Date.now() + 500;
      await writeFile(originFile, String(origin));
      for (const child of [...children, ...[backend, control, frontend].map((s) => s.process)])
        child.kill('SIGUSR2');
      await new Promise((resolve) => setTimeout(resolve, origin - Date.now()));

      // Each loop sends one request after another until the clock passes RUN_UNTIL_S.
      const load = {
        // The backend's API needs the frontend's token (the frontend's loops carry one); its
        // readiness reads Key Vault, Blob, Service Bus and Cosmos DB with its own identity.
        'backend GET /healthz/ready': loop(`${backend.url}/healthz/ready`, 200),
        'frontend GET /api/documents': loop(`${frontend.url}/api/documents`, 200),
        // Backend's Cosmos read, then the frontend's own Blob lookup (storage audience): 404.
        'frontend GET /api/uploads/:id': loop(
          () => `${frontend.url}/api/uploads/${randomUUID()}`,
          404,
        ),
        'control GET /healthz/ready': loop(`${control.url}/healthz/ready`, 200),
      };
      async function loop(url: string | (() => string), expected: number): Promise<Outcome[]> {
        const outcomes: Outcome[] = [];
        while (fakeSeconds() < RUN_UNTIL_S) {
          let status: number | string;
          try {
            const response = await fetch(typeof url === 'string' ? url : url(), {
              signal: AbortSignal.timeout(10_000),
            });
            await response.arrayBuffer();
            status = response.status;
          } catch (error) {
            status = String((error as Error).name);
          }
          outcomes.push({ fakeSeconds: fakeSeconds(), status, ok: status === expected });
          // ~20 requests per second per loop (one every 4.5 s on the fast clock): steady load that
          // leaves the other test files running beside this one their share of two cores.
          await new Promise((resolve) => setTimeout(resolve, PACE_MS));
        }
        return outcomes;
      }
      const results = Object.fromEntries(
        await Promise.all(
          Object.entries(load).map(async ([name, run]) => [name, await run] as const),
        ),
      ) as Record<keyof typeof load, Outcome[]>;

      const written = events.filter((e) => e.event === 'service-account-token-written');
      const exchanges = events.filter((e) => e.event === 'token-exchange');
      const firstTokenExpiry = (service: string) =>
        Date.parse(String(written.find((e) => e.service === service)!.expiresAt));
      const atFake = (iso: unknown) => (Date.parse(String(iso)) - origin) / 1000;

      console.log(
        `token rotation at ${SPEED}× (service account token ${SERVICE_ACCOUNT_TOKEN_LIFETIME_S} s, ` +
          `access tokens ${ACCESS_TOKEN_LIFETIME_S} s, ran to ${RUN_UNTIL_S} s on that clock):`,
      );
      for (const [name, outcomes] of Object.entries(results)) {
        const failed = outcomes.filter((o) => !o.ok);
        console.log(
          `  ${name}: ${outcomes.length} requests, ${failed.length} failed` +
            (failed.length
              ? ` (first at ${failed[0]!.fakeSeconds.toFixed(0)} s: ${failed[0]!.status})`
              : ''),
        );
      }
      for (const service of ['backend', 'frontend']) {
        const writes = written.filter((e) => e.service === service);
        console.log(
          `  ${service} token file written at ${writes.map((e) => `${atFake(e.issuedAt).toFixed(0)} s`).join(', ')}; first token expired at ${atFake(new Date(firstTokenExpiry(service)).toISOString()).toFixed(0)} s`,
        );
      }
      const failedExchanges = exchanges.filter((e) => e.outcome === 'failure');
      const scopes = [...new Set(exchanges.map((e) => String(e.scope)))];
      console.log(
        `  exchanges: ${exchanges.length} for ${scopes.join(', ')}; ${failedExchanges.length} refused (${[...new Set(failedExchanges.map((e) => e.error))].join(', ') || 'none'}) with an assertion that expired at ${[...new Set(failedExchanges.map((e) => `${atFake(e.assertionExpiresAt).toFixed(0)} s`))].join(', ') || '-'}`,
      );

      // Every request of the real services succeeded, and there were plenty on both sides of
      // the old token's expiry.
      for (const name of [
        'backend GET /healthz/ready',
        'frontend GET /api/documents',
        'frontend GET /api/uploads/:id',
      ] as const) {
        const outcomes = results[name];
        expect(
          outcomes.filter((o) => !o.ok),
          name,
        ).toEqual([]);
        const expiry = (firstTokenExpiry('backend') - origin) / 1000;
        expect(outcomes.filter((o) => o.fakeSeconds > expiry + 600).length, name).toBeGreaterThan(
          50,
        );
      }

      // The rotation really happened, and after the old token expired each service kept
      // exchanging, with the rotated token, for the audience its load needs: the backend for
      // Cosmos DB, the frontend for Blob Storage. (Key Vault and Service Bus tokens are not on
      // this load's path: the signing key is cached and nothing is sent.)
      const loadAudiences = {
        // Cosmos DB's scope is the account endpoint; Blob Storage's is the same for every account.
        backend: new URL(backendEnv.AZURE_COSMOS_ENDPOINT!).origin,
        frontend: 'https://storage.azure.com',
      };
      for (const [service, audience] of Object.entries(loadAudiences)) {
        const clientId = env[service]!.AZURE_CLIENT_ID!;
        const firstExpiry = firstTokenExpiry(service);
        expect(written.filter((e) => e.service === service).length).toBeGreaterThanOrEqual(2);
        const renewed = exchanges.filter(
          (e) =>
            e.clientId === clientId &&
            e.outcome === 'success' &&
            Date.parse(String(e.at)) > firstExpiry,
        );
        expect(
          renewed.filter((e) => String(e.scope).startsWith(audience)).length,
          `${service}: exchanges for ${audience} after the first token expired`,
        ).toBeGreaterThan(0);
        expect(
          renewed.filter((e) => Date.parse(String(e.assertionExpiresAt)) <= firstExpiry),
          `${service}: exchanges after expiry that used the expired token`,
        ).toEqual([]);
      }

      // Only the control's copied token was ever refused, and only once it had expired.
      expect(failedExchanges.length).toBeGreaterThan(0);
      for (const failure of failedExchanges) {
        expect(failure.error).toBe('AADSTS700024');
        expect(Date.parse(String(failure.assertionExpiresAt))).toBe(firstTokenExpiry('backend'));
      }
      const controlFailures = results['control GET /healthz/ready'].filter((o) => !o.ok);
      expect(controlFailures.length).toBeGreaterThan(0);
      expect(controlFailures[0]!.fakeSeconds).toBeGreaterThan(
        (firstTokenExpiry('backend') - origin) / 1000,
      );
    },
    // The run on the fast clock, after up to 90 s of start-up on the real one.
    (RUN_UNTIL_S / SPEED) * 1000 + 150_000,
  );
});

/** The local cloud on the accelerated clock; resolves with each service's variables. */
async function startAcceleratedCloud(
  clockEnv: Record<string, string>,
  children: ChildProcess[],
): Promise<{ env: Record<string, Record<string, string>>; events: CloudEvent[] }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      clockPreload,
      cloudProcess,
      JSON.stringify({
        services: ['backend', 'frontend'],
        cloud: {
          identitiesFile,
          caDir: process.env.LOCAL_AZURE_STATE_DIR,
          serviceAccountTokenLifetimeSeconds: SERVICE_ACCOUNT_TOKEN_LIFETIME_S,
          accessTokenLifetimeSeconds: ACCESS_TOKEN_LIFETIME_S,
        },
      }),
    ],
    { cwd: repoRoot, env: { ...process.env, ...clockEnv }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(child);
  const events: CloudEvent[] = [];
  const ready = new Promise<Record<string, Record<string, string>>>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the local cloud exited with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const event = JSON.parse(line) as CloudEvent;
      if (event.event === 'ready') resolve(event.env as Record<string, Record<string, string>>);
      else events.push(event);
    });
  });
  return { env: await ready, events };
}
