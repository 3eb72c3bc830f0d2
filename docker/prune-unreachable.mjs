// Deletes from a `pnpm deploy --prod` tree every package that the service cannot load: the
// packages reachable from the service's own dependencies are kept, following each package's
// declared dependencies, except for the edges below, which Node never follows at run time here.
//   node docker/prune-unreachable.mjs /out
//
// - Optional peer dependencies: a package works without them and only uses one its host app
//   provides. The workspace lockfile resolves them anyway when another workspace package has
//   them (azurite, in packages/local-azure, brings sequelize and gRPC, which @nestjs/terminus
//   names as optional peers for indicators these services never use): ~15 MB per image. One
//   that a service does use is kept, because the service declares it.
// - Builds for other runtimes: @azure/identity depends on @azure/msal-browser (7 MB) for its
//   browser build only; checked below, so a release that imports it from Node fails the build.
// - The SDKs @wi/azure loads per resource (src/clients): kept only for a service that declares
//   the SDK itself, so the frontend ships no Cosmos DB SDK (it has no Cosmos role).
// - Dependencies a package loads lazily, for a feature these services never use (see
//   ONLY_FOR_UNUSED_FEATURES): were one used, it would fail loudly where it is loaded.
// Then drops the builds Node never loads: the browser, React Native and workerd builds of the
// Azure SDK packages (their package.json maps them to conditions Node never sets), and the
// `module`/`esnext` builds of packages without an `exports` map (OpenTelemetry's: fields only
// bundlers read; Node loads `main`).
// Prints what it removed; exits non-zero if a kept package's dependency is missing.
import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

const out = process.argv[2];
if (!out) throw new Error('usage: prune-unreachable.mjs DIR');
const modules = join(out, 'node_modules');
const store = join(modules, '.pnpm');

const NOT_FOR_NODE = { '@azure/identity': ['@azure/msal-browser'] };
const ONLY_FOR_UNUSED_FEATURES = {
  // `await import('apache-arrow')` in parseBlobListArrowResponse: Arrow-format blob listings.
  '@azure/storage-blob': ['apache-arrow'],
  // swagger-ui-dist: required by SwaggerModule.setup, which serves the Swagger UI; the backend
  // only builds its OpenAPI document (SwaggerModule.createDocument) and serves it as JSON.
  // @microsoft/tsdoc: only the TypeScript compiler plugin (@nestjs/swagger/plugin) reads it.
  '@nestjs/swagger': ['swagger-ui-dist', '@microsoft/tsdoc'],
  // The parsers of its ESM loader hook (hook.mjs, run through --import or module.register), which
  // telemetry never registers (packages/telemetry/src/start-telemetry.ts says why); the
  // require-side index the instrumentations load needs neither.
  'import-in-the-middle': [
    'acorn',
    'acorn-import-attributes',
    'cjs-module-lexer',
    'es-module-lexer',
  ],
};
const UNIMPORTED_ENTRY_POINTS = {
  '@opentelemetry/semantic-conventions': {
    specifier: '@opentelemetry/semantic-conventions/incubating',
    files: /^\/dist\/(index-incubating|experimental_[a-z_]+)\.(c|m)?js$/,
  },
};
const PER_RESOURCE_SDKS = {
  '@wi/azure': [
    '@azure/cosmos',
    '@azure/keyvault-secrets',
    '@azure/service-bus',
    '@azure/storage-blob',
  ],
};

const service = readJson(join(out, 'package.json'));
const serviceDeps = new Set(Object.keys(service.dependencies ?? {}));

/** Real directories of the kept packages. */
const kept = new Set();
const missing = [];
const queue = [...serviceDeps].map((name) => ({ name, from: out, by: service.name }));
while (queue.length > 0) {
  const { name, from, by } = queue.pop();
  const dir = locate(name, from);
  if (!dir) {
    missing.push(`${name} (needed by ${by})`);
    continue;
  }
  if (kept.has(dir)) continue;
  kept.add(dir);
  const manifest = readJson(join(dir, 'package.json'));
  const optionalPeers = Object.entries(manifest.peerDependenciesMeta ?? {})
    .filter(([, meta]) => meta?.optional)
    .map(([peer]) => peer);
  const skipped = new Set([
    ...optionalPeers,
    ...(NOT_FOR_NODE[manifest.name] ?? []),
    ...(ONLY_FOR_UNUSED_FEATURES[manifest.name] ?? []),
    ...(PER_RESOURCE_SDKS[manifest.name] ?? []).filter((sdk) => !serviceDeps.has(sdk)),
  ]);
  const names = new Set([
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.optionalDependencies ?? {}),
    ...Object.keys(manifest.peerDependencies ?? {}),
  ]);
  for (const dep of names) {
    if (skipped.has(dep)) continue;
    // An optional dependency may be absent (another platform's binary): nothing to keep then.
    if (!locate(dep, dir) && dep in (manifest.optionalDependencies ?? {})) continue;
    queue.push({ name: dep, from: dir, by: manifest.name });
  }
}
if (missing.length > 0) {
  console.error(`prune-unreachable: dependencies not in the tree:\n  ${missing.join('\n  ')}`);
  process.exit(1);
}

