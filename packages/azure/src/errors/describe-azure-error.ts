/**
 * One line for logs and health reports: Azure's own error code first (AADSTS700213,
 * AuthorizationPermissionMismatch, Forbidden, UnauthorizedAccess, ...), then its message, never
 * a token or a request body. The code comes from typed fields: the credential's
 * errorResponse.errorCodes (Entra's error_codes), RestError's and ServiceBusError's code, the
 * HTTP status (Cosmos DB's numeric code). Only when Entra's numbers are not in a typed field (an
 * error MSAL reports as text) is the AADSTS code read from the message.
 */
export function describeAzureError(error: unknown): string {
  error = lastAttempt(error);
  if (!(error instanceof Error)) return String(error);
  const fields = error as Error & {
    code?: unknown;
    statusCode?: unknown;
    errorResponse?: { errorCodes?: unknown };
  };
  const entraCodes = fields.errorResponse?.errorCodes;
  const entra =
    Array.isArray(entraCodes) && typeof entraCodes[0] === 'number'
      ? `AADSTS${entraCodes[0]}`
      : /AADSTS\d+/.exec(error.message)?.[0];
  const code = entra ?? (typeof fields.code === 'string' ? fields.code : undefined);
  const statusCode = typeof fields.statusCode === 'number' ? fields.statusCode : fields.code;
  const status = typeof statusCode === 'number' ? `HTTP ${statusCode}` : undefined;
  const message = firstLine(error.message);
  return [code, status].filter(Boolean).join(' ') + (code || status ? ': ' : '') + message;
}

function firstLine(text: string): string {
  const line = text.split(/\r?\n/).find((l) => l.trim() !== '') ?? text;
  return line.length > 400 ? `${line.slice(0, 400)}…` : line;
}

/**
 * The Service Bus SDK retries link creation and then throws an AggregateError with an empty
 * message holding every attempt's error; DefaultAzureCredential throws an
 * AggregateAuthenticationError ("ChainedTokenCredential authentication failed.") holding each
 * credential's error. The last one is the one to report.
 */
export function lastAttempt(error: unknown): unknown {
  for (;;) {
    const errors = (error as { errors?: unknown } | null)?.errors;
    if (!Array.isArray(errors) || errors.length === 0) return error;
    error = errors.at(-1);
  }
}
