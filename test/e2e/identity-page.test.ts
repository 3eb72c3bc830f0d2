import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { launchChromium, skipBrowserTests } from '../support/chromium.js';
import { FrontendClient } from '../support/frontend-client.js';
import { poll, repoRoot, startStack } from '../support/local-stack.js';

const screenshots = `${repoRoot}test-results/screenshots`;
const READY_TIMEOUT_MS = 60_000;

async function probeStates(page: Page) {
  return page.$$eval('.probe', (items) =>
    items.map((item) => ({
      service: item.closest('[data-service]')?.getAttribute('data-service'),
      resource: item.getAttribute('data-resource'),
      expected: item.getAttribute('data-expected'),
      ok: item.classList.contains('ok'),
      text: (item as HTMLElement).innerText,
    })),
  );
}

// A browser, two services and the local cloud share two cores with whatever other test files run
// beside them (image builds, load): each step gets room, and a stuck one names itself. The two
// cases share only the browser (a page each) and start a stack each on free ports: they run
// side by side, each with its context's expect: four services start at once, so each gets 60 s
// to be ready and a case 120 s.
describe.skipIf(skipBrowserTests)(
  'the Identity page',
  { timeout: 120_000, concurrent: true },
  () => {
    let browser: Browser;

    beforeAll(async () => {
      mkdirSync(screenshots, { recursive: true });
      browser = await launchChromium();
    });
    afterAll(() => browser?.close());

    it('shows both services green: every allowed probe allowed, every forbidden one refused', async ({
      expect,
    }) => {
      const stack = await startStack({ readyTimeoutMs: READY_TIMEOUT_MS });
      try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        const errors: string[] = [];
        page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
        await page.goto(`${stack.frontend.url}/identity`);
        const probes = await probeStates(page);
        expect(probes.filter((p) => p.service === 'frontend').length).toBeGreaterThanOrEqual(4);
        expect(probes.filter((p) => p.service === 'backend').length).toBeGreaterThanOrEqual(5);
        expect(probes.filter((p) => !p.ok)).toEqual([]);
        expect(
          probes
            .filter((p) => p.expected === 'denied')
            .every((p) => /denied, as it must be/.test(p.text)),
        ).toBe(true);
        await expect(page.locator('.card.ok').count()).resolves.toBe(2);
        await page.screenshot({ path: `${screenshots}/identity-ok.png`, fullPage: true });
        expect(errors).toEqual([]);
      } finally {
        await stack.stop();
      }
    });

    it('turns exactly the Cosmos probe red when the backend loses its Cosmos role, and nothing is lost', async ({
      expect,
    }) => {
      const stack = await startStack({
        readyTimeoutMs: READY_TIMEOUT_MS,
        expectNotReady: true,
        identities: (file) => {
          const backend = file.identities.find((i) => i.service === 'backend')!;
          backend.roleAssignments = backend.roleAssignments.filter(
            (r) => r.scope.resource !== 'cosmos',
          );
        },
      });
      try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        await page.goto(`${stack.frontend.url}/identity`);
        const red = (await probeStates(page)).filter((p) => !p.ok);
        expect(red).toHaveLength(1);
        expect(red[0]).toMatchObject({ service: 'backend', resource: 'cosmos' });
        expect(red[0]!.text).toContain('Forbidden');
        expect(red[0]!.text).toContain('Cosmos DB Built-in Data Contributor');
        expect(red[0]!.text).toContain('infra/identities.json');
        await page.screenshot({
          path: `${screenshots}/identity-missing-cosmos-role.png`,
          fullPage: true,
        });

        // The pipeline fails visibly and loses nothing: the message is retried, then dead-lettered.
        const id = await new FrontendClient(stack.frontend.url).uploadText('kept.txt', 'not lost');
        const dead = await poll(
          async () =>
            stack.cloud.serviceBus.deadLetters('documents').find((m) => m.messageId === id),
          20_000,
        );
        expect(dead.reason).toBe('MaxDeliveryCountExceeded');
        expect(await stack.cloud.blob.listBlobNames('uploads')).toContain(id);
      } finally {
        await stack.stop();
      }
    });
  },
);
