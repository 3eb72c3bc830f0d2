#!/usr/bin/env node
// Questions scripts ask the declaration, answered by the same loader everything else uses (so no
// script greps the JSON). Prints one answer per line; exits 1 with one line if the file is invalid.
//
//   node packages/identities/dist/cli.js <command> [--file infra/identities.json]
//     check              validates the file
//     schema             the JSON Schema (infra/identities.schema.json)
//     services           the services that run as workloads (no optional feature), one a line
//     secrets            the Key Vault secrets the deployment creates
//     env <service>      NAME=value for each resource name the service uses
//     grants             the APIs' app roles and who may call them, tab-separated:
//                          api <service> <role id> <role value> <description>
//                          call <caller> <caller's managed identity> <callee> <app role>
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import {
  IdentitiesFileError,
  identitiesJsonSchema,
  identitiesWith,
  loadIdentities,
} from './declaration.js';
import { usedResourceName } from './used-resources.js';

const DEFAULT_FILE = fileURLToPath(new URL('../../../infra/identities.json', import.meta.url));

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { file: { type: 'string', default: DEFAULT_FILE } },
  });
  const [command, argument] = positionals;
  if (command === 'schema') return print(JSON.stringify(identitiesJsonSchema(), null, 2));
  const file = await loadIdentities(values.file);
  switch (command) {
    case 'check':
      return print(`${values.file}: ok`);
    case 'services':
      return print(...identitiesWith(file).identities.map((identity) => identity.service));
    case 'secrets':
      return print(...file.resources.keyVault.secrets);
    case 'env': {
      const identity = file.identities.find((candidate) => candidate.service === argument);
      if (!identity) return fail(`no service '${argument ?? ''}' in ${values.file}`);
      return print(
        ...Object.entries(identity.uses ?? {}).map(
          ([variable, used]) => `${variable}=${usedResourceName(used)}`,
        ),
      );
    }
    case 'grants': {
      const { identities } = identitiesWith(file);
      return print(
        ...identities.flatMap((identity) =>
          (identity.api?.appRoles ?? []).map((role) =>
            ['api', identity.service, role.id, role.value, role.description].join('\t'),
          ),
        ),
        ...identities.flatMap((identity) =>
          (identity.calls ?? []).map((call) =>
            [
              'call',
              identity.service,
              identity.managedIdentityName,
              call.service,
              call.appRole,
            ].join('\t'),
          ),
        ),
      );
    }
    default:
      return fail(
        'usage: cli.js check|schema|services|secrets|env <service>|grants [--file FILE]',
        2,
      );
  }
}

function print(...lines: string[]): number {
  if (lines.length > 0) process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

function fail(message: string, code = 1): number {
  process.stderr.write(`${message}\n`);
  return code;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (
      error instanceof IdentitiesFileError ||
      (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      process.exit(fail((error as Error).message, 2));
    }
    throw error;
  },
);
