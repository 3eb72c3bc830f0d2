import { describe, expect, it } from 'vitest';
import { html } from './html.js';

describe('html', () => {
  it('escapes interpolated text, including attribute quotes', () => {
    const name = `"><script>alert('x')</script>`;
    // prettier-ignore
    expect(html`<td title="${name}">${name}</td>`.value).toBe(
      '<td title="&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;">&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;</td>',
    );
  });

  it('nests safe fragments and joins lists, dropping empty values', () => {
    const rows = ['a<b', 'c'].map((x) => html`<li>${x}</li>`);
    // prettier-ignore
    expect(html`<ul>${rows}${undefined}${false}${0}</ul>`.value).toBe('<ul><li>a&lt;b</li><li>c</li>0</ul>');
  });
});
