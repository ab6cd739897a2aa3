// The live part of the page: one EventSource on GET /v1/events (the browser resumes it with
// Last-Event-ID after a drop). Pages register what to re-read when an event of interest
// arrives; bursts are coalesced into one refresh. Nothing polls.

const listeners = new Set();
let source = null;
let timer = null;
let pending = [];

export function onEvent(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function deliver() {
  timer = null;
  const batch = pending;
  pending = [];
  for (const fn of [...listeners]) {
    try { fn(batch); } catch (e) { console.error(e); }
  }
}

function receive(msg) {
  let ev;
  try { ev = JSON.parse(msg.data); } catch (e) { return; }
  pending.push(ev);
  if (!timer) timer = setTimeout(deliver, 150);
}

const TYPES = ['clone.created', 'clone.reset', 'clone.updated', 'clone.destroyed',
  'clone.expiring', 'snapshot.created', 'snapshot.deleted', 'refresh.started',
  'refresh.finished', 'refresh.failed', 'pool.exhausted', 'standby.state'];

export function connect(setLive) {
  if (source) return;
  source = new EventSource('/v1/events', { withCredentials: true });
  for (const t of TYPES) source.addEventListener(t, receive);
  // A gap: events were missed while away; every page re-reads its lists.
  source.addEventListener('gap', () => { pending.push({ type: 'gap' }); deliver(); });
  source.onopen = () => setLive(true);
  source.onerror = () => setLive(source && source.readyState === EventSource.OPEN);
}

export function disconnect() {
  if (source) source.close();
  source = null;
}