for (const [pkg, skipped] of Object.entries(NOT_FOR_NODE)) {
  const dir = [...kept].find((d) => readJson(join(d, 'package.json')).name === pkg);
  if (dir) assertNodeBuildAvoids(dir, skipped);
}

// A store entry (.pnpm/<name>@<version>_<peers>/node_modules/<name>) with no kept package goes.
let removed = 0;
const removedNames = [];
for (const entry of readdirSync(store)) {
  if (entry === 'node_modules' || entry === 'lock.yaml') continue; // lock.yaml: below
  const entryDir = join(store, entry);
  if ([...kept].some((dir) => dir.startsWith(entryDir + sep))) continue;
  removed += sizeOf(entryDir);
  removedNames.push(entry);
  rmSync(entryDir, { recursive: true, force: true });
}
for (const dir of kept) {
  const manifest = readJson(join(dir, 'package.json'));
  const unused = [];
  if (/^@(azure|typespec)\//.test(manifest.name))
    unused.push(...['browser', 'react-native', 'workerd'].map((build) => join(dir, 'dist', build)));
  if (!manifest.exports && manifest.main) {
    const mainDir = topDir(manifest.main);
    for (const field of ['module', 'esnext']) {
      const build = typeof manifest[field] === 'string' ? topDir(manifest[field]) : undefined;
      if (build && build !== mainDir && build.includes('/')) unused.push(join(dir, build));
    }
  }
  for (const target of unused) {
    if (!existsSync(target)) continue;
    removed += sizeOf(target);
    rmSync(target, { recursive: true, force: true });
  }
}
// Entry points no kept package imports. @opentelemetry/semantic-conventions/incubating (2.6 MB of
// experimental names): removed only if nothing else in the tree names it and the package's own
// remaining files never reach its files.
for (const [pkg, { specifier, files }] of Object.entries(UNIMPORTED_ENTRY_POINTS)) {
  const dir = [...kept].find((d) => readJson(join(d, 'package.json')).name === pkg);
  if (!dir) continue;
  const named = [...kept]
    .filter((d) => d !== dir)
    .flatMap((d) => [...walkFiles(d)])
    .find((file) => /\.(c|m)?js$/.test(file) && readFileSync(file, 'utf8').includes(specifier));
  if (named) throw new Error(`${relative(out, named)} imports ${specifier}: keep it`);
  const all = [...walkFiles(dir)];
  const dropped = all.filter((file) => files.test(file.slice(dir.length)));
  const rest = all.filter((file) => !dropped.includes(file) && /\.(c|m)?js$/.test(file));
  for (const file of rest) {
    const text = readFileSync(file, 'utf8');
    const reached = dropped.find((d) => text.includes(d.slice(d.lastIndexOf(sep) + 1)));
    if (reached) throw new Error(`${relative(out, file)} loads ${relative(out, reached)}: keep it`);
  }
  for (const file of dropped) {
    removed += sizeOf(file);
    rmSync(file);
  }
}
// pnpm's own bookkeeping (what it installed, for its next install): no runtime reads it.
for (const meta of [join(modules, '.modules.yaml'), join(store, 'lock.yaml')]) {
  if (!existsSync(meta)) continue;
  removed += sizeOf(meta);
  rmSync(meta);
}
// The hoisted links in .pnpm/node_modules and the packages' own links that now lead nowhere.
for (const link of walkLinks(modules)) if (!existsSync(link)) rmSync(link);

console.log(
  `prune-unreachable: removed ${(removed / 1e6).toFixed(1)} MB: ${removedNames.length} packages` +
    ` (${removedNames.map((n) => n.replace(/_.*/, '')).join(', ')}) and other runtimes' builds`,
);

/** `build/esm/index.js` → `build/esm`: the folder a package.json field points into. */
function topDir(path) {
  return dirname(path.replace(/^\.\//, ''));
}

/** Where Node finds `name` from inside `from`: the nearest node_modules holding it. */
function locate(name, from) {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    // Inside the store a package's dependencies are its siblings: .pnpm/X/node_modules/<dep>.
    if (dir.endsWith(`${sep}node_modules`)) {
      const sibling = join(dir, name);
      if (existsSync(join(sibling, 'package.json'))) return realpathSync(sibling);
    }
    if (relative(out, dir).startsWith('..') || dir === dirname(dir)) return undefined;
  }
}

function assertNodeBuildAvoids(dir, names) {
  for (const file of walkFiles(dir)) {
    if (!/\.(c|m)?js$/.test(file) || /[/\\]dist[/\\](browser|react-native|workerd)[/\\]/.test(file))
      continue;
    const text = readFileSync(file, 'utf8');
    for (const name of names)
      if (text.includes(`"${name}"`) || text.includes(`'${name}'`))
        throw new Error(`${relative(out, file)} names ${name}: its Node build needs it, keep it`);
  }
}

function* walkFiles(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walkFiles(path);
    else if (entry.isFile()) yield path;
  }
}

function* walkLinks(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isSymbolicLink()) yield path;
    else if (entry.isDirectory()) yield* walkLinks(path);
  }
}

function sizeOf(path) {
  const stat = lstatSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, name) => sum + sizeOf(join(path, name)), 0);
}

function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}
