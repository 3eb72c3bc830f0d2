import { html, type SafeHtml } from './html.js';

export type Page = 'documents' | 'identity';

/** The product's name: the home page's title, and the suffix of every other page's. */
export const APP_NAME = 'Document intake';

/** The navigation, in order: [page, path, label]. */
const NAVIGATION: ReadonlyArray<readonly [Page, string, string]> = [
  ['documents', '/', 'Documents'],
  ['identity', '/identity', 'Identity'], // [showcase] (docs/forking.md)
];

/** The frame every page shares: one stylesheet, one script, the navigation. */
export function layout(page: Page, title: string, intro: SafeHtml, main: SafeHtml): string {
  const link = (target: Page, href: string, label: string) =>
    html`<a href="${href}" ${target === page ? html` aria-current="page"` : ''}>${label}</a>`;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title === APP_NAME ? title : html`${title} · ${APP_NAME}`}</title>
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href="/assets/app.css" />
        <script src="/assets/app.js" defer></script>
      </head>
      <body>
        <nav aria-label="Pages">
          ${NAVIGATION.map(([target, href, label]) => html`${link(target, href, label)} `)}
        </nav>
        <header>
          <h1>${title}</h1>
          ${intro}
        </header>
        <main>${main}</main>
      </body>
    </html>`.value;
}
