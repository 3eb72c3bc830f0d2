import { Inject, Injectable } from '@nestjs/common';
import type { DocumentListResponse, DocumentView, IdentityReport } from '@wi/contracts';
import { FRONTEND_CONFIG, type FrontendConfig } from '../config/frontend-config.js';

/** The report runs live probes, each allowed up to 10 s (a token exchange that hangs, say). */
const IDENTITY_TIMEOUT_MS = 15_000;

export class BackendUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BackendUnavailableError';
  }
}

/**
 * The backend's document API, inside the cluster over plain HTTP (NetworkPolicy allows only
 * frontend → backend). The request id travels along so both services' logs line up.
 */
@Injectable()
export class BackendClient {
  constructor(@Inject(FRONTEND_CONFIG) private readonly config: FrontendConfig) {}

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

  /** The backend's identity report; the backend is not reachable from outside the cluster. */
  async identity(requestId?: string): Promise<IdentityReport> {
    const response = await this.call('/identity', requestId, IDENTITY_TIMEOUT_MS);
    if (!response.ok) throw await this.unexpected(response);
    return (await response.json()) as IdentityReport;
  }

  private async call(
    path: string,
    requestId?: string,
    timeoutMs = this.config.backendTimeoutMs,
  ): Promise<Response> {
    try {
      return await fetch(`${this.config.backendUrl}${path}`, {
        headers: {
          accept: 'application/json',
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
    return new BackendUnavailableError(`backend answered ${response.status}: ${body}`);
  }
}
