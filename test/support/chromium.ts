import { existsSync, readFileSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

const candidates = [
  process.env.CHROMIUM_PATH,
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
];

/**
 * Headless, sandbox off (CI runs as root), nothing that reaches the network by itself. Shared
 * with CI's newcomer smoke (.ci/newcomer-smoke.mjs), which is plain JavaScript.
 */
const CHROMIUM_ARGS = JSON.parse(
  readFileSync(new URL('./chromium-args.json', import.meta.url), 'utf8'),
) as string[];

/** A system Chromium (no browser download): CHROMIUM_PATH, or Debian's / Ubuntu's package. */
export const chromiumPath = candidates.find((path): path is string => !!path && existsSync(path));

/**
 * Browser tests skip where no Chromium is installed, and say so in the summary; in CI a missing
 * browser is a failure, never a skip.
 */
export const skipBrowserTests = !chromiumPath && process.env.CI !== 'true';

export async function launchChromium(): Promise<Browser> {
  if (!chromiumPath) {
    throw new Error(
      `No Chromium found (tried ${candidates.filter(Boolean).join(', ')}); install one or set CHROMIUM_PATH.`,
    );
  }
  return chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS });
}
