import type { LocalCloud } from '@wi/local-azure';
import { afterEach, describe, expect, it } from 'vitest';
import {
  poll,
  type RunningService,
  startLocalCloud,
  startService,
  waitForOk,
} from '../support/local-stack.js';
import { recordCounts, seedDocuments } from '../support/seed.js';

/**
 * Three message lock durations, as 30 s was against a 10 s lock: the worker's messages must
 * have their locks renewed through the outage, and its retries back off to their 5 s ceiling
 * (250 ms doubling) and keep trying, so every part of riding out an outage is exercised, in
 * 12 s rather than 30 s of waiting.
 */
const LOCK_MS = 4_000;
const OUTAGE_MS = 3 * LOCK_MS;

/**
 * Each emulator goes down for three lock durations while the backend works through a backlog:
 * readiness must say so, the worker must wait it out (retrying with backoff, not
 * dead-lettering), and once the resource is back every document must end up as exactly one
 * record.
 */
describe(`a ${OUTAGE_MS / 1000} s outage of one resource under load loses nothing`, () => {
  let cloud: LocalCloud | undefined;
  let backend: RunningService | undefined;

  afterEach(async () => {
    await backend?.stop('SIGKILL');
    await cloud?.stop();
    backend = undefined;
    cloud = undefined;
  });

  const resources = {
    'Service Bus': (c: LocalCloud) => c.serviceBus,
    'Cosmos DB': (c: LocalCloud) => c.cosmos,
    'Key Vault': (c: LocalCloud) => c.keyVault,
  } as const;

  it.each(Object.keys(resources) as (keyof typeof resources)[])(
    '%s',
    async (name) => {
      cloud = await startLocalCloud({ queueLockDurationMs: LOCK_MS });
      const ids = await seedDocuments(cloud, 300);
      backend = await startService('backend', {
        ...cloud.env('backend'),
        WORKER_MAX_CONCURRENCY: '4',
      });
      await waitForOk(`${backend.url}/healthz/ready`, backend);
      await poll(
        async () => ((await recordCounts(cloud!)).size >= 20 ? true : undefined),
        30_000,
        20,
      );

      const resource = resources[name](cloud);
      await resource.suspend();
      const down = performance.now();
      // Readiness reports the outage (its probe results are cached for 2 s).
      const notReady = await poll(
        async () => {
          const response = await fetch(`${backend!.url}/healthz/ready`);
          return response.status === 503 ? await response.text() : undefined;
        },
        15_000,
        250,
      );
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(0, OUTAGE_MS - (performance.now() - down))),
      );
      const duringOutage = (await recordCounts(cloud)).size;
      await resource.resume();

      await waitForOk(`${backend.url}/healthz/ready`, backend, 60_000);
      const counts = await poll(
        async () => {
          const current = await recordCounts(cloud!);
          return ids.every((id) => current.has(id)) ? current : undefined;
        },
        90_000,
        250,
      );
      const deadLettered = cloud.serviceBus.deadLetters('documents').length;
      console.log(
        `${name} down ${OUTAGE_MS / 1000} s: not ready (${/"status":"down"/.test(notReady) ? 'probe down' : notReady.slice(0, 80)}), ${duringOutage} records when it came back, ${counts.size}/${ids.length} after, ${deadLettered} dead-lettered`,
      );
      expect(counts.size).toBe(ids.length);
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
      expect(deadLettered).toBe(0);
    },
    180_000,
  );
});
