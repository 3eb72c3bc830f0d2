import type { UngrantedNames } from '@wi/identities';

export interface IdentityReportOptions {
  /** The service's name in the declaration (infra/identities.json). */
  service: string;
  /**
   * The declaration, relative to the working directory: the repository root under pnpm dev and
   * the tests, /app in the image (the Dockerfile copies infra/identities.json there).
   */
  declarationFile?: string;
}

export const IDENTITY_REPORT_OPTIONS = Symbol('IDENTITY_REPORT_OPTIONS');
/** The declared names this service's roles do not reach (UngrantedNames), read at start-up. */
export const UNGRANTED_NAMES = Symbol('UNGRANTED_NAMES');
export type { UngrantedNames };
