import { Controller, HttpStatus, Inject, Logger, Post, Req, Res } from '@nestjs/common';
import { describeAzureError } from '@wi/azure';
import type { Request, Response } from 'express';
import { FRONTEND_CONFIG, type FrontendConfig } from '../config/frontend-config.js';
import { csrfCookieName, verifyCsrf } from '../session/csrf-tokens.js';
import { SessionKeyService } from '../session/session-key.service.js';
import { PageRenderer } from '../web/page.renderer.js';
import { BlobUploadSink } from './blob-upload.sink.js';
import { DocumentAnnouncer } from './document-announcer.js';
import { uploadMetrics } from './upload-metrics.js';
import { UploadSlots } from './upload-slots.js';
import {
  drainRequest,
  receiveUpload,
  rejectFromHeaders,
  type UploadResult,
} from './receive-upload.js';

/** What a refused-for-load client is told to wait before trying again. */
const RETRY_AFTER_SECONDS = 5;

/**
 * POST /uploads: the form posts here with or without JavaScript. Browsers (Accept: text/html)
 * get a redirect back to the list, or the page with the error; scripts get JSON.
 */
@Controller('uploads')
export class UploadsController {
  private readonly logger = new Logger(UploadsController.name);

  constructor(
    private readonly sink: BlobUploadSink,
    private readonly announcer: DocumentAnnouncer,
    private readonly sessionKeys: SessionKeyService,
    private readonly pages: PageRenderer,
    private readonly slots: UploadSlots,
    @Inject(FRONTEND_CONFIG) private readonly config: FrontendConfig,
  ) {}

  @Post()
  async upload(@Req() request: Request, @Res() response: Response): Promise<void> {
    const release = this.slots.tryAcquire();
    if (!release) {
      // Drained, not read: a discarded body costs a socket buffer, not memory per byte.
      await drainRequest(request);
      response.setHeader('connection', 'close');
      response.setHeader('retry-after', String(RETRY_AFTER_SECONDS));
      this.logger.warn({ active: this.slots.active }, 'upload refused: every upload slot is busy');
      return this.reply(request, response, {
        ok: false,
        status: 503,
        message: `The service is busy with other uploads; try again in ${RETRY_AFTER_SECONDS} seconds.`,
        cause: undefined,
      });
    }
    try {
      await this.receive(request, response);
    } finally {
      release();
    }
  }

  private async receive(request: Request, response: Response): Promise<void> {
    const early = rejectFromHeaders(request.headers, this.config.maxUploadBytes);
    if (early) {
      await drainRequest(request);
      response.setHeader('connection', 'close');
      return this.reply(request, response, {
        ok: false,
        status: early.status,
        message: early.message,
      });
    }
    const cookie = (request.cookies as Record<string, string | undefined>)[
      csrfCookieName(this.config.cookieSecure)
    ];
    const result = await receiveUpload(request, this.sink, {
      maxBytes: this.config.maxUploadBytes,
      allowedContentTypes: this.config.allowedContentTypes,
      // Only key versions this pod holds: a forged cookie never makes it call Key Vault.
      verifyCsrf: (token) =>
        verifyCsrf(cookie, token, (version) => this.sessionKeys.knownVersion(version)),
    });
    if (!result.ok) {
      if (result.status === 503)
        this.logger.error(
          { err: describeAzureError(result.cause) },
          'upload to blob storage failed',
        );
      else this.logger.log({ status: result.status, reason: result.message }, 'upload refused');
      return this.reply(request, response, result);
    }

    try {
      await this.announcer.announce(result.upload, String(request.id ?? ''));
    } catch (error) {
      // Without its message the blob would never be processed: remove it and let the user retry.
      this.logger.error(
        { err: describeAzureError(error), documentId: result.upload.id },
        'sending document.uploaded failed',
      );
      await this.sink
        .discard(result.upload.id)
        .catch((cleanup: unknown) =>
          this.logger.error(
            { err: describeAzureError(cleanup), documentId: result.upload.id },
            'removing the unannounced blob failed',
          ),
        );
      return this.reply(request, response, {
        ok: false,
        status: 503,
        message: 'The upload could not be queued; try again shortly.',
        cause: error,
      });
    }
    uploadMetrics.received.add(1, { content_type: result.upload.contentType });
    uploadMetrics.bytes.record(result.upload.size, { content_type: result.upload.contentType });
    this.logger.log(
      {
        documentId: result.upload.id,
        size: result.upload.size,
        contentType: result.upload.contentType,
      },
      'document uploaded',
    );
    return this.reply(request, response, result);
  }

  private async reply(request: Request, response: Response, result: UploadResult): Promise<void> {
    const wantsHtml = request.accepts(['application/json', 'text/html']) === 'text/html';
    if (result.ok) {
      if (wantsHtml)
        return response.redirect(HttpStatus.SEE_OTHER, `/?uploaded=${result.upload.id}`);
      response.status(HttpStatus.ACCEPTED).json({ id: result.upload.id, status: 'queued' });
      return;
    }
    uploadMetrics.refused.add(1, { status: result.status });
    if (wantsHtml) {
      response
        .status(result.status)
        .type('html')
        .send(await this.pages.render(request, response, { error: result.message }));
      return;
    }
    response.status(result.status).json({ statusCode: result.status, message: result.message });
  }
}
