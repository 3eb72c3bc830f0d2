// Progressive enhancement for the upload page: the form works without this file. With it, an
// upload is sent in the background and its row turns from "queued" to "processed" live.
// DOM is built with textContent only, never innerHTML: file names are user input.

const POLL_INTERVAL_MS = 300;
const GIVE_UP_AFTER_MS = 5 * 60 * 1000;

const form = document.getElementById('upload-form');
const status = document.getElementById('upload-status');
const table = document.getElementById('documents');
const tbody = table?.querySelector('tbody');
const empty = document.getElementById('no-documents');

function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${+(bytes / 1024).toFixed(1)} KiB`;
  return `${+(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function cell(text, options = {}) {
  const td = document.createElement('td');
  if (options.code) {
    const code = document.createElement('code');
    code.textContent = text;
    code.title = options.title ?? '';
    td.append(code);
  } else {
    td.textContent = text;
  }
  if (options.colspan) td.colSpan = options.colspan;
  return td;
}

function badge(state) {
  const td = document.createElement('td');
  const span = document.createElement('span');
  span.className = `status ${state}`;
  span.textContent = state;
  td.append(span);
  return td;
}

function showTable() {
  table.hidden = false;
  empty.hidden = true;
}

function queuedRow(id, fileName) {
  const tr = document.createElement('tr');
  tr.dataset.id = id;
  tr.dataset.status = 'queued';
  tr.append(cell(fileName ?? id, { colspan: 6 }), badge('queued'));
  return tr;
}

function processedRow(d) {
  const tr = document.createElement('tr');
  tr.dataset.id = d.id;
  tr.dataset.status = 'processed';
  tr.append(
    cell(d.fileName),
    cell(d.contentType),
    cell(formatBytes(d.size)),
    cell(`${d.sha256.slice(0, 12)}…`, { code: true, title: d.sha256 }),
    cell(d.lineCount ?? '–'),
    cell(d.wordCount ?? '–'),
    badge('processed'),
  );
  return tr;
}

async function watch(row) {
  const id = row.dataset.id;
  const started = Date.now();
  while (Date.now() - started < GIVE_UP_AFTER_MS) {
    const response = await fetch(`/api/uploads/${encodeURIComponent(id)}`, {
      headers: { accept: 'application/json' },
    }).catch(() => undefined);
    const upload = response?.ok ? await response.json() : undefined;
    if (upload?.status === 'processed') {
      row.replaceWith(processedRow(upload.document));
      return true;
    }
    if (response?.status === 404) break;
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
  row.dataset.status = 'failed';
  row.lastElementChild.replaceWith(badge('failed'));
  return false;
}

form?.addEventListener('submit', async (event) => {
  event.preventDefault();
  const file = form.elements.file.files[0];
  if (!file) return;
  const button = form.querySelector('button');
  button.disabled = true;
  status.textContent = `Uploading ${file.name}…`;
  try {
    const response = await fetch(form.action, {
      method: 'POST',
      body: new FormData(form),
      headers: { accept: 'application/json' },
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      status.textContent = answer.message ?? `Upload failed (${response.status}).`;
      return;
    }
    status.textContent = `${file.name} uploaded; processing…`;
    const row = queuedRow(answer.id, file.name);
    tbody.prepend(row);
    showTable();
    form.reset();
    status.textContent = (await watch(row))
      ? `${file.name} processed.`
      : `${file.name} was not processed; see the backend's log.`;
  } catch {
    status.textContent = 'The upload could not be sent; check your connection and try again.';
  } finally {
    button.disabled = false;
  }
});

for (const row of tbody?.querySelectorAll('tr[data-status="queued"]') ?? []) void watch(row);
