/**
 * One line for logs and health reports: Azure's own error code first (AADSTS700213,
 * AuthorizationPermissionMismatch, Forbidden, UnauthorizedAccess, ...), then its message, never
 * a token or a request body. Branches on typed fields, not on message text, except for the
 * AADSTS code, which Entra only reports inside the message.
 */
export function describeAzureError(error: unknown): string {
  error = lastAttempt(error);
  if (!(error instanceof Error)) return String(error);
  const fields = error as Error & {
    code?: unknown;
    statusCode?: unknown;
    errorResponse?: { error?: string };
  };
  const aadsts = /AADSTS\d+/.exec(error.message)?.[0];
  const code = aadsts ?? (typeof fields.code === 'string' ? fields.code : undefined);
  const status = typeof fields.statusCode === 'number' ? `HTTP ${fields.statusCode}` : undefined;
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
