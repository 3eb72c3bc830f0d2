import type { WiringLink } from './wiring.js';

/** One line per link, ✓ or ✗, and under each ✗ what was found and the fix. */
export function formatLinks(links: readonly WiringLink[], indent = '  '): string {
  const lines: string[] = [];
  let identity: string | undefined;
  for (const link of links) {
    if (link.identity !== identity) {
      identity = link.identity;
      lines.push(`${indent}${identity}`);
    }
    lines.push(`${indent}  ${link.ok ? '✓' : '✗'} ${link.statement}`);
    if (!link.ok) {
      if (link.problem) lines.push(`${indent}      found: ${link.problem}`);
      if (link.fix) lines.push(`${indent}      fix:   ${link.fix}`);
    }
  }
  return lines.join('\n');
}
