/** A browser-less client of the frontend: fetches the page for its CSRF cookie and token, then uploads. */
export class FrontendClient {
  private cookie = '';
  private token = '';

  constructor(readonly baseUrl: string) {}

  async openPage(path = '/'): Promise<string> {
    const response = await fetch(new URL(path, this.baseUrl));
    const html = await response.text();
    const setCookie = response.headers.getSetCookie().find((c) => c.startsWith('csrf='));
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
}
