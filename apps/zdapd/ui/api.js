// Calls to zdapd's API from the signed-in page: the session cookie goes along by itself
// (same origin), and every request that changes something carries the CSRF token that the
// sign-in gave (X-CSRF-Token). Errors are thrown as ApiError with the server's message.

let csrf = '';

export function setCsrf(token) { csrf = token || ''; }

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export async function call(method, path, body) {
  const headers = { 'Accept': 'application/json' };
  if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = csrf;
  let payload;
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin',
      cache: 'no-store', redirect: 'error' });
  } catch (e) {
    throw new ApiError(0, 'unavailable', `zdapd did not answer (${e.message})`);
  }
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
  if (!res.ok) {
    const err = data && data.error ? data.error : {};
    throw new ApiError(res.status, err.code || 'error', err.message || `HTTP ${res.status}`);
  }
  return data;
}

export const get = (path) => call('GET', path);
export const enc = encodeURIComponent;
