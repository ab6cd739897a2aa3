// Resources and snapshots: each snapshot's age, data_as_of where known, size and clones, a
// "new clone" form; for admins a refresh button with the job's live progress and the last
// failure's error line and log tail (shown as text: they come from dumps and scripts).
import { h, replace, age, bytes } from './dom.js';
import { call, get, enc } from './api.js';
import { onEvent } from './events.js';

const TTLS = ['', '1h', '8h', '1d', '7d'];

function newCloneForm(resource, snapshot, ctx) {
  const name = h('input', { type: 'text', name: 'name', placeholder: 'name (optional)',
    pattern: '[a-z0-9][a-z0-9\\-]{0,62}', maxlength: 63, 'aria-label': 'clone name',
    spellcheck: 'false', autocomplete: 'off' });
  const ttl = h('select', { name: 'ttl', 'aria-label': 'lifetime' },
    TTLS.map((t) => h('option', { value: t }, t ? `for ${t}` : `default (${resource.ttl})`)));
  const go = h('button', { type: 'submit', class: 'primary', 'data-test': 'create' }, 'New clone');
  return h('form', { class: 'inline', onsubmit: async (e) => {
    e.preventDefault();
    go.disabled = true;
    go.textContent = 'Creating…';
    const body = { snapshot };
    if (name.value) body.name = name.value;
    if (ttl.value) body.ttl = ttl.value;
    try {
      const c = await call('POST', `/v1/resources/${enc(resource.name)}/clones`, body);
      ctx.banner(`${c.id} is ready`, 'ok');
      location.hash = '#/clones';
    } catch (err) {
      if (!ctx.onAuthLost(err)) ctx.banner(`${resource.name}: ${err.message}`);
      go.disabled = false;
      go.textContent = 'New clone';
    }
  } }, name, ttl, go);
}

function jobView(job) {
  if (!job) return null;
  const pct = job.bytes_total ? Math.floor((100 * job.bytes_done) / job.bytes_total) : null;
  const parts = [h('span', { class: `tag job-${job.state}`, 'data-test': 'job-state' },
    `refresh ${job.state}`)];
  if (job.state === 'running' || job.state === 'queued') {
    parts.push(h('span', {}, ` ${job.phase || 'starting'}`));
    if (pct !== null) parts.push(h('progress', { max: 100, value: pct }), ` ${pct}%`);
  }
  if (job.state === 'done' && job.snapshot) parts.push(` → ${job.snapshot}`);
  const out = h('div', { class: 'job', 'data-test': 'job' }, parts);
  if (job.state === 'failed') {
    out.appendChild(h('p', { class: 'error', 'data-test': 'job-error' }, job.error || 'failed'));
    if (job.log_tail && job.log_tail.length) {
      out.appendChild(h('details', {}, h('summary', {}, 'log tail'),
        h('pre', { 'data-test': 'job-log' }, job.log_tail.join('\n'))));
    }
  }
  return out;
}

export function resourcesPage(main, ctx) {
  const list = h('div', { class: 'cards', id: 'resources' });
  replace(main, h('div', { class: 'page-head' }, h('h1', {}, 'Resources and snapshots')), list);
  let followTimer = null;
  const jobs = new Map();  // resource -> newest job

  const follow = () => {
    // While a refresh runs, its progress (bytes, phase) is read every 2 s; the events say
    // when it starts and ends.
    clearTimeout(followTimer);
    const running = [...jobs.values()].filter((j) => j.state === 'running' || j.state === 'queued');
    if (!running.length) return;
    followTimer = setTimeout(async () => {
      for (const j of running) {
        try { jobs.set(j.resource, await get(`/v1/jobs/${enc(j.id)}`)); } catch (e) { /* next */ }
      }
      paint();
      follow();
    }, 2000);
  };

  let resources = [];
  const paint = () => {
    if (!resources.length) {
      replace(list, h('p', { class: 'muted empty' }, 'No resources are configured.'));
      return;
    }
    replace(list, resources.map((r) => {
      const snaps = r.snapshots || [];
      const refresh = ctx.session.admin ? h('button', { type: 'button', 'data-test': 'refresh',
        onclick: async () => {
          if (!(await ctx.confirmAction(`Refresh ${r.name}? A new snapshot is imported from its ` +
            'source; clones keep the one they have.', 'Refresh'))) return;
          try {
            const j = await call('POST', `/v1/resources/${enc(r.name)}/snapshots`);
            jobs.set(r.name, j.job || j);
            paint();
            follow();
          } catch (e) {
            if (!ctx.onAuthLost(e)) ctx.banner(`${r.name}: ${e.message}`);
          }
        } }, 'Refresh') : null;
      return h('article', { class: 'card resource', 'data-test': `resource-${r.name}` },
        h('header', {}, h('h2', {}, r.name),
          h('span', { class: 'tag' }, `${r.engine}${r.version ? ' ' + r.version : ''}`),
          h('span', { class: 'muted' }, `database ${r.database} · clones live ${r.ttl}`), refresh),
        jobView(jobs.get(r.name)),
        snaps.length ? h('ul', { class: 'snapshots' }, snaps.map((s, i) => h('li', {},
          h('div', { class: 'snap' },
            h('code', {}, s.id), i === 0 ? h('span', { class: 'tag ok' }, 'newest') : null,
            h('span', { class: 'muted' }, ` made ${age(s.created_at)}`,
              s.data_as_of ? ` · data as of ${s.data_as_of}` : '',
              s.size !== undefined ? ` · ${bytes(s.size)}` : '',
              ` · ${s.clones} clone(s)`)),
          newCloneForm(r, s.id, ctx))))
          : h('p', { class: 'muted' }, 'No snapshot yet: a refresh makes the first.'));
    }));
  };

  const reload = async () => {
    try {
      const data = await get('/v1/resources');
      resources = data.resources || [];
      if (ctx.session.admin) {
        const js = await get('/v1/jobs');
        for (const j of (js.jobs || []).slice().reverse()) jobs.set(j.resource, j);
      }
    } catch (e) {
      if (!ctx.onAuthLost(e)) ctx.banner(e.message);
      return;
    }
    paint();
    follow();
  };
  reload();
  const off = onEvent((batch) => {
    if (batch.some((e) => e.type === 'gap' || e.type.startsWith('snapshot.') ||
      e.type.startsWith('refresh.') || e.type.startsWith('clone.'))) reload();
  });
  return () => { off(); clearTimeout(followTimer); };
}
