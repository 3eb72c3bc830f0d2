#!/bin/sh
# Trims a `pnpm deploy --prod` tree to what Node loads at run time: the app's compiled dist/
# (its TypeScript sources and specs are not shipped) and, under node_modules, everything but
# source maps, TypeScript declarations and sources, and Markdown. Licence files stay.
#   sh docker/prune-deploy.sh /out
set -eu
out=${1:?usage: prune-deploy.sh DIR}
cd "$out"
rm -rf src tsconfig.json README.md
find node_modules -type f \( \
    -name '*.map' -o -name '*.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.tsbuildinfo' \
    -o -iname '*.md' -o -iname '*.markdown' \
  \) ! -iname 'LICEN[CS]E*' -delete
# The workspace packages the service depends on are injected copies: ship their dist/ only.
for pkg in node_modules/.pnpm/@wi+*/node_modules/@wi/*; do
  if [ -d "$pkg" ]; then rm -rf "$pkg/src" "$pkg/tsconfig.json"; fi
done
find node_modules -mindepth 1 -type d -empty -delete
