#!/usr/bin/env node
// Runs pnpm from a root script without needing `pnpm` on PATH. `corepack pnpm dev` and
// `npx pnpm@10 dev` start the script with pnpm's own entry point in npm_execpath but (corepack)
// without a `pnpm` command to call, so a script that says `pnpm build` fails there. This calls
// the same pnpm, with the same Node, that is running the script.
//
//   node scripts/pnpm.mjs -r run build
import { spawnSync } from 'node:child_process';
import { basename } from 'node:path';

const execPath = process.env.npm_execpath;
const isPnpm = execPath !== undefined && /^pnpm(\.c?js)?$/.test(basename(execPath));
const [command, args] = isPnpm
  ? [process.execPath, [execPath, ...process.argv.slice(2)]]
  : ['pnpm', process.argv.slice(2)];
const result = spawnSync(command, args, { stdio: 'inherit' });
if (result.error) {
  console.error(
    `scripts/pnpm.mjs: cannot run pnpm (${result.error.message}); start this through pnpm, e.g. npx pnpm@10 ${process.env.npm_lifecycle_event ?? 'run <script>'}`,
  );
  process.exit(1);
}
process.exit(result.status ?? 1);
