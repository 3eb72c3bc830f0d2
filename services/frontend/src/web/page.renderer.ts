import { Inject, Injectable, Logger } from '@nestjs/common';
import type { DocumentView } from '@wi/contracts';
import type { Request, Response } from 'express';
import { FRONTEND_CONFIG, type FrontendConfig } from '../config/frontend-config.js';
import { BackendClient, BackendUnavailableError } from '../documents/backend-client.js';
import { CSRF_FIELD, csrfCookieName, issueCsrf } from '../session/csrf-tokens.js';
import { SessionKeyService } from '../session/session-key.service.js';
import { formatBytes } from './format.js';
import { html, type SafeHtml } from './html.js';
import { APP_NAME, layout } from './layout.js';

export interface PageState {
  /** Set after a form upload: shown as queued until the backend has the record. */
  uploaded?: string;
  error?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The whole page, server-rendered: it works without JavaScript; app.js only adds live status. */
@Injectable()
export class PageRenderer {
  private readonly logger = new Logger(PageRenderer.name);

  constructor(
    private readonly backend: BackendClient,
    private readonly sessionKeys: SessionKeyService,
    @Inject(FRONTEND_CONFIG) private readonly config: FrontendConfig,
  ) {}

  async render(request: Request, response: Response, state: PageState): Promise<string> {
    const cookieName = csrfCookieName(this.config.cookieSecure);
    const csrf = issueCsrf(
      await this.sessionKeys.current(),
      (request.cookies as Record<string, string>)[cookieName],
    );
    response.cookie(cookieName, csrf.cookie, {
      httpOnly: true,
      sameSite: 'strict',
      secure: this.config.cookieSecure,
      path: '/',
    });

    let documents: DocumentView[] | undefined;
    try {
      documents = (await this.backend.list(String(request.id))).items;
    } catch (error) {
      if (!(error instanceof BackendUnavailableError)) throw error;
      this.logger.warn({ err: error.message }, 'rendering the page without the document list');
    }
    const uploaded = state.uploaded && UUID.test(state.uploaded) ? state.uploaded : undefined;
    const pending = uploaded && !documents?.some((d) => d.id === uploaded) ? uploaded : undefined;
    const accept = [...this.config.allowedContentTypes].join(',');

    return layout(
      'documents',
      APP_NAME,
      html`<p>
        Files go to Blob Storage and a message to Service Bus; the backend records them in Cosmos
        DB. Every call is authenticated by Microsoft Entra Workload ID: no keys, no connection
        strings.
      </p>`,
      html` ${state.error ? html`<p class="notice error" role="alert">${state.error}</p>` : ''}
        ${uploaded ? html`<p class="notice ok" role="status">Uploaded. It is listed below as soon as the backend has processed it.</p>` : ''}
        <section aria-labelledby="upload-heading">
          <h2 id="upload-heading">Upload a file</h2>
          <form id="upload-form" method="post" action="/uploads" enctype="multipart/form-data">
            <input type="hidden" name="${CSRF_FIELD}" value="${csrf.token}" />
            <label for="file">File</label>
            <input id="file" type="file" name="file" required accept="${accept}" />
            <p class="hint">
              Up to ${formatBytes(this.config.maxUploadBytes)}:
              ${[...this.config.allowedContentTypes].join(', ')}.
            </p>
            <button type="submit">Upload</button>
            <p id="upload-status" class="hint" role="status" aria-live="polite"></p>
          </form>
        </section>
        <section aria-labelledby="documents-heading">
          <h2 id="documents-heading">Documents</h2>
          ${documents === undefined ? html`<p class="notice error" role="alert">The document list is unavailable right now; uploads still work.</p>` : ''}
          <table id="documents" ${documents?.length || pending ? '' : html` hidden`}>
            <thead>
              <tr>
                <th scope="col">File</th>
                <th scope="col">Type</th>
                <th scope="col">Size</th>
                <th scope="col">SHA-256</th>
                <th scope="col">Lines</th>
                <th scope="col">Words</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              ${pending ? queuedRow(pending) : ''} ${(documents ?? []).map(documentRow)}
            </tbody>
          </table>
          <p id="no-documents" class="hint" ${documents?.length || pending ? html` hidden` : ''}>
            No documents yet.
          </p>
        </section>`,
    );
  }
}

function documentRow(d: DocumentView): SafeHtml {
  return html`<tr data-id="${d.id}" data-status="processed">
    <td>${d.fileName}</td>
    <td>${d.contentType}</td>
    <td>${formatBytes(d.size)}</td>
    <td><code title="${d.sha256}">${d.sha256.slice(0, 12)}…</code></td>
    <td>${d.lineCount ?? '–'}</td>
    <td>${d.wordCount ?? '–'}</td>
    <td><span class="status processed">processed</span></td>
  </tr>`;
}

function queuedRow(id: string): SafeHtml {
  return html`<tr data-id="${id}" data-status="queued">
    <td colspan="6">${id}</td>
    <td><span class="status queued">queued</span></td>
  </tr>`;
}
