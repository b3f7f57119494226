// Wording shared by the screens: client status, auth methods, durations, counts.
import { DAY, formatTime, now } from './dom.js';

export const SECRET_METHODS = ['client_secret_basic', 'client_secret_post'];
const METHOD_LABELS = {
  client_secret_basic: 'Secret, HTTP Basic',
  client_secret_post: 'Secret, request body',
  client_secret_jwt: 'Secret-signed JWT',
  private_key_jwt: 'Private key JWT',
  tls_client_auth: 'Client certificate (CA, subject DN)',
  self_signed_tls_client_auth: 'Client certificate (registered)',
  none: 'None',
};
export const SOON = 30 * DAY;

export const methodLabel = (m) => METHOD_LABELS[m] || m || '—';

export const isSecretBased = (c) =>
  SECRET_METHODS.includes(c.token_endpoint_auth_method) || c.token_endpoint_auth_method === 'client_secret_jwt';

export const lockedUntil = (c) => (typeof c.locked_until === 'number' && c.locked_until > now() ? c.locked_until : null);

// {key, text} for a client's status; "locked" only when locked_until is in the future.
export function statusOf(c) {
  const until = lockedUntil(c);
  if (until) return { key: 'locked', text: `Locked until ${formatTime(until)}${c.enabled === false ? ' (disabled)' : ''}` };
  return c.enabled === false ? { key: 'disabled', text: 'Disabled' } : { key: 'enabled', text: 'Enabled' };
}

export function durationText(s) {
  if (typeof s !== 'number') return '—';
  if (s % 3600 === 0) return `${s / 3600} h`;
  if (s % 60 === 0) return `${s / 60} min`;
  return `${s} s`;
}

// A rough hint beside a time: "in 10 min", "3 days ago", "just now".
export function fromNow(epoch) {
  const left = epoch - now();
  const s = Math.abs(left);
  if (s < 5) return 'just now';
  let text = `${s} s`;
  if (s >= 2 * DAY) text = count(Math.round(s / DAY), 'day');
  else if (s >= 5400) text = `${Math.round(s / 3600)} h`;
  else if (s >= 90) text = `${Math.round(s / 60)} min`;
  return left >= 0 ? `in ${text}` : `${text} ago`;
}

// "3 tokens", "1 token" (en-US digits).
export const plural = (n, word) => `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;
// "3 clients", "1 client", without digit grouping.
export const count = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

export const linesOf = (text) => text.split('\n').map((l) => l.trim()).filter(Boolean);
export const scopeOf = (text) => text.trim().split(/\s+/).filter(Boolean).join(' ');
export const hrefOf = (kind, id) => `#/${kind}/${encodeURIComponent(id)}`;
