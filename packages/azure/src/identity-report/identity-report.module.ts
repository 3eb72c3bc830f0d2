import { resolve } from 'node:path';
import { type DynamicModule, Module } from '@nestjs/common';
import { loadIdentities, ungrantedNames } from '@wi/identities';
import { AZURE_CREDENTIAL_DECORATOR } from '../tokens.js';
import { DeclaredDenials } from './declared-denials.js';
import {
  IDENTITY_REPORT_OPTIONS,
  type IdentityReportOptions,
  UNGRANTED_NAMES,
} from './identity-report.options.js';
import { IdentityReporter } from './identity-reporter.js';
import { TokenRecorder } from './token-recorder.js';

/**
 * The showcase's engine: the Identity report of one service (IdentityReporter), the token
 * records it shows (TokenRecorder, which the token cache picks up as its credential decorator)
 * and the denied probes the declaration implies (DeclaredDenials). A service's own identity
 * module imports it with its name and adds its controller; removing that module removes the
 * showcase (docs/forking.md, "Remove the showcase").
 *
 * Global because AzureModule's credential factory looks for AZURE_CREDENTIAL_DECORATOR: a
 * global module's exports are what every module, AzureModule included, can inject.
 */
@Module({})
export class IdentityReportModule {
  static forRoot(options: IdentityReportOptions): DynamicModule {
    const declarationFile = resolve(options.declarationFile ?? 'infra/identities.json');
    return {
      module: IdentityReportModule,
      global: true,
      providers: [
        { provide: IDENTITY_REPORT_OPTIONS, useValue: options },
        // Read once at start-up: an image without the declaration fails to start, naming the path.
        {
          provide: UNGRANTED_NAMES,
          useFactory: async () =>
            ungrantedNames(await loadIdentities(declarationFile), options.service),
        },
        TokenRecorder,
        { provide: AZURE_CREDENTIAL_DECORATOR, useExisting: TokenRecorder },
        DeclaredDenials,
        IdentityReporter,
      ],
      exports: [AZURE_CREDENTIAL_DECORATOR, IdentityReporter],
    };
  }
}
