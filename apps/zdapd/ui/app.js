// The dashboard's entry: sign-in, the page frame (navigation, who is signed in, the live
// indicator) and the hash router (#/clones, #/resources, #/origin, #/all, #/tokens, #/audit).
import { h, replace } from './dom.js';
import { call, setCsrf, ApiError } from './api.js';
import * as live from './events.js';
import { clonesPage, allClonesPage } from './clones.js';
import { resourcesPage } from './resources.js';
import { originPage } from './origin.js';
import { tokensPage, auditPage } from './admin.js';

const PAGES = [
  { path: 'clones', title: 'My clones', render: clonesPage },
  { path: 'resources', title: 'Resources', render: resourcesPage },
  { path: 'origin', title: 'Origin', render: originPage },
  { path: 'all', title: 'All clones', render: allClonesPage, admin: true },
  { path: 'tokens', title: 'Tokens', render: tokensPage, admin: true },
  { path: 'audit', title: 'Audit', render: auditPage, admin: true },
];

let session = null;
let teardown = null;

const $ = (id) => document.getElementById(id);

export function banner(text, kind = 'error') {
  const b = $('banner');
  if (!text) { b.hidden = true; return; }
  b.className = `banner ${kind}`;
  replace(b, text);
  b.hidden = false;
}

// Asks in the page's own dialog (not window.confirm): true when confirmed.
export function confirmAction(text, okLabel = 'OK') {
  const dlg = $('confirm');
  replace($('confirm-text'), text);
  $('confirm-ok').textContent = okLabel;
  return new Promise((resolve) => {
    dlg.addEventListener('close', () => resolve(dlg.returnValue === 'ok'), { once: true });
    dlg.returnValue = '';
    dlg.showModal();
  });
}

function signInPage(message) {
  live.disconnect();
  replace($('nav'));
  replace($('who'));
  const token = h('input', { type: 'password', id: 'token', name: 'token', autocomplete: 'off',
    required: true, placeholder: 'API token', spellcheck: 'false' });
  const error = h('p', { class: 'error', role: 'alert', id: 'signin-error' }, message || '');
  const form = h('form', { class: 'card signin', onsubmit: async (e) => {
    e.preventDefault();
    try {
      const s = await call('POST', '/ui/session', { token: token.value });
      token.value = '';
      start(s);
    } catch (err) {
      replace(error, err.message);
    }
  } },
  h('h1', {}, 'Sign in to zdap'),
  h('label', { for: 'token' }, 'Your API token (zdapd token add USER prints it)'),
  token, h('button', { type: 'submit', class: 'primary', id: 'signin' }, 'Sign in'), error);
  replace($('main'), form);
  token.focus();
}

function frame() {
  const links = PAGES.filter((p) => !p.admin || session.admin)
    .map((p) => h('a', { href: `#/${p.path}`, id: `nav-${p.path}` }, p.title));
  replace($('nav'), links);
  const dot = h('span', { class: 'live', title: 'live updates', id: 'live' }, '●');
  const out = h('button', { type: 'button', id: 'signout', onclick: signOut }, 'Sign out');
  replace($('who'), dot, h('span', { id: 'user' }, session.user, session.admin ? ' (admin)' : ''),
    out);
  live.connect((on) => dot.classList.toggle('on', on));
}

async function signOut() {
  try { await call('DELETE', '/ui/session'); } catch (e) { /* signed out either way */ }
  session = null;
  setCsrf('');
  signInPage('Signed out.');
}

function route() {
  if (!session) return;
  const path = (location.hash.replace(/^#\/?/, '') || 'clones').split('/')[0];
  const page = PAGES.find((p) => p.path === path && (!p.admin || session.admin)) || PAGES[0];
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.id === `nav-${page.path}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (teardown) teardown();
  teardown = null;
  banner('');
  const main = $('main');
  replace(main, h('p', { class: 'muted' }, 'Loading…'));
  document.title = `${page.title} · zdap`;
  teardown = page.render(main, { session, banner, confirmAction, onAuthLost });
}

function onAuthLost(err) {
  if (err instanceof ApiError && err.status === 401) {
    session = null;
    signInPage(err.message);
    return true;
  }
  return false;
}

function start(s) {
  session = s;
  setCsrf(s.csrf);
  frame();
  route();
}

window.addEventListener('hashchange', route);
(async () => {
  try {
    start(await call('GET', '/ui/session'));
  } catch (err) {
    signInPage(err.status === 401 ? '' : err.message);
  }
})();
