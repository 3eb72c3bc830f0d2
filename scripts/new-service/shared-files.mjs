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
 * (uses-patch.yaml), not from Bicep outputs.
 */
export function addOutputTargets(file, { name, clientIdAnnotation, shared }) {
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
        source: { kind: 'ConfigMap', name: 'azure-outputs', fieldPath: `data.${name}ClientId` },
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

/**
 * k8s/overlays/aks: the image by the digest of its build, `<service>ImageVersion`
 * (tag@sha256:…, which scripts/write-aks-env.sh takes from $<SERVICE>_IMAGE_VERSION), as the
 * backend's is: a copy of the backend's replacement with the names replaced.
 */
export function addImageVersionReplacement(file, { name }) {
  editYaml(file, (doc) => {
    const replacements = doc.get('replacements');
    const backend = replacements.items.find(
      (r) => r.getIn(['source', 'fieldPath']) === 'data.backendImageVersion',
    );
    if (!backend) throw new Error(`${file}: no replacement of data.backendImageVersion to copy`);
    const json = JSON.stringify(backend.toJSON())
      .replace('"data.backendImageVersion"', `"data.${name}ImageVersion"`)
      .replaceAll('"name":"backend"', `"name":"${name}"`)
      .replaceAll('[name=backend]', `[name=${name}]`);
    replacements.add(doc.createNode(JSON.parse(json)));
  });
}
