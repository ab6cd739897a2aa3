// My clones (the caller's) and, for admins, All clones by owner: how to connect (connection
// string and client command with a copy button, the password revealed on request), the expiry
// countdown, and reset / extend / protect / destroy with a confirmation.
import { h, replace, duration, age } from './dom.js';
import { call, get, enc } from './api.js';
import { onEvent } from './events.js';

const EXTEND_CHOICES = ['1h', '8h', '1d', '7d'];

function masked(uri, password) {
  if (!password) return uri;
  return uri.split(encodeURIComponent(password)).join('••••••').split(password).join('••••••');
}

function clientCommand(c, reveal) {
  const uri = reveal ? c.uri : masked(c.uri, c.password);
  if (c.engine === 'mariadb' || c.engine === 'mysql') {
    const pw = reveal ? c.password : '••••••';
    return `mariadb -h ${c.host} -P ${c.port} -u ${c.user} -p'${pw}' ${c.database}`;
  }
  return `psql '${uri}'`;
}

function copyButton(getText, label) {
  const b = h('button', { type: 'button', class: 'small', title: `copy ${label}` }, 'Copy');
  b.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(getText());
      b.textContent = 'Copied';
    } catch (e) {
      b.textContent = 'Select and copy';
    }
    setTimeout(() => { b.textContent = 'Copy'; }, 1500);
  });
  return b;
}

function expiry(c) {
  if (c.protected) return h('span', { class: 'tag ok' }, 'protected');
  if (!c.expires_at) return h('span', { class: 'tag' }, 'never expires');
  const left = Date.parse(c.expires_at) - Date.now();
  const cls = left < 3600e3 ? 'tag warn' : 'tag';
  return h('span', { class: cls, 'data-test': 'expiry', title: c.expires_at },
    left > 0 ? `expires in ${duration(left)}` : 'expiring');
}

// `revealed`: the ids whose password is shown; kept by the list, so that a card redrawn for a
// live update keeps what its reader asked for.
function cloneCard(c, ctx, reload, showOwner, revealed) {
  let reveal = revealed.has(c.id);
  const uri = h('code', { class: 'conn', 'data-test': 'uri' });
  const cmd = h('code', { class: 'conn', 'data-test': 'command' });
  const pw = h('code', { 'data-test': 'password' });
  const show = h('button', { type: 'button', class: 'small', 'data-test': 'reveal' }, 'Show password');
  const paint = () => {
    replace(uri, reveal ? c.uri : masked(c.uri, c.password));
    replace(cmd, clientCommand(c, reveal));
    replace(pw, reveal ? c.password : '••••••');
    show.textContent = reveal ? 'Hide password' : 'Show password';
  };
  show.addEventListener('click', () => {
    reveal = !reveal;
    if (reveal) revealed.add(c.id); else revealed.delete(c.id);
    paint();
  });
  paint();
  const act = async (what, fn) => {
    try {
      await fn();
      ctx.banner(`${c.id}: ${what}`, 'ok');
      await reload();
    } catch (e) {
      if (!ctx.onAuthLost(e)) ctx.banner(`${c.id}: ${e.message}`);
    }
  };
  const extendSel = h('select', { 'aria-label': 'extend by', 'data-test': 'extend-ttl' },
    EXTEND_CHOICES.map((d) => h('option', { value: d }, d)));
  const buttons = h('div', { class: 'actions' },
    h('button', { type: 'button', 'data-test': 'reset', onclick: async () => {
      if (await ctx.confirmAction(`Reset ${c.id}? Its data goes back to the snapshot; the ` +
        'address and password stay.', 'Reset')) {
        await act('reset to fresh data', () => call('POST', `/v1/clones/${enc(c.id)}/reset`, {}));
      }
    } }, 'Reset'),
    h('span', { class: 'extend' }, extendSel,
      h('button', { type: 'button', 'data-test': 'extend', onclick: () => act(
        `expires ${extendSel.value} from now`,
        () => call('PATCH', `/v1/clones/${enc(c.id)}`, { ttl: extendSel.value })) }, 'Extend')),
    h('button', { type: 'button', 'data-test': 'protect', onclick: () => act(
      c.protected ? 'no longer protected' : 'protected',
      () => call('PATCH', `/v1/clones/${enc(c.id)}`, { protected: !c.protected })) },
    c.protected ? 'Unprotect' : 'Protect'),
    h('button', { type: 'button', class: 'danger', 'data-test': 'destroy', onclick: async () => {
      if (await ctx.confirmAction(`Destroy ${c.id}? Its data is gone for good.`, 'Destroy')) {
        await act('destroyed', () => call('DELETE', `/v1/clones/${enc(c.id)}`));
      }
    } }, 'Destroy'));
  return h('article', { class: `card clone state-${c.state}`, 'data-clone': c.id },
    h('header', {},
      h('h2', {}, c.id),
      h('span', { class: `tag state`, 'data-test': 'state' }, c.state),
      expiry(c)),
    h('dl', {},
      showOwner ? [h('dt', {}, 'owner'), h('dd', {}, c.owner || '(pool)')] : null,
      h('dt', {}, 'snapshot'), h('dd', {}, c.snapshot),
      h('dt', {}, 'address'), h('dd', {}, `${c.host}:${c.port}`, ' · ', c.database,
        ' as ', c.user),
      h('dt', {}, 'made'), h('dd', {}, age(c.created_at)),
      c.error ? [h('dt', {}, 'error'), h('dd', { class: 'error' }, c.error)] : null,
      h('dt', {}, 'connect'), h('dd', {}, uri, copyButton(() => c.uri, 'connection string')),
      h('dt', {}, 'client'), h('dd', {}, cmd, copyButton(() => clientCommand(c, true), 'command')),
      h('dt', {}, 'password'), h('dd', {}, pw, show)),
    buttons);
}

