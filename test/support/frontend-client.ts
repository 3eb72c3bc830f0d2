import type { DocumentView } from '@wi/contracts';
import { poll } from './local-stack.js';

/** A browser-less client of the frontend: fetches the page for its CSRF cookie and token, then uploads. */
export class FrontendClient {
  private cookie = '';
  private token = '';

  constructor(readonly baseUrl: string) {}

  async openPage(path = '/'): Promise<string> {
    const response = await fetch(new URL(path, this.baseUrl));
    const html = await response.text();
    const setCookie = response.headers.getSetCookie().find((c) => /^(__Host-)?csrf=/.test(c));
    if (setCookie) this.cookie = setCookie.split(';')[0]!;
    const token = /name="_csrf"\s+value="([^"]+)"/.exec(html)?.[1];
    if (token) this.token = token;
    return html;
  }

  async upload(
    file: { name: string; type: string; content: Uint8Array | string },
    options: { csrf?: boolean; accept?: string } = {},
  ): Promise<Response> {
    const form = new FormData();
    if (options.csrf !== false) form.append('_csrf', this.token);
    const bytes =
      typeof file.content === 'string' ? new TextEncoder().encode(file.content) : file.content;
    form.append('file', new Blob([bytes], { type: file.type }), file.name);
    return fetch(new URL('/uploads', this.baseUrl), {
      method: 'POST',
      body: form,
      redirect: 'manual',
      headers: {
        accept: options.accept ?? 'application/json',
        ...(options.csrf !== false ? { cookie: this.cookie } : {}),
      },
    });
  }

  /** Uploads a text file (opening the page first for its CSRF token) and returns its id. */
  async uploadText(name: string, content: string): Promise<string> {
    if (!this.token) await this.openPage();
    const response = await this.upload({ name, type: 'text/plain', content });
    if (response.status !== 202) {
      throw new Error(`upload of ${name}: ${response.status} ${await response.text()}`);
    }
    return ((await response.json()) as { id: string }).id;
  }

  /** Polls the frontend's document API until the upload is processed. */
  async processed(id: string, timeoutMs = 20_000): Promise<DocumentView> {
    return poll(
      async () => {
        const response = await fetch(new URL(`/api/documents/${id}`, this.baseUrl));
        return response.status === 200 ? ((await response.json()) as DocumentView) : undefined;
      },
      timeoutMs,
      50,
    );
  }
}
