import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

/** The documentation the docs tests read: the root README and every page under docs/. */
export function docFiles(): string[] {
  const docs = join(repoRoot, 'docs');
  return [
    join(repoRoot, 'README.md'),
    ...readdirSync(docs)
      .filter((name) => name.endsWith('.md'))
      .sort()
      .map((name) => join(docs, name)),
  ];
}

export interface CodeBlock {
  /** Repository-relative path of the Markdown file. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** First word of the info string (`sh`, `json`, ...), '' when none. */
  language: string;
  /** The id of a `<!-- snippet: id -->` comment right above the block, if any. */
  snippet?: string;
  text: string;
}

/** Every fenced code block of a Markdown file, with its language and snippet id. */
export function codeBlocks(path: string): CodeBlock[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  const blocks: CodeBlock[] = [];
  let open: { fence: string; line: number; language: string; snippet?: string } | undefined;
  let body: string[] = [];
  let pendingSnippet: string | undefined;
  lines.forEach((text, index) => {
    if (open) {
      if (text.trim() === open.fence) {
        blocks.push({
          file: relative(repoRoot, path),
          line: open.line,
          language: open.language,
          ...(open.snippet ? { snippet: open.snippet } : {}),
          text: body.join('\n'),
        });
        open = undefined;
      } else body.push(text);
      return;
    }
    const fence = /^\s*(`{3,}|~{3,})\s*([\w+-]*)/.exec(text);
    if (fence) {
      open = {
        fence: fence[1]!,
        line: index + 1,
        language: fence[2] ?? '',
        ...(pendingSnippet ? { snippet: pendingSnippet } : {}),
      };
      body = [];
      pendingSnippet = undefined;
      return;
    }
    const snippet = /^<!--\s*snippet:\s*([\w-]+)\s*-->$/.exec(text.trim());
    if (snippet) pendingSnippet = snippet[1];
    else if (text.trim() !== '') pendingSnippet = undefined;
  });
  if (open) throw new Error(`${relative(repoRoot, path)}:${open.line}: unclosed code fence`);
  return blocks;
}

/** The block a `<!-- snippet: id -->` comment names, in one file; it must exist exactly once. */
export function snippet(path: string, id: string): string {
  const found = codeBlocks(path).filter((block) => block.snippet === id);
  if (found.length !== 1) {
    throw new Error(`${relative(repoRoot, path)}: ${found.length} blocks marked snippet: ${id}`);
  }
  return found[0]!.text;
}

export const SHELL_LANGUAGES = new Set(['sh', 'bash', 'shell', 'console', 'zsh']);

export interface DocCommand {
  file: string;
  line: number;
  /** One command as a person would type it: continuation lines joined, the comment removed. */
  command: string;
}

/**
 * The commands of a shell block: one per line, `\` continuations joined, trailing `# comments`
 * and a leading `$ ` prompt removed. Comment-only and blank lines are not commands.
 */
export function shellCommands(block: CodeBlock): DocCommand[] {
  const commands: DocCommand[] = [];
  const lines = block.text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let text = lines[i]!;
    while (/\\\s*$/.test(text) && i + 1 < lines.length) {
      text = `${text.replace(/\\\s*$/, '')} ${lines[++i]!.trim()}`;
    }
    const command = stripComment(text)
      .replace(/^\s*\$\s+/, '')
      .trim();
    if (command) commands.push({ file: block.file, line: block.line + 1 + start, command });
  }
  return commands;
}

/** Removes a `#` comment that is outside quotes and starts a word. */
function stripComment(text: string): string {
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) return text.slice(0, i);
  }
  return text;
}

/**
 * Commands written in tables whose first header cell is `command` (the README's "Other commands"):
 * the inline code of the first cell of each row.
 */
export function tableCommands(path: string): DocCommand[] {
  const file = relative(repoRoot, path);
  const lines = readFileSync(path, 'utf8').split('\n');
  const commands: DocCommand[] = [];
  let inCommandTable = false;
  lines.forEach((text, index) => {
    if (!text.trimStart().startsWith('|')) {
      inCommandTable = false;
      return;
    }
    const cells = text.split('|').slice(1, -1);
    const first = cells[0]?.trim() ?? '';
    if (!inCommandTable) {
      inCommandTable = first.toLowerCase() === 'command';
      return;
    }
    if (/^:?-+:?$/.test(first)) return;
    const code = /^`([^`]+)`$/.exec(first);
    if (code) commands.push({ file, line: index + 1, command: code[1]! });
  });
  return commands;
}

/** Every command of README.md and docs/*.md: shell blocks and command tables. */
export function docCommands(): DocCommand[] {
  return docFiles().flatMap((path) => [
    ...codeBlocks(path)
      .filter((block) => SHELL_LANGUAGES.has(block.language))
      .flatMap(shellCommands),
    ...tableCommands(path),
  ]);
}
