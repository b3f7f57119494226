// The dialog that shows a new client secret once (#secret-dialog). Everything in it is
// cleared when it closes.
import { tokenEndpoint } from '../lib/api.js';
import { $, setText, formatTime, bindCopy } from '../lib/dom.js';

const FIELDS = ['sd-client-id', 'sd-client-secret', 'sd-expires', 'sd-token-endpoint', 'sd-curl', 'sd-copy-status'];
const formEncode = (s) => new URLSearchParams([['', s]]).toString().slice(1);
const shellQuote = (s) => (/^[A-Za-z0-9_:/.\-~%+@]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

export async function showSecret(clientId, secret) {
  const endpoint = await tokenEndpoint();
  setText('sd-client-id', clientId);
  setText('sd-client-secret', secret.client_secret);
  setText('sd-expires', typeof secret.expires_at === 'number' ? formatTime(secret.expires_at) : 'Never');
  setText('sd-token-endpoint', endpoint);
  setText('sd-curl',
    `curl -u "${formEncode(clientId)}:${formEncode(secret.client_secret)}" -d grant_type=client_credentials ${shellQuote(endpoint)}`);
  setText('sd-copy-status', '');
  $('secret-dialog').showModal();
}

function wipe() {
  for (const id of FIELDS) setText(id, '');
  getSelection()?.removeAllRanges();
}

export const closeSecretDialog = () => $('secret-dialog').close();

// Bound once by the page shell: copy buttons, and the wipe: as the close button is pressed
// (before the dialog goes) and on any other close (Escape).
export function bindSecretDialog() {
  const dlg = $('secret-dialog');
  bindCopy(dlg, $('sd-copy-status'));
  dlg.querySelector('form[method=dialog]').addEventListener('submit', wipe);
  dlg.addEventListener('close', () => {
    wipe();
    // If the control that opened the dialog is gone (e.g. the create form), focus the view's heading.
    setTimeout(() => {
      if (document.activeElement === document.body || !document.activeElement?.offsetParent) {
        document.querySelector('.view:not([hidden]) h1')?.focus();
      }
    });
  });
}
