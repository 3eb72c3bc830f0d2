import type { ProbeExpectation, ProbeResource } from './permission-probe.js';

/** GET /identity of each service: who it is, what it got, and what it can and cannot reach. */
export interface IdentityReport {
  service: string;
  generatedAt: string;
  /** What the workload identity webhook injected (never the token itself). */
  workloadIdentity: {
    clientId?: string;
    tenantId?: string;
    authorityHost?: string;
    tokenFile?: string;
    /** Claims of the projected service account token: the client assertion Entra checks. */
    serviceAccountToken?: {
      iss?: string;
      sub?: string;
      aud?: unknown;
      exp?: number;
      expiresOn?: string;
    };
    serviceAccountTokenError?: string;
  };
  tokens: IdentityToken[];
  probes: IdentityProbe[];
}

export interface IdentityToken {
  scope: string;
  credential?: string;
  acquiredAt?: string;
  expiresOn?: string;
  claims?: Record<string, unknown>;
  lastError?: { at: string; message: string };
  exchanges: number;
}

export interface IdentityProbe {
  resource: ProbeResource;
  /** e.g. "read secret backend-signing-key". */
  action: string;
  /** The data action Azure checks, e.g. Microsoft.KeyVault/vaults/secrets/getSecret/action (for `api`: the app role). */
  dataAction: string;
  scope: string;
  expected: ProbeExpectation;
  outcome: 'allowed' | 'denied' | 'error';
  /** The probe matches what least privilege says it should be. */
  ok: boolean;
  durationMs: number;
  error?: IdentityDiagnosis;
}

export interface IdentityDiagnosis {
  /** Azure's code: AADSTS700213, AuthorizationPermissionMismatch, Forbidden, ... */
  code: string;
  message: string;
  cause: string;
  fix: string;
}
