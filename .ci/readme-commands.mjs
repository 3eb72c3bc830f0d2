#!/usr/bin/env node
// Prints one of the README's quickstart commands, exactly as written there, so that CI runs what
// a newcomer copies and cannot drift from it. The Quickstart section's first `sh` block is the
// start command (`<install> && <dev>`); its second is the test command.
//
//   node .ci/readme-commands.mjs start|install|dev|test
import { readFileSync } from 'node:fs';

export function quickstartCommands(readme) {
  const section = /^## Quickstart\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1];
  if (!section) throw new Error('README.md has no "## Quickstart" section');
  const blocks = [...section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1].trim());
  if (blocks.length < 2) throw new Error('README.md Quickstart: expected two ```sh blocks');
  const [start, test] = blocks;
  const parts = start.split(/\s+&&\s+/);
  if (parts.length !== 2 || start.includes('\n') || test.includes('\n')) {
    throw new Error('README.md Quickstart: expected `<install> && <dev>`, then one test command');
  }
  return { start, install: parts[0], dev: parts[1], test };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const which = process.argv[2];
  const commands = quickstartCommands(
    readFileSync(new URL('../README.md', import.meta.url), 'utf8'),
  );
  if (!(which in commands)) {
    console.error(`usage: readme-commands.mjs ${Object.keys(commands).join('|')}`);
    process.exit(2);
  }
  process.stdout.write(`${commands[which]}\n`);
}
