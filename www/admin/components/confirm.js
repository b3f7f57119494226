// The confirmation dialog (#confirm-dialog): resolves to true when the user confirms.
import { $, setText } from '../lib/dom.js';

export function confirmDialog({ title, message, ok }) {
  const dlg = $('confirm-dialog');
  setText('cd-title', title);
  setText('cd-message', message);
  setText('cd-ok', ok);
  dlg.returnValue = '';
  dlg.showModal();
  return new Promise((resolve) => {
    dlg.addEventListener('close', () => resolve(dlg.returnValue === 'ok'), { once: true });
  });
}

export const closeConfirm = () => $('confirm-dialog').close();
