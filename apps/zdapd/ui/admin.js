// Admin pages: Tokens (users and roles; a token is shown once, when it is made) and Audit
// (who changed what, from where).
import { h, replace } from './dom.js';
import { call, get, enc } from './api.js';

export function tokensPage(main, ctx) {
  const list = h('tbody', {});
  const shown = h('div', { id: 'new-token' });
  const user = h('input', { type: 'text', name: 'user', placeholder: 'user name', required: true,
    pattern: '[a-z0-9][a-z0-9\\-]{0,62}', 'aria-label': 'user', autocomplete: 'off',
    spellcheck: 'false' });
  const role = h('select', { name: 'role', 'aria-label': 'role' },
    h('option', { value: 'user' }, 'user'), h('option', { value: 'admin' }, 'admin'));
  const reload = async () => {
    let data;
    try { data = await get('/v1/tokens'); } catch (e) {
      if (!ctx.onAuthLost(e)) ctx.banner(e.message);
      return;
    }
    replace(list, (data.tokens || []).map((t) => h('tr', {},
      h('td', {}, t.user), h('td', {}, t.role),
      h('td', {}, h('button', { type: 'button', class: 'danger small', onclick: async () => {
        if (!(await ctx.confirmAction(`Remove ${t.user}'s token? Their sessions end.`, 'Remove'))) {
          return;
        }
        try {
          await call('DELETE', `/v1/tokens/${enc(t.user)}`);
          ctx.banner(`${t.user}'s token removed`, 'ok');
          reload();
        } catch (e) { if (!ctx.onAuthLost(e)) ctx.banner(e.message); }
      } }, 'Remove')))));
  };
  const form = h('form', { class: 'inline', onsubmit: async (e) => {
    e.preventDefault();
    try {
      const t = await call('POST', '/v1/tokens', { user: user.value, role: role.value });
      replace(shown, h('div', { class: 'card ok' },
        h('p', {}, `${t.user}'s token (shown once; give it to them):`),
        h('code', { class: 'conn', 'data-test': 'token' }, t.token)));
      user.value = '';
      reload();
    } catch (err) { if (!ctx.onAuthLost(err)) ctx.banner(err.message); }
  } }, user, role, h('button', { type: 'submit', class: 'primary' }, 'Add token'));
  replace(main, h('div', { class: 'page-head' }, h('h1', {}, 'Tokens')),
    h('article', { class: 'card' }, form, shown,
      h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'user'), h('th', {}, 'role'),
        h('th', {}, ''))), list)));
  reload();
  return null;
}

export function auditPage(main, ctx) {
  const rows = h('tbody', {});
  const userFilter = h('input', { type: 'text', placeholder: 'user', 'aria-label': 'user filter',
    autocomplete: 'off' });
  const reload = async () => {
    let data;
    const q = userFilter.value ? `&user=${enc(userFilter.value)}` : '';
    try { data = await get(`/v1/audit?limit=200${q}`); } catch (e) {
      if (!ctx.onAuthLost(e)) ctx.banner(e.message);
      return;
    }
    replace(rows, (data.records || []).map((r) => h('tr', { class: r.result === 'ok' ? '' : 'failed' },
      h('td', {}, h('time', { datetime: r.time }, r.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z'))),
      h('td', {}, r.user || '—'), h('td', {}, r.action), h('td', {}, r.target || ''),
      h('td', {}, r.result === 'ok' ? String(r.status) : `${r.status} ${r.result}`),
      h('td', {}, r.from))));
  };
  const form = h('form', { class: 'inline', onsubmit: (e) => { e.preventDefault(); reload(); } },
    userFilter, h('button', { type: 'submit' }, 'Filter'));
  replace(main, h('div', { class: 'page-head' }, h('h1', {}, 'Audit')),
    h('article', { class: 'card wide' }, form, h('div', { class: 'scroll' },
      h('table', { id: 'audit' }, h('thead', {}, h('tr', {}, ['when', 'who', 'what', 'target',
        'result', 'from'].map((t) => h('th', {}, t)))), rows))));
  reload();
  return null;
}
