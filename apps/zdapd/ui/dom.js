// DOM building without markup: every string becomes a text node (textContent), attributes are
// set one by one and never from event-handler names, so text from the server (error lines,
// job logs, names) is shown as text and cannot run or create elements.

const SAFE_ATTRS = new Set(['class', 'id', 'type', 'value', 'name', 'placeholder', 'title',
  'for', 'role', 'hidden', 'disabled', 'checked', 'selected', 'autocomplete', 'required',
  'min', 'max', 'step', 'size', 'readonly', 'colspan', 'datetime', 'tabindex', 'open',
  'aria-label', 'aria-live', 'aria-current', 'data-clone', 'data-test', 'href', 'inputmode',
  'spellcheck', 'maxlength', 'pattern']);

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'onclick' || key === 'onsubmit' || key === 'oninput' || key === 'onchange') {
      el.addEventListener(key.slice(2), value);  // a function, never a string
      continue;
    }
    if (!SAFE_ATTRS.has(key)) throw new Error(`attribute ${key} is not allowed`);
    if (key === 'href' && !String(value).startsWith('#/')) {
      throw new Error('only in-page links are made');
    }
    el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

// "3h 12m", "2d 4h", "45s"; negative: "0s".
export function duration(ms) {
  let s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400); s -= d * 86400;
  const hr = Math.floor(s / 3600); s -= hr * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  if (d) return `${d}d ${hr}h`;
  if (hr) return `${hr}h ${m}m`;
  if (m) return `${m}m`;
  return `${s}s`;
}

export function age(iso) {
  if (!iso) return '';
  return duration(Date.now() - Date.parse(iso)) + ' ago';
}

export function bytes(n) {
  if (n === undefined || n === null) return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = Number(n);
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}
