import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * No import loops, at three scales: between files, between the top-level folders of one source
 * tree (a feature such as intake/ or signing/ and the features it uses), and between workspace
 * packages. Type-only imports count too: a loop of types is still two ideas that cannot be
 * understood, moved or deleted apart. The walk reads each file's import specifiers with the
 * TypeScript scanner (static, `export ... from`, `import type`, dynamic `import()`).
 */

const repo = fileURLToPath(new URL('../..', import.meta.url));

interface SourceRoot {
  /** e.g. packages/azure, services/backend */
  name: string;
  src: string;
}

function sourceRoots(base: string): SourceRoot[] {
  return ['services', 'packages'].flatMap((group) => {
    const dir = join(base, group);
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .map((name) => ({ name: `${group}/${name}`, src: join(dir, name, 'src') }))
      .filter((root) => existsSync(root.src));
  });
}

/** @wi/<name>[/<subpath>] resolves as its package.json `exports` say under the `source` condition. */
function workspacePackages(base: string): Map<string, string> {
  const packages = new Map<string, string>();
  for (const root of sourceRoots(base)) {
    const manifest = join(root.src, '..', 'package.json');
    if (!existsSync(manifest)) continue;
    const { name, exports = {} } = JSON.parse(readFileSync(manifest, 'utf8')) as {
      name?: string;
      exports?: Record<string, { source?: string }>;
    };
    for (const [subpath, conditions] of Object.entries(exports)) {
      if (name && conditions.source)
        packages.set(`${name}${subpath.slice(1)}`, join(root.src, '..', conditions.source));
    }
  }
  return packages;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return entry === 'node_modules' ? [] : tsFiles(path);
    // Specs are left out: nothing imports one, so none closes a file loop, and a spec's use of a
    // test helper (testing/) says nothing about how the code's folders depend on each other.
    const source = path.endsWith('.ts') && !path.endsWith('.d.ts') && !path.endsWith('.spec.ts');
    return source ? [path] : [];
  });
}

function resolveSpecifier(from: string, specifier: string, packages: Map<string, string>) {
  if (packages.has(specifier)) return packages.get(specifier);
  if (!specifier.startsWith('.')) return undefined; // an npm package: outside the graph
  const target = resolve(dirname(from), specifier);
  for (const candidate of [
    target.replace(/\.js$/, '.ts'),
    `${target}.ts`,
    join(target, 'index.ts'),
    target,
  ]) {
    if (candidate.endsWith('.ts') && existsSync(candidate) && statSync(candidate).isFile())
      return candidate;
  }
  throw new Error(`${relative(repo, from)}: cannot resolve ${specifier}`);
}

type Graph = Map<string, Set<string>>;

function addEdge(graph: Graph, from: string, to: string): void {
  if (!graph.has(from)) graph.set(from, new Set());
  if (!graph.has(to)) graph.set(to, new Set());
  if (from !== to) graph.get(from)!.add(to);
}

/** The file, folder and package graphs of every services/* and packages/* source tree. */
export function importGraphs(base: string): { files: Graph; folders: Graph; packages: Graph } {
  const roots = sourceRoots(base);
  const packages = workspacePackages(base);
  const graphs = { files: new Map(), folders: new Map(), packages: new Map() } as {
    files: Graph;
    folders: Graph;
    packages: Graph;
  };
  const rootOf = (file: string) => roots.find((root) => file.startsWith(root.src + sep))!;
  const folderOf = (file: string) => {
    const root = rootOf(file);
    const [first] = relative(root.src, file).split(sep);
    // A file at the top of src (app.module.ts, index.ts, tokens.ts) is a node of its own: a
    // composition root imports the folders, a shared leaf is imported by them.
    return `${root.name}/${first}`;
  };
  for (const root of roots) {
    for (const file of tsFiles(root.src)) {
      const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
      addEdge(graphs.files, relative(base, file), relative(base, file));
      for (const { fileName } of importedFiles) {
        const target = resolveSpecifier(file, fileName, packages);
        if (!target) continue;
        addEdge(graphs.files, relative(base, file), relative(base, target));
        const [fromRoot, toRoot] = [rootOf(file), rootOf(target)];
        if (fromRoot === toRoot) addEdge(graphs.folders, folderOf(file), folderOf(target));
        else addEdge(graphs.packages, fromRoot.name, toRoot.name);
      }
    }
  }
  return graphs;
}

