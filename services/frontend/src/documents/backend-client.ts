import type { TokenCredential } from '@azure/core-auth';
import { Inject, Injectable } from '@nestjs/common';
import { AZURE_CREDENTIAL, describeAzureError } from '@wi/azure';
import type { DocumentListResponse, DocumentView } from '@wi/contracts';
import type { IdentityReport } from '@wi/contracts'; // [showcase]
import { FRONTEND_CONFIG, type FrontendConfig } from '../config/frontend-config.js';

/** The report runs live probes, each allowed up to 10 s (a token exchange that hangs, say). */
const IDENTITY_TIMEOUT_MS = 15_000; // [showcase]

export class BackendUnavailableError extends Error {
  /** The backend's answer, when it answered (401, 403, 503, ...). */
  readonly statusCode?: number;

  constructor(message: string, options?: ErrorOptions & { statusCode?: number }) {
    super(message, options);
    this.name = 'BackendUnavailableError';
    this.statusCode = options?.statusCode;
  }
}

// [showcase] begin: the Identity page's calls (docs/forking.md, "Remove the showcase")
/** Who the backend saw calling: GET /identity/caller. */
export interface BackendCaller {
  clientId: string;
  roles: string[];
}
// [showcase] end

/**
 * The backend's document API, inside the cluster. Every call carries an Entra access token for
 * the backend's app registration (BACKEND_API_SCOPE), from the process's one credential: the
 * backend verifies it and its app role; NetworkPolicy (only frontend → backend) is the second
 * layer. The request id travels along so both services' logs line up.
 */
@Injectable()
export class BackendClient {
  constructor(
    @Inject(FRONTEND_CONFIG) private readonly config: FrontendConfig,
    @Inject(AZURE_CREDENTIAL) private readonly credential: TokenCredential,
  ) {}

  async list(requestId?: string): Promise<DocumentListResponse> {
    const response = await this.call('/documents', requestId);
    if (!response.ok) throw await this.unexpected(response);
    return (await response.json()) as DocumentListResponse;
  }

  /** Undefined when the backend has no record (yet): the worker may still be on it. */
  async get(id: string, requestId?: string): Promise<DocumentView | undefined> {
    const response = await this.call(`/documents/${encodeURIComponent(id)}`, requestId);
    if (response.status === 404) {
      await response.body?.cancel();
      return undefined;
    }
    if (!response.ok) throw await this.unexpected(response);
    return (await response.json()) as DocumentView;
  }

  // [showcase] begin
  /** The backend's identity report; the backend is not reachable from outside the cluster. */
  async identity(requestId?: string): Promise<IdentityReport> {
    const response = await this.call('/identity', requestId, IDENTITY_TIMEOUT_MS);
    if (!response.ok) throw await this.unexpected(response);
    return (await response.json()) as IdentityReport;
  }

  /** The service-to-service hop as the backend sees it, for the Identity page's probe. */
  async caller(requestId?: string): Promise<BackendCaller> {
    const response = await this.call('/identity/caller', requestId);
    if (!response.ok) throw await this.unexpected(response);
    return (await response.json()) as BackendCaller;
  }
  // [showcase] end

  private async call(
    path: string,
    requestId?: string,
    timeoutMs = this.config.backendTimeoutMs,
  ): Promise<Response> {
    let token: string;
    try {
      // Cached and shared by SingleFlightCredential: one exchange per token lifetime.
      const accessToken = await this.credential.getToken(this.config.backendApiScope);
      if (!accessToken) throw new Error('the credential returned no token');
      token = accessToken.token;
    } catch (error) {
      throw new BackendUnavailableError(
        `no token for ${this.config.backendApiScope}: ${describeAzureError(error)}`,
        { cause: error },
      );
    }
    try {
      return await fetch(`${this.config.backendUrl}${path}`, {
        headers: {
          accept: 'application/json',
          authorization: `Bearer ${token}`,
          ...(requestId ? { 'x-request-id': requestId } : {}),
        },
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const reason =
        error instanceof Error && error.name === 'TimeoutError'
          ? `no answer in ${timeoutMs} ms`
          : String((error as Error).cause ?? error);
      throw new BackendUnavailableError(`backend ${path}: ${reason}`, { cause: error });
    }
  }

  private async unexpected(response: Response): Promise<BackendUnavailableError> {
    const body = (await response.text()).slice(0, 300);
    return new BackendUnavailableError(`backend answered ${response.status}: ${body}`, {
      statusCode: response.status,
    });
  }
}
