import { describe, expect, it } from 'vitest';
import { html } from './html.js';
import { APP_NAME, layout } from './layout.js';

const titleOf = (page: string) => /<title>([^<]*)<\/title>/.exec(page)?.[1];

describe('layout', () => {
  it('titles the home page with the product name once', () => {
    expect(titleOf(layout('documents', APP_NAME, html``, html``))).toBe('Document intake');
  });

  it('suffixes every other page with the product name', () => {
    expect(titleOf(layout('identity', 'Identity', html``, html``))).toBe(
      'Identity · Document intake',
    );
  });
});
