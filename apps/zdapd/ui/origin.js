// Origin: the host's disk, memory and load, what it runs, and each resource's snapshots,
// clones and pool.
import { h, replace, bytes } from './dom.js';
import { get } from './api.js';
import { onEvent } from './events.js';

function meter(label, used, total) {
  const pct = total ? Math.round((100 * used) / total) : 0;
  return h('div', { class: 'meter' }, h('span', {}, label),
    h('progress', { max: 100, value: pct }), h('span', { class: 'muted' },
      `${bytes(used)} of ${bytes(total)} (${pct}%)`));
}

export function originPage(main, ctx) {
  const body = h('div', { class: 'cards', id: 'origin' });
  replace(main, h('div', { class: 'page-head' }, h('h1', {}, 'Origin')), body);
  const reload = async () => {
    let s;
    try { s = await get('/v1/status'); } catch (e) {
      if (!ctx.onAuthLost(e)) ctx.banner(e.message);
      return;
    }
    const st = s.storage || {};
    const mem = s.memory || {};
    const load = s.load || [];
    const counts = s.counts || {};
    replace(body,
      h('article', { class: 'card' }, h('h2', {}, 'Host'),
        meter('disk', st.used_bytes ?? (st.total_bytes - st.free_bytes), st.total_bytes),
        mem.total_bytes ? meter('memory', mem.total_bytes - mem.available_bytes, mem.total_bytes)
          : null,
        h('dl', {},
          h('dt', {}, 'load'), h('dd', {}, load.map((l) => Number(l).toFixed(2)).join(' · ')),
          h('dt', {}, 'storage'), h('dd', {}, `${st.driver} at ${st.path}`),
          h('dt', {}, 'runtime'), h('dd', {}, (s.runtime || {}).driver),
          h('dt', {}, 'version'), h('dd', {}, s.version),
          h('dt', {}, 'counts'), h('dd', {}, `${counts.resources} resource(s) · ` +
            `${counts.snapshots} snapshot(s) · ${counts.clones} clone(s)`))),
      h('article', { class: 'card' }, h('h2', {}, 'Resources'),
        h('table', {}, h('thead', {}, h('tr', {}, ['resource', 'snapshots', 'clones', 'pool ready',
          'pool min–max', 'standby'].map((t) => h('th', {}, t)))),
        h('tbody', {}, (s.resources || []).map((r) => h('tr', {},
          h('td', {}, r.name), h('td', {}, r.snapshots), h('td', {}, r.clones),
          h('td', {}, (r.pool || {}).ready), h('td', {}, `${(r.pool || {}).min}–${(r.pool || {}).max}`),
          h('td', {}, r.standby ? `${r.standby.state}${r.standby.lag_seconds !== undefined ?
            `, ${r.standby.lag_seconds} s behind` : ''}` : '—')))))));
  };
  reload();
  const off = onEvent(() => reload());
  return off;
}
