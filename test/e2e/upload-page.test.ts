import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, skipBrowserTests } from '../support/chromium.js';
import { repoRoot, type RunningStack, startStack } from '../support/local-stack.js';

const screenshots = `${repoRoot}test-results/screenshots`;

// A browser, two services and the local cloud share two cores with whatever other test files run
// beside them (image builds, load): each step gets room, and a stuck one names itself.
describe.skipIf(skipBrowserTests)('the upload page in a real browser', { timeout: 60_000 }, () => {
  let stack: RunningStack;
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(screenshots, { recursive: true });
    [stack, browser] = await Promise.all([
      startStack({ frontendEnv: { COOKIE_SECURE: 'false' } }),
      launchChromium(),
    ]);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('uploads with JavaScript and shows the row turn processed, with no CSP violation', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (message) => message.type() === 'error' && problems.push(message.text()));
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(stack.frontend.url);

    const text = 'one two three\nfour five\n';
    await page.setInputFiles('#file', {
      name: 'browser notes.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from(text),
    });
    await page.click('button[type=submit]');

    const row = page.locator('#documents tr[data-status="processed"]', {
      hasText: 'browser notes.txt',
    });
    await row.waitFor({ timeout: 10_000 });
    const cells = await row.locator('td').allInnerTexts();
    expect(cells.slice(0, 3)).toEqual(['browser notes.txt', 'text/plain', `${text.length} B`]);
    expect(cells[3]).toBe(`${createHash('sha256').update(text).digest('hex').slice(0, 12)}…`);
    expect(cells.slice(4, 6)).toEqual(['2', '5']);
    expect(await page.locator('#upload-status').innerText()).toContain('processed');
    expect(page.url()).toBe(`${stack.frontend.url}/`);
    await page.screenshot({ path: `${screenshots}/upload-with-js.png`, fullPage: true });
    expect(problems).toEqual([]);
  });

  it('uploads an image with the keyboard only, and shows its SHA-256', async () => {
    const page = await browser.newPage();
    // Listen before any key is pressed: Playwright switches Chromium's file-chooser interception
    // on without waiting when the first listener is added, and a key press that wins that race
    // (it did, twice, on a loaded CI machine) opens the browser's own dialog and no event comes.
    const fileChooser = page.waitForEvent('filechooser', { timeout: 15_000 });
    await page.goto(stack.frontend.url);
    const png = Buffer.concat([
      Buffer.from('89504e470d0a1a0a', 'hex'),
      Buffer.from('keyboard image bytes'),
    ]);
    // Tab from the top of the page to the file input: no mouse, no programmatic focus.
    for (
      let i = 0;
      i < 10 && !(await page.evaluate(() => document.activeElement?.id === 'file'));
      i++
    ) {
      await page.keyboard.press('Tab');
    }
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('file');
    await page.keyboard.press('Space');
    const chooser = await fileChooser;
    await chooser.setFiles({ name: 'scan.png', mimeType: 'image/png', buffer: png });
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    const row = page.locator('#documents tr[data-status="processed"]', { hasText: 'scan.png' });
    await row.waitFor({ timeout: 10_000 });
    const cells = await row.locator('td').allInnerTexts();
    expect(cells[1]).toBe('image/png');
    expect(cells[3]).toBe(`${createHash('sha256').update(png).digest('hex').slice(0, 12)}…`);
    expect(cells.slice(4, 6)).toEqual(['–', '–']);
  });

  it('shows why an upload was refused, with JavaScript: too large and wrong type', async () => {
    const page = await browser.newPage();
    await page.goto(stack.frontend.url);
    await page.setInputFiles('#file', {
      name: 'big.txt',
      mimeType: 'text/plain',
      buffer: Buffer.alloc(10 * 1024 * 1024 + 1, 'x'),
    });
    await page.click('button[type=submit]');
    await expect
      .poll(() => page.locator('#upload-status').innerText(), { timeout: 10_000 })
      .toContain('larger than the 10 MiB limit');
    await page.setInputFiles('#file', {
      name: 'tool.exe',
      mimeType: 'application/x-msdownload',
      buffer: Buffer.from('MZ'),
    });
    await page.click('button[type=submit]');
    await expect
      .poll(() => page.locator('#upload-status').innerText(), { timeout: 10_000 })
      .toContain('application/x-msdownload are not accepted');
    await expect(page.locator('#documents tr', { hasText: 'big.txt' }).count()).resolves.toBe(0);
  });

  it('uploads without JavaScript: the form posts, redirects and lists the document', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(stack.frontend.url);
    await page.setInputFiles('#file', {
      name: 'plain.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from('a,b\n1,2\n'),
    });
    await Promise.all([page.waitForURL(/\?uploaded=/), page.click('button[type=submit]')]);
    expect(await page.locator('.notice.ok').innerText()).toContain('Uploaded');

    // Without script the page does not update itself; reloading is what a user would do.
    for (let attempt = 0; attempt < 50; attempt++) {
      if ((await page.locator('tr[data-status="processed"]', { hasText: 'plain.csv' }).count()) > 0)
        break;
      await page.waitForTimeout(100);
      await page.reload();
    }
    await expect(
      page.locator('tr[data-status="processed"]', { hasText: 'plain.csv' }).count(),
    ).resolves.toBe(1);
    await page.screenshot({ path: `${screenshots}/upload-without-js.png`, fullPage: true });
    await context.close();
  });

  it('shows a refused upload as a message on the page, not a blank error', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(stack.frontend.url);
    await page.setInputFiles('#file', {
      name: 'tool.exe',
      mimeType: 'application/x-msdownload',
      buffer: Buffer.from('MZ'),
    });
    const [response] = await Promise.all([
      page.waitForResponse('**/uploads'),
      page.click('button[type=submit]'),
    ]);
    expect(response.status()).toBe(415);
    expect(await page.locator('.notice.error').innerText()).toContain('application/x-msdownload');
    await context.close();
  });
});
