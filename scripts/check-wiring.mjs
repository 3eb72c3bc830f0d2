#!/usr/bin/env node
// `pnpm check:wiring`: does every identity in infra/identities.json reach its pods through the
// Kustomize output? Prints each link with ✓ or ✗ and, for a ✗, what was found and the fix.
// The logic lives in @wi/wiring (packages/wiring), shared with the tests under test/k8s.
import { fileURLToPath } from 'node:url';
import { runWiringCli } from '@wi/wiring';

const root = fileURLToPath(new URL('..', import.meta.url));
process.exitCode = await runWiringCli(process.argv.slice(2), { root });
