/** What a data plane's authorization check answers; a denial carries the message Azure would show. */
export type AuthorizationDecision = { allowed: true } | { allowed: false; message: string };
