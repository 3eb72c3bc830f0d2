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
import { backendAuthorization } from '../support/backend-token.js';

/**
 * The worker is the one place a document could be lost or written twice. These tests break it
 * on purpose under load and count: every seeded document must end up as exactly one record.
 */
describe('the intake pipeline under faults loses nothing', () => {
  let cloud: LocalCloud | undefined;
  const services: RunningService[] = [];

  afterEach(async () => {
    await Promise.all(services.splice(0).map((s) => s.stop('SIGKILL')));
    await cloud?.stop();
    cloud = undefined;
  });

  async function backend(env: Record<string, string> = {}): Promise<RunningService> {
    const service = await startService('backend', { ...cloud!.env('backend'), ...env });
    services.push(service);
    await waitForOk(`${service.url}/healthz/live`, service);
    return service;
  }

  async function allProcessed(ids: string[], timeoutMs: number): Promise<Map<string, number>> {
    return poll(
      async () => {
        const counts = await recordCounts(cloud!);
        return ids.every((id) => counts.has(id)) ? counts : undefined;
      },
      timeoutMs,
      250,
    );
  }

  it('kill -9 of the worker in the middle of 1000 documents: after a restart every one is processed exactly once', async () => {
    // Messages the killed worker held stay locked until the lock expires, as on Azure (60 s
    // there); a 5 s lock keeps the test short.
    cloud = await startLocalCloud({ queueLockDurationMs: 5_000 });
    const ids = await seedDocuments(cloud, 1000);
    const first = await backend();
    await poll(
      async () => ((await recordCounts(cloud!)).size >= 200 ? true : undefined),
      30_000,
      50,
    );
    const before = (await recordCounts(cloud)).size;
    first.process.kill('SIGKILL');
    await first.stop();
    console.log(`killed the worker after ${before} of ${ids.length} records`);
    expect(before).toBeLessThan(ids.length);

    await backend();
    const counts = await allProcessed(ids, 60_000);
    const duplicates = [...counts.values()].filter((n) => n > 1).length;
    const stats = cloud.serviceBus.stats('documents');
    console.log(
      `records: ${counts.size}, duplicates: ${duplicates}, queue: ${JSON.stringify(stats)}`,
    );
    expect(counts.size).toBe(ids.length);
    expect(duplicates).toBe(0);
    expect(cloud.serviceBus.deadLetters('documents')).toEqual([]);
  }, 180_000);

  it('SIGTERM during load: the worker drains and exits cleanly; the rest is processed after a restart', async () => {
    cloud = await startLocalCloud();
    const ids = await seedDocuments(cloud, 300);
    const first = await backend();
    await poll(
      async () => ((await recordCounts(cloud!)).size >= 50 ? true : undefined),
      30_000,
      20,
    );
    const signalled = performance.now();
    const exitCode = await first.stop('SIGTERM');
    const seconds = ((performance.now() - signalled) / 1000).toFixed(1);
    const drained = first.output.join('').includes('"drained":true');
    console.log(
      `SIGTERM: exited in ${seconds} s (code ${exitCode}, signal ${first.process.signalCode}), drained=${drained}, records so far ${(await recordCounts(cloud)).size}`,
    );
    // Nest re-raises the signal after its shutdown hooks: exit by SIGTERM (143 in Kubernetes) is clean.
    expect(exitCode === 0 || first.process.signalCode === 'SIGTERM').toBe(true);
    expect(drained).toBe(true);

    await backend();
    const counts = await allProcessed(ids, 60_000);
    expect(counts.size).toBe(ids.length);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  }, 120_000);

  it('a rotated signing key signs new records while records of the old version still verify', async () => {
    cloud = await startLocalCloud();
    const service = await backend({ SIGNING_KEY_REFRESH_SECONDS: '1' });
    const [oldId] = await seedDocuments(cloud, 1);
    await allProcessed([oldId!], 10_000);
    const { version: newVersion } = await cloud.keyVault.setSecret(
      'backend-signing-key',
      'rotated-key-value-0123456789',
    );
    await poll(
      async () => (service.output.join('').includes('rotated') ? true : undefined),
      10_000,
      100,
    );
    const [newId] = await seedDocuments(cloud, 1);
    await allProcessed([newId!], 10_000);

    const read = async (id: string) =>
      // The backend's API answers only the frontend's token.
      (await (
        await fetch(`${service.url}/documents/${id}`, {
          headers: await backendAuthorization(cloud),
        })
      ).json()) as {
        signatureKeyVersion: string;
        signatureValid: boolean;
      };
    const oldRecord = await read(oldId!);
    const newRecord = await read(newId!);
    expect(newRecord.signatureKeyVersion).toBe(newVersion);
    expect(oldRecord.signatureKeyVersion).not.toBe(newVersion);
    expect(oldRecord.signatureValid).toBe(true);
    expect(newRecord.signatureValid).toBe(true);
  });
});
