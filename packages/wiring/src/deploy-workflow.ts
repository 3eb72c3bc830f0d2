import { parse } from 'yaml';

/**
 * The deploy pipeline held against the declaration's deploy identities (infra/identities.json,
 * deployIdentities): a GitHub Actions workflow that signs in to Azure must do it by OIDC federation
 * as a declared identity, from the GitHub environment its federated credential trusts
 * (repo:<owner>/<name>:environment:<environment>), and hold no secret. Structural types only, so
 * this package does not depend on where the declaration's loader lives.
 */
export interface DeclaredDeployIdentity {
  name: string;
  managedIdentityName: string;
  federatedCredential: { environment: string; audiences: readonly string[] };
}

type Step = { uses?: string; with?: Record<string, unknown> };
type Job = {
  environment?: string | { name?: string };
  permissions?: string | Record<string, string>;
  steps?: Step[];
};
type Workflow = {
  on?: unknown;
  permissions?: string | Record<string, string>;
  jobs?: Record<string, Job>;
};

const AZURE_LOGIN = /^azure\/login@/i;
// Triggers whose token subject is not an environment's (a pull request's is
// repo:<owner>/<name>:pull_request): Entra would answer AADSTS700213, and pull_request_target
// runs a fork's change with the base repository's rights.
const UNTRUSTED_TRIGGERS = ['pull_request', 'pull_request_target'];

function triggers(on: unknown): string[] {
  if (typeof on === 'string') return [on];
  if (Array.isArray(on)) return on.map(String);
  if (on && typeof on === 'object') return Object.keys(on);
  return [];
}

const grantsIdToken = (permissions: Job['permissions']) =>
  permissions === 'write-all' ||
  (typeof permissions === 'object' && permissions['id-token'] === 'write');

/** What is wrong with a deploy workflow (empty: nothing), each problem in one line. */
export function deployWorkflowProblems(
  text: string,
  identities: readonly DeclaredDeployIdentity[],
  file = '.github/workflows/deploy.yml',
): string[] {
  const problems: string[] = [];
  const workflow = (parse(text) ?? {}) as Workflow;
  // A secret is never needed: the sign-in is federated and every other input is a variable.
  for (const match of text.matchAll(/\$\{\{\s*secrets\.([\w-]+)/g)) {
    problems.push(`${file}: uses the secret ${match[1]}; a federated deploy needs none`);
  }
  if (grantsIdToken(workflow.permissions)) {
    problems.push(`${file}: id-token: write for every job; grant it to the deploy job only`);
  }
  const untrusted = triggers(workflow.on).filter((t) => UNTRUSTED_TRIGGERS.includes(t));
  const environments = new Map(identities.map((i) => [i.federatedCredential.environment, i]));
  let signIns = 0;
  for (const [name, job] of Object.entries(workflow.jobs ?? {})) {
    const logins = (job.steps ?? []).filter((step) => AZURE_LOGIN.test(step.uses ?? ''));
    if (logins.length === 0) continue;
    signIns += logins.length;
    const where = `${file}: job ${name}`;
    const environment =
      typeof job.environment === 'string' ? job.environment : job.environment?.name;
    const identity = environment === undefined ? undefined : environments.get(environment);
    if (!identity) {
      problems.push(
        `${where}: environment ${environment ?? '(none)'}, but the deploy identities trust ${[...environments.keys()].join(', ') || 'no environment'} (AADSTS700213)`,
      );
    }
    if (!grantsIdToken(job.permissions)) {
      problems.push(`${where}: lacks permissions id-token: write (azure/login cannot get a token)`);
    }
    for (const trigger of untrusted) {
      problems.push(`${where}: runs on ${trigger}, whose token subject no credential trusts`);
    }
    for (const login of logins) {
      const inputs = login.with ?? {};
      for (const forbidden of ['creds', 'client-secret']) {
        if (forbidden in inputs) problems.push(`${where}: azure/login with ${forbidden}`);
      }
      if (!/^\$\{\{\s*vars\.AZURE_CLIENT_ID\s*\}\}$/.test(String(inputs['client-id'] ?? ''))) {
        problems.push(
          `${where}: azure/login client-id ${String(inputs['client-id'] ?? '(none)')}, want \${{ vars.AZURE_CLIENT_ID }} (the deployClientId output)`,
        );
      }
      const audience = inputs.audience === undefined ? undefined : String(inputs.audience);
      if (identity && audience && !identity.federatedCredential.audiences.includes(audience)) {
        problems.push(`${where}: audience ${audience} is not the credential's (AADSTS700212)`);
      }
    }
  }
  if (signIns === 0) problems.push(`${file}: no azure/login step`);
  return problems;
}
