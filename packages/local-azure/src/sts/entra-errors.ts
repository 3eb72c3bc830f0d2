import { randomUUID } from 'node:crypto';

/** An Entra token endpoint error: the HTTP status, OAuth error and AADSTS code real Entra answers. */
export interface EntraError {
  status: number;
  error:
    | 'invalid_client'
    | 'invalid_request'
    | 'unauthorized_client'
    | 'invalid_tenant'
    | 'invalid_scope'
    | 'invalid_grant'
    | 'invalid_resource'
    | 'unsupported_grant_type'
    | 'temporarily_unavailable';
  code: number;
  description: string;
}

/** The body Entra sends, with its trace/correlation ids and timestamp in the description. */
export function entraErrorBody(failure: EntraError, now = new Date()) {
  const timestamp = now
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
  const traceId = randomUUID();
  const correlationId = randomUUID();
  return {
    error: failure.error,
    error_description: `AADSTS${failure.code}: ${failure.description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [failure.code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${failure.code}`,
  };
}

const CHECK_FIC =
  'Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation';

export const entraErrors = {
  issuerMismatch: (issuer: string): EntraError => ({
    status: 401,
    error: 'invalid_client',
    code: 700211,
    description: `No matching federated identity record found for presented assertion issuer '${issuer}'. ${CHECK_FIC}`,
  }),
  audienceMismatch: (audience: string): EntraError => ({
    status: 401,
    error: 'invalid_client',
    code: 700212,
    description: `No matching federated identity record found for presented assertion audience '${audience}'. ${CHECK_FIC}`,
  }),
  subjectMismatch: (subject: string): EntraError => ({
    status: 401,
    error: 'invalid_client',
    code: 700213,
    description: `No matching federated identity record found for presented assertion subject '${subject}'. ${CHECK_FIC}`,
  }),
  assertionExpired: (now: Date, nbf: number, exp: number): EntraError => ({
    status: 401,
    error: 'invalid_client',
    code: 700024,
    description: `Client assertion is not within its valid time range. Current time: ${now.toISOString()}, assertion valid from ${new Date(nbf * 1000).toISOString()}, expiry time of assertion ${new Date(exp * 1000).toISOString()}. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .`,
  }),
  signingKeyNotFound: (kid: string, issuer: string): EntraError => ({
    status: 401,
    error: 'invalid_client',
    code: 7000272,
    description: `The certificate with identifier ${kid} used to sign the federated credential could not be found in the metadata of identity provider ${issuer}. Please validate that your Identity Provider's metadata exposes the key used to sign the incoming token.`,
  }),
  unknownClient: (clientId: string, tenantId: string): EntraError => ({
    status: 400,
    error: 'unauthorized_client',
    code: 700016,
    description: `Application with identifier '${clientId}' was not found in the directory '${tenantId}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
  }),
  unknownTenant: (tenant: string): EntraError => ({
    status: 400,
    error: 'invalid_tenant',
    code: 90002,
    description: `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
  }),
  invalidRequest: (what: string): EntraError => ({
    status: 400,
    error: 'invalid_request',
    code: 900144,
    description: `The request body must contain the following parameter: '${what}'.`,
  }),
  malformedAssertion: (): EntraError => ({
    status: 401,
    error: 'invalid_client',
    code: 50027,
    description: 'JWT token is invalid or malformed.',
  }),
  invalidScope: (scope: string): EntraError => ({
    status: 400,
    error: 'invalid_scope',
    code: 1002012,
    description: `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
  }),
  subjectCaseMismatch: (subject: string): EntraError => ({
    status: 401,
    error: 'invalid_client',
    code: 7002138,
    description: `No matching federated identity record found for presented assertion subject '${subject}'. The subject matches with case-insensitive comparison, but not with case-sensitive comparison. ${CHECK_FIC} See breaking change notification and remediation at: https://learn.microsoft.com/en-us/entra/identity-platform/reference-breaking-changes#august-2024.`,
  }),
  unsupportedGrantType: (grantType: string): EntraError => ({
    status: 400,
    error: 'unsupported_grant_type',
    code: 70003,
    description: `The app requested an unsupported grant type '${grantType}'. This token endpoint accepts only client_credentials with a federated client assertion.`,
  }),
  missingClientCredential: (): EntraError => ({
    status: 401,
    error: 'invalid_client',
    code: 7000218,
    description:
      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
  }),
  // The local tenant's app registrations have no secrets (the reference's rule), so every secret is wrong.
  invalidClientSecret: (clientId: string): EntraError => ({
    status: 401,
    error: 'invalid_client',
    code: 7000215,
    description: `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
  }),
  resourceNotFound: (resource: string, tenantId: string): EntraError => ({
    status: 400,
    error: 'invalid_resource',
    code: 500011,
    description: `The resource principal named ${resource} was not found in the tenant named ${tenantId}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
  }),
  // Entra's answer when the API's service principal has appRoleAssignmentRequired=true (the
  // deployment sets it) and the caller holds none of its app roles.
  notAssignedToRole: (clientId: string, apiAppId: string): EntraError => ({
    status: 400,
    error: 'invalid_grant',
    code: 501051,
    description: `Application '${clientId}' is not assigned to a role for the application '${apiAppId}'.`,
  }),
  malformedRequest: (): EntraError => ({
    status: 400,
    error: 'invalid_request',
    code: 9002313,
    description: 'Invalid request. Request is malformed or invalid.',
  }),
  internal: (): EntraError => ({
    status: 500,
    error: 'temporarily_unavailable',
    code: 90033,
    description: 'A transient error has occurred. Please try again.',
  }),
  // AADSTS50166 rather than AADSTS90061: 50166 is what Entra answered in every recent report of
  // an unreachable issuer (2022-11 to 2023-10, workload identity issues); 90061 appears only in
  // 2022 samples and the older troubleshooting page. Both are 400 invalid_request.
  issuerUnreachable: (issuer: string, reason: string): EntraError => ({
    status: 400,
    error: 'invalid_request',
    code: 50166,
    description: `Request to External OIDC endpoint failed. (Issuer '${issuer}': ${reason}.)`,
  }),
};
