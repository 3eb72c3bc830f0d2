import { readFile } from 'node:fs/promises';
import { Inject, Injectable } from '@nestjs/common';
import type { IdentityProbe, IdentityReport } from '@wi/contracts';
import type { ProbeDefinition } from '../health/permission-probes.js';
import { DeclaredDenials } from './declared-denials.js';
import { diagnose, isAuthorizationDenial } from './diagnose.js';
import { IDENTITY_REPORT_OPTIONS, type IdentityReportOptions } from './identity-report.options.js';
import { jwtClaims } from './jwt-claims.js';
import { TokenRecorder } from './token-recorder.js';

const PROBE_TIMEOUT_MS = 10_000;
/**
 * A report is reused for this long after it was built, and only one is built at a time: each
 * report runs a probe per permission, several of them deliberate denials, so a page refreshed by
 * many (or by a script) must not multiply the calls to Entra and the data planes.
 */
export const REPORT_CACHE_MS = 15_000;

interface CachedReport {
  report: Promise<IdentityReport>;
  /** When the report was finished; undefined while it is being built. */
  finishedAt?: number;
}

/**
 * Builds GET /identity: what the webhook injected, the claims of the projected token, the tokens
 * the credential obtained per audience, and a live probe of each permission, including those the
 * service must NOT have (a 403 there is the proof of least privilege): the service's own list,
 * then one read of every declared name its roles do not reach (DeclaredDenials).
 */
@Injectable()
export class IdentityReporter {
  private cached?: CachedReport;
  /** For tests: the clock the cache reads. */
  now: () => number = () => Date.now();

  constructor(
    private readonly tokens: TokenRecorder,
    private readonly denials: DeclaredDenials,
    @Inject(IDENTITY_REPORT_OPTIONS) private readonly options: IdentityReportOptions,
  ) {}

  /**
   * The report (built at most once at a time, reused for REPORT_CACHE_MS). `definitions`, the
   * service's own probes, is only called when a new report is built.
   */
  report(definitions: () => ProbeDefinition[]): Promise<IdentityReport> {
    const cached = this.cached;
    if (
      cached &&
      (cached.finishedAt === undefined || this.now() - cached.finishedAt < REPORT_CACHE_MS)
    )
      return cached.report;
    const entry: CachedReport = {
      report: this.build([...definitions(), ...this.denials.probes()]),
    };
    this.cached = entry;
    entry.report.then(
      () => (entry.finishedAt = this.now()),
      () => {
        if (this.cached === entry) this.cached = undefined;
      },
    );
    return entry.report;
  }

  private async build(definitions: ProbeDefinition[]): Promise<IdentityReport> {
    const probeResults = await Promise.all(definitions.map((definition) => runProbe(definition)));
    return {
      service: this.options.service,
      generatedAt: new Date().toISOString(),
      workloadIdentity: await workloadIdentity(process.env),
      tokens: this.tokens.records(),
      probes: probeResults,
    };
  }
}

async function runProbe(definition: ProbeDefinition): Promise<IdentityProbe> {
  const { run, ...described } = definition;
  const started = performance.now();
  let outcome: IdentityProbe['outcome'];
  let error: unknown;
  try {
    await withTimeout(run(), PROBE_TIMEOUT_MS);
    outcome = 'allowed';
  } catch (caught) {
    error = caught;
    outcome = isAuthorizationDenial(caught) ? 'denied' : 'error';
  }
  return {
    ...described,
    outcome,
    ok: outcome === definition.expected,
    durationMs: Math.round(performance.now() - started),
    ...(error === undefined ? {} : { error: diagnose(error, definition.resource) }),
  };
}

async function workloadIdentity(
  env: NodeJS.ProcessEnv,
): Promise<IdentityReport['workloadIdentity']> {
  const result: IdentityReport['workloadIdentity'] = {
    clientId: env.AZURE_CLIENT_ID,
    tenantId: env.AZURE_TENANT_ID,
    authorityHost: env.AZURE_AUTHORITY_HOST,
    tokenFile: env.AZURE_FEDERATED_TOKEN_FILE,
  };
  if (!env.AZURE_FEDERATED_TOKEN_FILE)
    return { ...result, serviceAccountTokenError: 'AZURE_FEDERATED_TOKEN_FILE is not set' };
  try {
    const jwt = (await readFile(env.AZURE_FEDERATED_TOKEN_FILE, 'utf8')).trim();
    const claims = jwtClaims(jwt);
    const exp = typeof claims.exp === 'number' ? claims.exp : undefined;
    result.serviceAccountToken = {
      iss: claims.iss as string | undefined,
      sub: claims.sub as string | undefined,
      aud: claims.aud,
      exp,
      expiresOn: exp ? new Date(exp * 1000).toISOString() : undefined,
    };
  } catch (error) {
    result.serviceAccountTokenError = error instanceof Error ? error.message : String(error);
  }
  return result;
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