function listPage(main, ctx, { all }) {
  const list = h('div', { class: 'cards', id: all ? 'all-clones' : 'my-clones' });
  const head = h('div', { class: 'page-head' },
    h('h1', {}, all ? 'All clones' : 'My clones'),
    all ? null : h('a', { class: 'button', href: '#/resources' }, 'New clone…'));
  replace(main, head, list);
  let timer = null;
  const revealed = new Set();
  // What the cards show now: a live update that changes nothing redraws nothing, so that a
  // reader's half-made choice (the extend duration) is not reset under them.
  let shown = null;
  const reload = async () => {
    let data;
    try {
      data = await get(all ? '/v1/clones?all=1' : '/v1/clones');
    } catch (e) {
      if (!ctx.onAuthLost(e)) ctx.banner(e.message);
      return;
    }
    const clones = data.clones || [];
    const key = JSON.stringify(clones);
    if (key === shown) return;
    shown = key;
    if (!clones.length) {
      replace(list, h('p', { class: 'muted empty' }, all ? 'No clones on this origin.' :
        'You have no clones. Make one from a snapshot on the Resources page.'));
      return;
    }
    if (all) {
      const owners = new Map();
      for (const c of clones) {
        const o = c.owner || '(pool)';
        if (!owners.has(o)) owners.set(o, []);
        owners.get(o).push(c);
      }
      replace(list, [...owners.entries()].sort().map(([owner, cs]) => h('section', { class: 'owner' },
        h('h2', {}, owner, h('span', { class: 'muted' }, ` · ${cs.length} clone(s)`)),
        cs.map((c) => cloneCard(c, ctx, reload, true, revealed)))));
    } else {
      replace(list, clones.map((c) => cloneCard(c, ctx, reload, false, revealed)));
    }
  };
  reload();
  const off = onEvent((batch) => {
    if (batch.some((e) => e.type === 'gap' || e.type.startsWith('clone.'))) reload();
  });
  // The countdowns move without asking the server.
  timer = setInterval(() => {
    for (const el of list.querySelectorAll('[data-test=expiry]')) {
      const left = Date.parse(el.title) - Date.now();
      el.textContent = left > 0 ? `expires in ${duration(left)}` : 'expiring';
    }
  }, 30000);
  return () => { off(); clearInterval(timer); };
}

export const clonesPage = (main, ctx) => listPage(main, ctx, { all: false });
export const allClonesPage = (main, ctx) => listPage(main, ctx, { all: true });
