// Fetches pnpm from the npm registry with Node alone (no npm, no Corepack), verifies the
// tarball against the registry's sha512 integrity, and unpacks it. Used by the Dockerfile's build
// stage so that any Node 24 base works: the official image, a distroless-style one, or the
// offline stand-in that docs/containers.md describes (which has neither npm nor Corepack).
//   node fetch-pnpm.mjs <version> <registry> <target-dir>
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [version, registry = 'https://registry.npmjs.org/', target = '/opt/pnpm'] =
  process.argv.slice(2);
if (!version) throw new Error('usage: fetch-pnpm.mjs <version> [registry] [target-dir]');
const base = registry.endsWith('/') ? registry : `${registry}/`;

async function get(url) {
  for (let attempt = 1; ; attempt++) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(60_000) });
      if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
      return response;
    } catch (error) {
      if (attempt >= 3) throw error;
      await new Promise((resolve) => setTimeout(resolve, attempt * 2000));
    }
  }
}

const manifest = await (await get(`${base}pnpm/${version}`)).json();
const { tarball, integrity } = manifest.dist;
const [algorithm, expected] = integrity.split('-', 2);
if (algorithm !== 'sha512') throw new Error(`unexpected integrity algorithm ${algorithm}`);
const bytes = Buffer.from(await (await get(tarball)).arrayBuffer());
const actual = createHash('sha512').update(bytes).digest('base64');
if (actual !== expected) throw new Error(`pnpm ${version}: integrity mismatch`);

mkdirSync(join(target, 'bin'), { recursive: true });
const archive = join(target, 'pnpm.tgz');
writeFileSync(archive, bytes);
execFileSync('tar', ['-xzf', archive, '-C', target, '--strip-components=1', '--no-same-owner']);
execFileSync('rm', ['-f', archive]);
// On PATH as `pnpm` once target/bin is.
symlinkSync('pnpm.cjs', join(target, 'bin', 'pnpm'));
console.log(`pnpm ${version} from ${tarball} (sha512 verified)`);
