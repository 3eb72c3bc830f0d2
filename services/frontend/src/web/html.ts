const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Markup that is already safe, e.g. the output of `html`. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

type Interpolation =
  SafeHtml | string | number | boolean | null | undefined | readonly Interpolation[];

/** Tagged template that escapes every interpolated value unless it is SafeHtml; arrays are joined. */
export function html(strings: TemplateStringsArray, ...values: Interpolation[]): SafeHtml {
  const render = (value: Interpolation): string => {
    if (value === null || value === undefined || value === false) return '';
    if (value instanceof SafeHtml) return value.value;
    if (Array.isArray(value)) return value.map(render).join('');
    return escapeHtml(value);
  };
  return new SafeHtml(
    strings.reduce(
      (out, string, i) => out + string + (i < values.length ? render(values[i]!) : ''),
      '',
    ),
  );
}