/** Tarjan's strongly connected components of more than one node: each one is a loop. */
export function cycles(graph: Graph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string) => {
    index.set(node, next);
    low.set(node, next++);
    stack.push(node);
    onStack.add(node);
    for (const to of graph.get(node) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (onStack.has(to)) low.set(node, Math.min(low.get(node)!, index.get(to)!));
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1) found.push(component.sort());
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

describe('import cycles', () => {
  const graphs = importGraphs(repo);

  it('walks every source file of the services and packages', () => {
    expect(graphs.files.has('services/backend/src/app.module.ts')).toBe(true);
    expect(graphs.files.get('services/backend/src/intake/document-intake.worker.ts')).toContain(
      'services/backend/src/intake/intake-metrics.ts',
    );
    expect(graphs.packages.get('services/backend')).toContain('packages/azure');
    expect(
      graphs.files.get('services/backend/src/common/filters/azure-unavailable.filter.ts'),
    ).toContain('packages/azure/src/errors/service-bus-failure.ts'); // @wi/azure/service-bus
  });

  it('finds none between files', () => {
    expect(cycles(graphs.files)).toEqual([]);
  });

  it('finds none between the folders of one source tree', () => {
    expect(cycles(graphs.folders)).toEqual([]);
  });

  it('finds none between workspace packages', () => {
    expect(cycles(graphs.packages)).toEqual([]);
  });
});

describe('the cycle check itself', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'import-cycles-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  function write(path: string, text: string): void {
    mkdirSync(dirname(join(scratch, path)), { recursive: true });
    writeFileSync(join(scratch, path), text);
  }

  const manifest = (name: string) =>
    JSON.stringify({ name, exports: { '.': { source: './src/index.ts' } } });
  write('packages/one/package.json', manifest('@wi/one'));
  write('packages/one/src/index.ts', "export * from './a/worker.js';\n");
  // A file loop (type-only on one side), as intake/document-intake.worker.ts ⇄ intake-metrics.ts was.
  write(
    'packages/one/src/a/worker.ts',
    "import { count } from './metrics.js';\nexport type Outcome = 'done';\nexport const run = () => count;\n",
  );
  write(
    'packages/one/src/a/metrics.ts',
    "import type { Outcome } from './worker.js';\nexport const count = (o: Outcome) => o;\n",
  );
  // A folder loop with no file loop, as signing/ ⇄ documents/ was.
  write(
    'packages/one/src/signing/signer.ts',
    "import type { Record } from '../documents/record.js';\nexport const sign = (r: Record) => r;\n",
  );
  write('packages/one/src/documents/record.ts', 'export interface Record { id: string }\n');
  write(
    'packages/one/src/documents/controller.ts',
    "import { sign } from '../signing/signer.js';\nexport const handle = () => import('../signing/signer.js').then(() => sign);\n",
  );
  // A package loop.
  write('packages/two/package.json', manifest('@wi/two'));
  write('packages/two/src/index.ts', "export { run } from '@wi/one';\n");
  write('packages/one/src/b/uses-two.ts', "export * from '@wi/two';\n");

  const planted = importGraphs(scratch);

  it('reports a loop between two files, type-only imports included', () => {
    expect(cycles(planted.files)).toContainEqual([
      'packages/one/src/a/metrics.ts',
      'packages/one/src/a/worker.ts',
    ]);
  });

  it('reports a loop between folders that no single file closes', () => {
    expect(cycles(planted.folders)).toContainEqual([
      'packages/one/documents',
      'packages/one/signing',
    ]);
  });

  it('reports a loop between packages', () => {
    expect(cycles(planted.packages)).toEqual([['packages/one', 'packages/two']]);
  });
});
