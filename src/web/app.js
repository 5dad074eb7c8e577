/**
 * The answer page: sign in with a token (or none, on a local operator's server), ask with a streamed
 * answer whose [n] markers open their source, browse and upload documents.
 */
import { ApiError, getJson, storedToken, storeToken, streamQuery, uploadFiles } from './api.js';
import { citationLabel, renderAnswer, renderCitations } from './answer.js';
import { forgetDocuments, showCitation } from './viewer.js';

const $ = (/** @type {string} */ id) => /** @type {any} */ (document.getElementById(id));

/** @type {Map<number, import('./answer.js').Citation>} */
let citations = new Map();
/** @type {AbortController | undefined} */
let asking;
/** @type {HTMLElement | undefined} */
let lastOpener;

function showSignin(/** @type {string} */ message = '') {
  $('main').hidden = true;
  $('signin').hidden = false;
  $('signout').hidden = true;
  $('who').textContent = '';
  $('token-error').textContent = message;
  $('token').focus();
}

async function start() {
  try {
    const me = await getJson('/v1/me');
    $('signin').hidden = true;
    $('main').hidden = false;
    $('signout').hidden = !storedToken();
    $('who').textContent = me.unrestricted ? 'Local operator' : `Signed in as ${me.user}${me.groups.length ? ` (${me.groups.join(', ')})` : ''}`;
    $('upload-form').hidden = !(me.scopes.includes('ingest') || me.scopes.includes('admin'));
    await loadDocuments();
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
      showSignin(storedToken() ? 'That token was not accepted.' : '');
      return;
    }
    showSignin(`The server did not answer: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function failed(/** @type {unknown} */ err) {
  if (err instanceof ApiError && err.status === 401) {
    storeToken('');
    showSignin('Your token is no longer accepted; enter it again.');
    return 'Not signed in.';
  }
  return err instanceof Error ? err.message : String(err);
}

// --- ask -----------------------------------------------------------------------------------------

function openCitation(/** @type {import('./answer.js').Citation} */ c, /** @type {HTMLElement} */ opener) {
  lastOpener = opener;
  const viewer = $('viewer');
  viewer.hidden = false;
  $('viewer-title').textContent = `Source ${c.n}`;
  $('viewer-meta').textContent = citationLabel(c);
  $('viewer-quote').textContent = c.quote;
  $('viewer-status').textContent = 'Opening the source…';
  const body = $('viewer-body');
  body.dataset.state = 'loading';
  body.dataset.n = String(c.n);
  viewer.focus();
  showCitation(body, c, (text) => ($('viewer-status').textContent = text))
    .then((marks) => {
      if ($('viewer-status').textContent === 'Opening the source…') {
        $('viewer-status').textContent = marks.length ? 'The quoted words are highlighted.' : 'The quoted words could not be placed on this page.';
      }
    })
    .catch((err) => {
      body.dataset.state = 'failed';
      $('viewer-status').textContent = `The source could not be opened: ${failed(err)}`;
    });
}

function closeViewer() {
  $('viewer').hidden = true;
  $('viewer-body').replaceChildren();
  lastOpener?.focus();
}

async function ask(/** @type {string} */ question) {
  asking?.abort();
  const controller = new AbortController();
  asking = controller;
  citations = new Map();
  let text = '';
  const region = $('answer-region');
  const answer = $('answer');
  const status = $('answer-status');
  region.dataset.state = 'streaming';
  region.setAttribute('aria-busy', 'true');
  answer.replaceChildren();
  $('citations').replaceChildren();
  $('sources-title').hidden = true;
  status.textContent = 'Searching your documents…';
  $('ask-button').disabled = true;
  $('stop-button').hidden = false;
  const redraw = () => renderAnswer(answer, text, citations, openCitation);
  try {
    for await (const { event, data } of streamQuery(question, controller.signal)) {
      if (event === 'token') {
        text += data.text;
        status.textContent = 'Answering…';
        redraw();
      } else if (event === 'replace') {
        // The model's draft failed verification: drop it, show the verified replacement.
        text = data.answer;
        citations = new Map(data.citations.map((/** @type {any} */ c) => [c.n, c]));
        redraw();
      } else if (event === 'citation') {
        citations.set(data.n, data);
      } else if (event === 'done') {
        text = data.answer;
        citations = new Map(data.citations.map((/** @type {any} */ c) => [c.n, c]));
        redraw();
        renderCitations($('citations'), data.citations, openCitation);
        $('sources-title').hidden = data.citations.length === 0;
        status.textContent =
          data.citations.length === 0 ? 'Not found: nothing in the documents you can read answers this.' : `Answer with ${data.citations.length} source${data.citations.length === 1 ? '' : 's'}. Select a number to see it in its document.`;
        region.dataset.state = data.citations.length === 0 ? 'not-found' : 'done';
      } else if (event === 'error') {
        throw new ApiError(500, data.error?.code ?? 'INTERNAL', data.error?.message ?? 'the answer failed');
      }
    }
    if (region.dataset.state === 'streaming') throw new Error('the answer stream ended early');
  } catch (err) {
    if (controller.signal.aborted) {
      status.textContent = 'Stopped.';
      region.dataset.state = 'stopped';
    } else {
      status.textContent = `No answer: ${failed(err)}`;
      region.dataset.state = 'failed';
    }
  } finally {
    region.setAttribute('aria-busy', 'false');
    $('ask-button').disabled = false;
    $('stop-button').hidden = true;
    if (asking === controller) asking = undefined;
  }
}

// --- documents -----------------------------------------------------------------------------------

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

async function loadDocuments() {
  const status = $('docs-status');
  status.textContent = 'Loading documents…';
  try {
    const { documents } = await getJson('/v1/documents');
    const rows = documents.map((/** @type {any} */ d) => {
      const tr = document.createElement('tr');
      tr.dataset.documentId = d.documentId;
      const cells = [d.title, d.type, d.pages ?? '', d.ingestedAt ? dateFormat.format(new Date(d.ingestedAt)) : ''];
      for (const value of cells) {
        const td = document.createElement('td');
        td.textContent = String(value);
        tr.append(td);
      }
      if (d.state === 'indexing') tr.cells[0].append(' (indexing)');
      return tr;
    });
    $('docs').tBodies[0].replaceChildren(...rows);
    status.textContent = documents.length === 0 ? 'No documents you can read yet.' : `${documents.length} document${documents.length === 1 ? '' : 's'}.`;
  } catch (err) {
    status.textContent = `Documents could not be listed: ${failed(err)}`;
  }
}

const FINISHED = new Set(['completed', 'failed', 'cancelled', 'terminated', 'timed_out']);

function jobLine(/** @type {any} */ job) {
  const d = job.documents;
  return `Job ${job.status}: ${d.done} of ${d.total} indexed${d.failed ? `, ${d.failed} failed` : ''}, ${job.chunks} chunks.`;
}

async function followJob(/** @type {string} */ jobId) {
  const out = $('job');
  out.dataset.state = 'running';
  for (;;) {
    const job = await getJson(`/v1/jobs/${encodeURIComponent(jobId)}`);
    const summary = document.createElement('p');
    summary.textContent = jobLine(job);
    const errors = document.createElement('ul');
    for (const e of job.errors) {
      const li = document.createElement('li');
      const code = document.createElement('code');
      code.textContent = e.code;
      li.append(code, ` ${e.source}: ${e.message}`);
      errors.append(li);
    }
    out.replaceChildren(summary, ...(job.errors.length ? [errors] : []));
    if (FINISHED.has(job.status)) {
      out.dataset.state = job.status;
      return job;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function upload(/** @type {File[]} */ files, /** @type {string} */ acl) {
  const progress = $('upload-progress');
  const button = $('upload-button');
  button.disabled = true;
  progress.hidden = false;
  progress.value = 0;
  $('job').textContent = 'Uploading…';
  try {
    const { jobId } = await uploadFiles(files, acl, (f) => (progress.value = Math.round(f * 100)));
    progress.value = 100;
    await followJob(jobId);
    await loadDocuments();
  } catch (err) {
    $('job').textContent = `Upload failed: ${failed(err)}`;
    $('job').dataset.state = 'failed';
  } finally {
    button.disabled = false;
  }
}

// --- wiring --------------------------------------------------------------------------------------

$('token-form').addEventListener('submit', (/** @type {SubmitEvent} */ e) => {
  e.preventDefault();
  storeToken($('token').value.trim());
  $('token').value = '';
  forgetDocuments();
  start();
});
$('signout').addEventListener('click', () => {
  storeToken('');
  forgetDocuments();
  closeViewer();
  start();
});
$('ask-form').addEventListener('submit', (/** @type {SubmitEvent} */ e) => {
  e.preventDefault();
  const q = $('question').value.trim();
  if (q) ask(q);
});
$('question').addEventListener('keydown', (/** @type {KeyboardEvent} */ e) => {
  // Enter asks, Shift+Enter is a new line: what chat pages do.
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    $('ask-form').requestSubmit();
  }
});
$('stop-button').addEventListener('click', () => asking?.abort());
$('viewer-close').addEventListener('click', closeViewer);
$('viewer').addEventListener('keydown', (/** @type {KeyboardEvent} */ e) => {
  if (e.key === 'Escape') closeViewer();
});
$('upload-form').addEventListener('submit', (/** @type {SubmitEvent} */ e) => {
  e.preventDefault();
  const files = [...$('files').files];
  if (files.length) upload(files, $('acl').value);
});

start();
