// The edits the generator makes to files every service shares: each keeps the file's comments and
// layout (YAML through the `yaml` Document API, JSON and env files by appending), so the diff a
// person reviews is only the new service.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseDocument } from 'yaml';

function editYaml(path, edit) {
  const doc = parseDocument(readFileSync(path, 'utf8'));
  if (doc.errors.length > 0) throw new Error(`${path}: ${doc.errors[0].message}`);
  edit(doc);
  writeFileSync(path, doc.toString({ lineWidth: 0 }));
}

/** Appends `item` to the sequence at `path` of a YAML file, refusing to duplicate it. */
export function appendToYamlList(file, path, item) {
  editYaml(file, (doc) => {
    const list = doc.getIn(path);
    if (!list?.items) throw new Error(`${file}: no list at ${path.join('.')}`);
    if (list.toJSON().some((existing) => JSON.stringify(existing) === JSON.stringify(item))) {
      throw new Error(`${file}: ${path.join('.')} already has ${JSON.stringify(item)}`);
    }
    list.add(doc.createNode(item));
  });
}

/**
 * k8s/components/azure-outputs: the new ServiceAccount and Deployment become targets of every
 * replacement the backend's share (tenant, endpoints, image), and the new client id gets its own.
 * Names (containers, queues, secrets) are not among them: they come from the declaration
 * (uses.env), not from Bicep outputs.
 */
export function addOutputTargets(file, { name, camel, clientIdAnnotation, shared }) {
  editYaml(file, (doc) => {
    const replacements = doc.get('replacements');
    for (const replacement of replacements.items) {
      const fieldPath = replacement.getIn(['source', 'fieldPath']);
      if (!shared.includes(fieldPath)) continue;
      const targets = replacement.get('targets');
      const backend = targets.items.find((t) => t.getIn(['select', 'name']) === 'backend');
      const model = backend ?? targets.items[0];
      const json = JSON.stringify(model.toJSON());
      const from = model.getIn(['select', 'name']);
      // The backend's target with its name replaced: [name=backend] in field paths too.
      targets.add(
        doc.createNode(
          JSON.parse(
            json
              .replaceAll(`=${from}]`, `=${name}]`)
              .replace(`"name":"${from}"`, `"name":"${name}"`),
          ),
        ),
      );
    }
    replacements.add(
      doc.createNode({
        source: { kind: 'ConfigMap', name: 'azure-outputs', fieldPath: `data.${camel}ClientId` },
        targets: [
          {
            select: { kind: 'ServiceAccount', name },
            fieldPaths: [`metadata.annotations.[${clientIdAnnotation}]`],
          },
        ],
      }),
    );
  });
}

/** Appends KEY=value to an env file, refusing a key it already has. */
export function appendEnvLine(file, key, value) {
  const text = readFileSync(file, 'utf8');
  if (new RegExp(`^${key}=`, 'm').test(text)) throw new Error(`${file} already has ${key}`);
  writeFileSync(file, `${text.endsWith('\n') ? text : `${text}\n`}${key}=${value}\n`);
}

/** Inserts `block` after the last line matching `anchor` (a regular expression with the m flag). */
export function insertAfterLast(file, anchor, block) {
  const text = readFileSync(file, 'utf8');
  const matches = [...text.matchAll(anchor)];
  const last = matches.at(-1);
  if (!last) throw new Error(`${file}: nothing matches ${anchor}`);
  const end = text.indexOf('\n', last.index + last[0].length);
  const at = end === -1 ? text.length : end + 1;
  writeFileSync(file, `${text.slice(0, at)}${block}${text.slice(at)}`);
}
