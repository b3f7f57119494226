// DOM helpers. Data from the server only ever reaches the page through
// textContent and createElement: no innerHTML anywhere in this app.

export const $ = (id) => document.getElementById(id);

// h('td', {class: 'x', dataset: {label: 'Name'}}, 'text', childNode, ...)
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function setText(el, text) {
  (typeof el === 'string' ? $(el) : el).textContent = text == null ? '' : String(text);
}

export function show(el, on = true) {
  (typeof el === 'string' ? $(el) : el).hidden = !on;
}

// Error next to a field (or form). `field` gets aria-invalid.
export function showError(errEl, message, field) {
  const e = typeof errEl === 'string' ? $(errEl) : errEl;
  e.textContent = message;
  e.hidden = false;
  if (field) (typeof field === 'string' ? $(field) : field).setAttribute('aria-invalid', 'true');
}

export function clearErrors(root) {
  for (const e of root.querySelectorAll('.field-error, .form-error')) {
    e.textContent = '';
    e.hidden = true;
  }
  for (const f of root.querySelectorAll('[aria-invalid]')) f.removeAttribute('aria-invalid');
}

// Remove the row `li` from its list, run `after()` (renumbering), and move focus to the row
// now in its place, the one before it, or `fallback` when none is left.
export function removeRow(li, fallback, after) {
  const list = li.parentElement;
  const i = [...list.children].indexOf(li);
  li.remove();
  after();
  const left = [...list.children];
  const near = left[i] || left[i - 1];
  (near ? near.querySelector('input') : fallback).focus();
}

// Visible busy state on a form or button while `fn` runs.
export async function busy(target, label, fn) {
  const form = target.tagName === 'FORM' ? target : target.form;
  const buttons = form ? [...form.querySelectorAll('button')] : [target];
  const main = target.tagName === 'FORM' ? form.querySelector('button[type=submit]') : target;
  const original = main ? main.textContent : '';
  for (const b of buttons) b.disabled = true;
  if (main) { main.classList.add('is-busy'); main.textContent = label; }
  if (form) form.setAttribute('aria-busy', 'true');
  try {
    return await fn();
  } finally {
    for (const b of buttons) b.disabled = false;
    if (main) { main.classList.remove('is-busy'); main.textContent = original; }
    if (form) form.removeAttribute('aria-busy');
  }
}

// Time formatting: epoch seconds -> readable local time with the zone.
const fmt = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short',
});
const fmtDate = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });

export function formatTime(epoch) {
  if (typeof epoch !== 'number' || !Number.isFinite(epoch)) return '—';
  return fmt.format(new Date(epoch * 1000));
}
export function formatDate(epoch) {
  if (typeof epoch !== 'number' || !Number.isFinite(epoch)) return '—';
  return fmtDate.format(new Date(epoch * 1000));
}

export const now = () => Math.floor(Date.now() / 1000);
export const DAY = 86400;

// Copy buttons (button[data-copy=<id>]) below `root`; `statusEl` says what happened.
export function bindCopy(root, statusEl, signal) {
  for (const b of root.querySelectorAll('button[data-copy]')) {
    b.addEventListener('click', () => copyFrom(b.dataset.copy, statusEl), { signal });
  }
}

// Copy the text of another element (button[data-copy=<id>]).
export async function copyFrom(id, statusEl) {
  const text = $(id)?.textContent || '';
  let ok = false;
  try {
    await navigator.clipboard.writeText(text);
    ok = true;
  } catch {
    // Fallback: select the text so the user can press Ctrl+C.
    const range = document.createRange();
    range.selectNodeContents($(id));
    const sel = getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    try { ok = document.execCommand('copy'); } catch { ok = false; }
  }
  if (statusEl) statusEl.textContent = ok ? 'Copied to the clipboard.' : 'Selected: press Ctrl+C (or ⌘C) to copy.';
}
