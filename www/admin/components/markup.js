// Building blocks for the screens' markup (built with createElement, never innerHTML).
import { h } from '../lib/dom.js';

export const optional = (text) => h('span', { class: 'optional' }, text);
export const hint = (text, id) => h('span', { class: 'hint', id }, text);

// <p class="field-error"> (or form-error) for messages next to a field or a form.
export const errorText = (id, cls = 'field-error') => h('p', { id, class: cls, role: 'alert', hidden: true });
export const formError = (id) => errorText(id, 'form-error');
export const okText = (id, tag = 'p') => h(tag, { id, class: 'ok-text', role: 'status' });

// A labelled control: {id, label, control, after: [nodes after it], error: true for an error
// text `${id}-error` (or the error text's id), wrapId, hidden}.
export function field({ id, label, control, after = [], error = false, cls = 'field', wrapId, hidden }) {
  return h('div', { class: cls, id: wrapId, hidden },
    h('label', { for: id }, ...[label].flat()),
    control,
    ...after,
    error ? errorText(error === true ? `${id}-error` : error) : null);
}

// Attributes that point a control at its error text.
export const describedBy = (...ids) => ({ 'aria-describedby': ids.join(' ') });

// A table that becomes labelled lines on narrow screens. columns: header texts (or nodes).
export function dataTable({ id, caption, columns, body, cls = 'table cards' }) {
  return h('div', { class: 'table-wrap' },
    h('table', { id, class: cls },
      h('caption', { class: 'visually-hidden' }, caption),
      h('thead', {}, h('tr', {}, ...columns.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', { id: body })));
}

// A view's heading row: <h1 tabindex=-1> and an action beside it.
export const viewHead = (id, title, action, tag = 'h1') =>
  h('div', { class: 'view-head' }, h(tag, { id, tabindex: tag === 'h1' ? '-1' : undefined }, title), action);

export const crumb = (href, text) => h('p', { class: 'crumb' }, h('a', { href }, `← ${text}`));
export const actions = (...children) => h('div', { class: 'actions' }, ...children);
export const button = (text, attrs = {}) => h('button', { type: 'button', ...attrs }, text);
export const linkButton = (href, text, cls = 'button primary') => h('a', { class: cls, href }, text);
export const moreButton = (id) => actions(button('Load more', { id, hidden: true }));

// A <section class="view"> shell for a screen.
export const viewSection = (id, labelledBy, ...children) =>
  h('section', { id, class: id === 'view-signin' ? 'view narrow' : 'view', 'aria-labelledby': labelledBy, hidden: true }, ...children);

// <dl class="facts">: rows of [term, description node(s), wrapper id].
export const facts = (id, rows) => h('dl', { id, class: 'facts', hidden: id ? true : undefined },
  ...rows.map(([term, dd, wrapId]) => h('div', { id: wrapId }, h('dt', {}, term), dd)));

// A callout that a failed save shows: the text, and one button to recover.
export const conflictBox = (id, buttonText, cls) =>
  h('div', { id, class: 'callout conflict', role: 'alert', hidden: true }, h('p', { id: `${id}-text` }), button(buttonText, { class: cls }));

// A panel of the client page: <section class="panel"> with its <h2>.
export const panel = (id, title, ...children) =>
  h('section', { id, class: 'panel', 'aria-labelledby': `${id}-title` }, h('h2', { id: `${id}-title` }, title), ...children);

// A danger zone: heading, explanation, the button and its error, and `more` below.
export const dangerZone = ({ id, titleId, title, text, buttonId, buttonText, hidden }, ...more) =>
  h('section', { id, class: 'panel danger-zone', 'aria-labelledby': titleId, hidden },
    h('h2', { id: titleId }, title), h('p', {}, text), button(buttonText, { id: buttonId, class: 'danger' }), formError(`${buttonId}-error`),
    ...more);

export const submitRow = (text, statusId, ...more) =>
  actions(h('button', { type: 'submit', class: 'primary' }, text), ...more, statusId ? okText(statusId, 'span') : null);
