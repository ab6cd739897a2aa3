// Origin: the host's disk, memory, load and clone ports, what it runs, and each resource's
// snapshots, clones, pool and refresh schedule with its last result.
import { h, replace, bytes, duration, age } from './dom.js';
import { get } from './api.js';
import { onEvent } from './events.js';

function meter(label, used, total) {
  const pct = total ? Math.round((100 * used) / total) : 0;
  return h('div', { class: 'meter' }, h('span', {}, label),
    h('progress', { max: 100, value: pct }), h('span', { class: 'muted' },
      `${bytes(used)} of ${bytes(total)} (${pct}%)`));
}

// "first–last" for everyone; admins also see how many are taken.
function clonePorts(p) {
  if (!p || !p.first) return '—';
  const range = `${p.first}–${p.last}`;
  if (p.in_use === undefined) return range;
  return `${range}: ${p.in_use} in use, ${p.last - p.first + 1 - p.in_use} free`;
}

// The schedule, when the next run is due, and how the last one ended. The error line comes
// from a dump or a script: it is shown as text (h() never parses markup).
function refreshCell(r) {
  const f = r.refresh || {};
  const parts = [];
  if (f.cron) {
    parts.push(h('code', {}, f.cron));
    if (f.next_at) parts.push(` · next in ${duration(Date.parse(f.next_at) - Date.now())}`);
  } else {
    parts.push(h('span', { class: 'muted' }, 'no schedule'));
  }
  const last = f.last;
  if (last) {
    const ok = last.state === 'done';
    parts.push(h('div', {},
      h('span', { class: `tag ${ok ? 'ok' : 'job-failed'}`, 'data-test': 'last-refresh' },
        ok ? 'last: done' : 'last: failed'),
      ` ${age(last.finished_at)} in ${duration(last.elapsed_ms)}`,
      ok && last.snapshot ? [' → ', h('code', {}, last.snapshot)] : null));
    if (!ok && last.error) {
      parts.push(h('div', { class: 'error', 'data-test': 'last-refresh-error' }, last.error));
    }
  }
  return h('dd', { class: 'refresh-status', 'data-test': `refresh-${r.name}` }, parts);
}

function pool(p) {
  if (!p || (!p.min && !p.max && !p.ready)) return 'none';
  return `${p.ready} ready · keeps ${p.min}, at most ${p.max}`;
}

// One resource as a definition list: readable at a laptop's width and a phone's.
function resourceStatus(r) {
  const sb = r.standby;
  return h('section', { class: 'origin-resource', 'data-test': `origin-resource-${r.name}` },
    h('h3', {}, r.name),
    h('dl', {},
      h('dt', {}, 'snapshots'), h('dd', {}, r.snapshots),
      h('dt', {}, 'clones'), h('dd', {}, r.clones),
      h('dt', {}, 'pool'), h('dd', {}, pool(r.pool)),
      h('dt', {}, 'refresh'), refreshCell(r),
      sb ? [h('dt', {}, 'standby'), h('dd', {}, `${sb.state}${sb.lag_seconds !== undefined
        ? `, ${sb.lag_seconds} s behind` : ''}`)] : null));
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
          h('dt', {}, 'clone ports'), h('dd', { 'data-test': 'clone-ports' },
            clonePorts(s.clone_ports)),
          h('dt', {}, 'version'), h('dd', {}, s.version),
          h('dt', {}, 'counts'), h('dd', {}, `${counts.resources} resource(s) · ` +
            `${counts.snapshots} snapshot(s) · ${counts.clones} clone(s)`))),
      h('article', { class: 'card' }, h('h2', {}, 'Resources'),
        (s.resources || []).map(resourceStatus)));
  };
  reload();
  const off = onEvent(() => reload());
  return off;
}
