// The generator's templates (scripts/new-service/templates/): files with {{placeholders}}, so what
// a generated service looks like is read in one folder, not assembled from strings in code.
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TEMPLATES = fileURLToPath(new URL('templates/', import.meta.url));

/** Replaces every {{key}}; a placeholder without a value is a bug in the template, not output. */
export function fill(text, values, source = 'template') {
  return text.replace(/\{\{(\w+)\}\}/g, (_, key) => {
    if (!(key in values)) throw new Error(`${source}: no value for {{${key}}}`);
    return values[key];
  });
}

/** One template, filled. `path` is relative to templates/, without the .tmpl suffix. */
export function render(path, values) {
  return fill(readFileSync(join(TEMPLATES, `${path}.tmpl`), 'utf8'), values, path);
}

/**
 * Every file of a template folder, filled: [relative output path, contents]. Placeholders in
 * file names are filled too (src/config/{{name}}-config.ts).
 */
export function renderTree(folder, values) {
  const root = join(TEMPLATES, folder);
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.tmpl'))
    .map((entry) => {
      const source = relative(root, join(entry.parentPath, entry.name));
      const target = fill(source.slice(0, -'.tmpl'.length), values, source);
      return [target, fill(readFileSync(join(root, source), 'utf8'), values, source)];
    })
    .sort(([a], [b]) => a.localeCompare(b));
}
