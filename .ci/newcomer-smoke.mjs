#!/usr/bin/env node
// The README's start command as a newcomer runs it (CI starts this under as-newcomer.sh, so only
// that Node's official tools are on PATH): waits for the Ready line, uploads a file through the
// page's HTML form in Chromium with JavaScript off, waits until the page lists it as processed,
// presses Ctrl-C (SIGINT to the whole process group, as a terminal does) and checks that no
// process it started is left and no port is still taken. Ends with `Smoke: N passed, N failed`.
//
//   node .ci/newcomer-smoke.mjs '<the README start command>'
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const command = process.argv[2];
if (!command) throw new Error('usage: newcomer-smoke.mjs <command>');
// The local cloud's fixed ports and the services' (DEFAULT_PORTS, scripts/dev.mjs).
const PORTS = [3000, 3001, 4443, 4444, 10000, 8081, 5671];
const results = [];
const check = (name, ok, detail = '') => {
  results.push(ok);
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? `: ${detail}` : ''}`);
};
const seconds = (from) => ((performance.now() - from) / 1000).toFixed(1);

const started = performance.now();
const child = spawn('bash', ['-c', command], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
let output = '';
const exited = new Promise((resolve) =>
  child.once('exit', (code, signal) => resolve({ code, signal })),
);
const ready = new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('no Ready line in 600 s')), 600_000);
  const onData = (chunk) => {
    process.stdout.write(chunk);
    output += chunk.toString();
    const url = /Ready in ([\d.]+) s\.\S* Open \S*(http:\/\/localhost:\d+)/.exec(output);
    if (url) {
      clearTimeout(timer);
      resolve({ devSeconds: url[1], url: url[2] });
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  void exited.then(({ code }) => reject(new Error(`exited with ${code} before Ready`)));
});

try {
  const { devSeconds, url } = await ready;
  check(
    'start command reaches Ready',
    true,
    `${seconds(started)} s from start (dev: Ready in ${devSeconds} s after the build)`,
  );
  await uploadWithoutJavaScript(url);
} catch (error) {
  check('start command reaches Ready and processes an upload', false, error.message);
}

// Ctrl-C in a terminal signals the whole foreground process group.
const stopping = performance.now();
if (groupAlive(child.pid)) process.kill(-child.pid, 'SIGINT');
const stop = await Promise.race([exited, sleep(30_000).then(() => undefined)]);
check(
  'Ctrl-C stops it',
  stop !== undefined,
  stop ? `exit ${stop.code ?? stop.signal} in ${seconds(stopping)} s` : 'still running after 30 s',
);
// pnpm returns on the signal at once; the processes under it finish their own shutdown.
const drainDeadline = performance.now() + 15_000;
while (groupAlive(child.pid) && performance.now() < drainDeadline) await sleep(100);
const left = groupAlive(child.pid);
check(
  'no process it started is left',
  !left,
  left ? 'still running 15 s after Ctrl-C' : `all gone ${seconds(stopping)} s after Ctrl-C`,
);
if (left) process.kill(-child.pid, 'SIGKILL');
const taken = [];
for (const port of PORTS) if (!(await isFree(port))) taken.push(port);
check('every port it used is free again', taken.length === 0, taken.join(', '));

const passed = results.filter(Boolean).length;
console.log(`Smoke: ${passed} passed, ${results.length - passed} failed`);
process.exit(passed === results.length ? 0 : 1);

async function uploadWithoutJavaScript(url) {
  const { chromium } = await import(join(process.cwd(), 'node_modules/playwright-core/index.mjs'));
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: JSON.parse(readFileSync('test/support/chromium-args.json', 'utf8')),
  });
  try {
    const page = await (await browser.newContext({ javaScriptEnabled: false })).newPage();
    const file = join(mkdtempSync(join(tmpdir(), 'smoke-')), `newcomer-${Date.now()}.txt`);
    writeFileSync(file, 'uploaded by the newcomer smoke test\nthrough the HTML form\n');
    const name = file.split('/').pop();
    await page.goto(url);
    await page.setInputFiles('#file', file);
    const uploadStarted = performance.now();
    await Promise.all([page.waitForURL(/uploaded=/), page.click('button[type=submit]')]);
    check(
      'the form upload is accepted',
      page.url().includes('uploaded='),
      page.url().replace(url, ''),
    );
    const deadline = Date.now() + 30_000;
    let row;
    while (Date.now() < deadline) {
      await page.goto(url);
      row = await page.locator('tr[data-status="processed"]', { hasText: name }).count();
      if (row > 0) break;
      await sleep(250);
    }
    check('the page lists it as processed', row > 0, `${seconds(uploadStarted)} s after submit`);
  } finally {
    await browser.close();
  }
}

function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function isFree(port) {
  return new Promise((resolve) => {
    const server = createServer()
      .once('error', () => resolve(false))
      .listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
