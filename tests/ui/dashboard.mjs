// Drives zdapd's dashboard in Debian's headless Chromium (playwright-core, no browser
// download) as a user and as an admin, the way a person would, and checks what issue 24's
// acceptance asks. Run by tests/e2e/dashboard_test.cc against a real zdapd:
//
//   node dashboard.mjs   with ZDAP_URL, ZDAP_USER_TOKEN, ZDAP_ADMIN_TOKEN, ZDAP_OTHER_CLONE
//                        (another user's clone), ZDAP_BROKEN_RESOURCE (its refresh fails with
//                        markup in the error line), ZDAP_OUT (screenshots and results.json)
//
// Exits 1 with the failed checks listed; writes results.json (what the C++ test checks
// further: the session cookie for curl, the connection string the page showed).
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const env = (name) => {
  const v = process.env[name];
  if (!v) { console.error(`dashboard.mjs: ${name} is not set`); process.exit(2); }
  return v;
};
const URL_ = env('ZDAP_URL');
const USER_TOKEN = env('ZDAP_USER_TOKEN');
const ADMIN_TOKEN = env('ZDAP_ADMIN_TOKEN');
const OTHER_CLONE = env('ZDAP_OTHER_CLONE');
const BROKEN = env('ZDAP_BROKEN_RESOURCE');
const OUT = env('ZDAP_OUT');
const WIDTHS = [1280, 390];
const TIMEOUT = 60000;

const failures = [];
const results = {};
function check(ok, what) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
  return ok;
}

async function launch() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zdap-chromium-'));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.ZDAP_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 900 },
    ignoreHTTPSErrors: !!process.env.ZDAP_CA,  // the test's own CA (curl and node trust it by file)
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  ctx.setDefaultTimeout(TIMEOUT);
  return { ctx, dir };
}

async function shoot(page, name) {
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: width > 600 ? 900 : 844 });
    await page.waitForTimeout(100);
    await page.screenshot({ path: path.join(OUT, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

async function signIn(page, token) {
  await page.goto(`${URL_}/ui/`);
  await page.fill('#token', token);
  await page.click('#signin');
  await page.waitForSelector('#signout');
}

async function go(page, hash, selector) {
  await page.evaluate((h) => { location.hash = h; }, hash);
  await page.waitForSelector(selector);
}

function psqlCount(uri) {
  return execFileSync('psql', [uri, '-tAc', 'select count(*) from invoice_line'],
    { encoding: 'utf8', timeout: 30000 }).trim();
}

// A browser with one page whose dialogs (alert, confirm) are recorded and dismissed.
async function openBrowser() {
  const { ctx, dir } = await launch();
  const page = ctx.pages()[0] || await ctx.newPage();
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  return { ctx, dir, page, dialogs };
}

async function userFlow() {
  const { ctx, dir, page, dialogs } = await openBrowser();
  try {
    await page.goto(`${URL_}/ui/`);
    await page.waitForSelector('#token');
    await shoot(page, 'signin');
    // A wrong token is refused on the page.
    await page.fill('#token', 'not-a-token');
    await page.click('#signin');
    await page.waitForFunction(() => document.querySelector('#signin-error').textContent !== '');
    check((await page.textContent('#signin-error')).includes('not known'), 'a wrong token is refused');

    await page.fill('#token', USER_TOKEN);
    await page.click('#signin');
    await page.waitForSelector('#signout');
    const cookies = await ctx.cookies(URL_);
    const session = cookies.find((c) => c.name.endsWith('zdap_session'));
    check(!!session, 'sign-in sets the session cookie');
    if (session) {
      check(session.httpOnly, 'the session cookie is HttpOnly');
      check(session.sameSite === 'Strict', 'the session cookie is SameSite=Strict');
      check(session.expires > Date.now() / 1000 + 60, 'the session cookie has an expiry');
      check(URL_.startsWith('https') ? session.secure : true, 'the session cookie is Secure under TLS');
      results.session_cookie = `${session.name}=${session.value}`;
    }
    check(!(await page.textContent('#who')).includes('admin'), 'the user is not shown as admin');
    check(await page.$('#nav-audit') === null, 'a user has no Audit page');

    // A clone from the Chinook snapshot.
    await go(page, '#/resources', '[data-test=resource-chinook] [data-test=create]');
    await shoot(page, 'resources');
    await page.click('[data-test=resource-chinook] [data-test=create]');
    await page.waitForSelector('#my-clones article.clone', { timeout: 120000 });
    const card = page.locator('#my-clones article.clone').first();
    const id = await card.getAttribute('data-clone');
    results.clone = id;
    check(!!id, `the new clone is listed (${id})`);
    check((await card.locator('[data-test=state]').textContent()) === 'ready', 'it is ready');
    const masked = await card.locator('[data-test=uri]').textContent();
    check(masked.includes('••••••'), 'the password is hidden until asked for');
    await card.locator('[data-test=reveal]').click();
    const uri = await card.locator('[data-test=uri]').textContent();
    results.uri = uri;
    check(psqlCount(uri) === '2240', 'psql with the connection string the page shows: 2240 invoice lines');
    const command = await card.locator('[data-test=command]').textContent();
    check(command === `psql '${uri}'`, 'the psql command is shown');
    check(!(await page.content()).includes(OTHER_CLONE), "another user's clone is not shown");
    await card.locator('[data-test=reveal]').click();
    await shoot(page, 'clones');

    // Reset, with the page's own confirmation.
    execFileSync('psql', [uri, '-qc', 'delete from invoice_line'], { timeout: 30000 });
    check(psqlCount(uri) === '0', 'rows deleted before the reset');
    await card.locator('[data-test=reset]').click();
    await page.waitForSelector('#confirm[open]');
    await shoot(page, 'confirm-reset');
    await page.click('#confirm-ok');
    await page.waitForFunction(() => /reset to fresh data/.test(document.querySelector('#banner').textContent),
      null, { timeout: 120000 });
    check(psqlCount(uri) === '2240', 'after the reset the data is fresh, same connection string');

    // Extend.
    const before = await card.locator('[data-test=expiry]').getAttribute('title');
    await card.locator('[data-test=extend-ttl]').selectOption('7d');
    await card.locator('[data-test=extend]').click();
    await page.waitForFunction(() => /expires 7d from now/.test(document.querySelector('#banner').textContent));
    await page.waitForFunction((b) => {
      const el = document.querySelector('#my-clones [data-test=expiry]');
      return el && el.title !== b;
    }, before);
    const after = await page.locator('#my-clones [data-test=expiry]').first().getAttribute('title');
    check(Date.parse(after) - Date.now() > 6.9 * 86400e3, `extended by 7 days (expires ${after})`);

    // Security, from the signed-in page itself.
    const noCsrf = await page.evaluate(async () => {
      const r = await fetch('/v1/resources/chinook/clones', { method: 'POST',
        headers: { 'Content-Type': 'application/json' }, body: '{}' });
      return { status: r.status, body: await r.text() };
    });
    check(noCsrf.status === 403 && noCsrf.body.includes('CSRF'), `a change without the CSRF token is refused (${noCsrf.status})`);
    const audit = await page.evaluate(async () => (await fetch('/v1/audit')).status);
    check(audit === 403, `a user's session cannot read /v1/audit (${audit})`);

    // A cross-site form post (a page on another origin submits to zdapd).
    await ctx.route('http://attacker.test/**', (route) => route.fulfill({
      contentType: 'text/html',
      body: `<form id=f method=POST action="${URL_}/v1/clones/${id}/reset" enctype="text/plain">` +
        `<input name='{"snapshot":"x' value='"}'></form><button id=go onclick="f.submit()">go</button>`,
    }));
    const cross = await ctx.newPage();
    await cross.goto('http://attacker.test/');
    const [resp] = await Promise.all([
      cross.waitForResponse((r) => r.url().includes('/reset')),
      cross.click('#go'),
    ]);
    check(resp.status() === 403, `a cross-site form post is refused (${resp.status()})`);
    await cross.close();

    // Destroy.
    await card.locator('[data-test=destroy]').click();
    await page.waitForSelector('#confirm[open]');
    await page.click('#confirm-ok');
    await page.waitForFunction((cid) => !document.querySelector(`[data-clone="${cid}"]`), id,
      { timeout: 120000 });
    check(true, 'destroyed: the clone left the list');
    await shoot(page, 'clones-empty');
    await go(page, '#/origin', '#origin .card');
    const userPorts = (await page.textContent('[data-test=clone-ports]')).trim();
    check(/^\d+–\d+$/.test(userPorts), `a user sees the clone port range only (${userPorts})`);
    await shoot(page, 'origin');

    // Sign-out revokes the session: its cookie opens nothing afterwards.
    await page.click('#signout');
    await page.waitForSelector('#token');
    const reused = await fetch(`${URL_}/v1/clones`, { headers: { Cookie: results.session_cookie } });
    check(reused.status === 401, `the signed-out session's cookie is refused (${reused.status})`);
    check(dialogs.length === 0, 'no browser dialog was opened');
  } finally {
    await ctx.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function adminFlow() {
  const { ctx, dir, page, dialogs } = await openBrowser();
  try {
    await page.goto(`${URL_}/ui/`);
    // Any <img> that appears anywhere in the page is recorded before it could load.
    await page.evaluate(() => {
      window.__imgs = 0;
      new MutationObserver((ms) => {
        for (const m of ms) for (const n of m.addedNodes) {
          if (n.nodeType === 1 && (n.tagName === 'IMG' || n.querySelector?.('img'))) window.__imgs++;
        }
      }).observe(document, { subtree: true, childList: true });
    });
    await page.fill('#token', ADMIN_TOKEN);
    await page.click('#signin');
    await page.waitForSelector('#signout');
    check((await page.textContent('#who')).includes('admin'), 'the admin is shown as admin');

    await go(page, '#/all', '#all-clones');
    await page.waitForSelector(`[data-clone="${OTHER_CLONE}"]`);
    check(true, "an admin sees another user's clone");
    await shoot(page, 'all-clones');

    // A refresh that fails with markup in its error line: shown as text, nothing runs.
    await go(page, '#/resources', `[data-test=resource-${BROKEN}] [data-test=refresh]`);
    await page.click(`[data-test=resource-${BROKEN}] [data-test=refresh]`);
    await page.waitForSelector('#confirm[open]');
    await page.click('#confirm-ok');
    const err = page.locator(`[data-test=resource-${BROKEN}] [data-test=job-error]`);
    await err.waitFor({ timeout: 180000 });
    const text = await err.textContent();
    results.refresh_error = text;
    check(text.includes('<img src=x onerror=alert(1)>'), 'the error line is shown as text');
    await page.waitForTimeout(500);
    const imgs = await page.evaluate(() => ({ now: document.querySelectorAll('img').length,
      ever: window.__imgs }));
    check(imgs.now === 0 && imgs.ever === 0, 'no element was created from the error line');
    check(dialogs.length === 0, 'no script ran from it (no dialog)');
    await page.locator(`[data-test=resource-${BROKEN}] details summary`).click();
    await shoot(page, 'resources-admin');

    await go(page, '#/tokens', 'table tbody tr');
    await shoot(page, 'tokens');
    await go(page, '#/audit', '#audit tbody tr');
    await shoot(page, 'audit');
    // The Origin page: clone ports in use, and the broken resource's last refresh with its
    // error line, again as text.
    await go(page, '#/origin', '#origin .card');
    const adminPorts = (await page.textContent('[data-test=clone-ports]')).trim();
    check(/^\d+–\d+: \d+ in use, \d+ free$/.test(adminPorts),
      `an admin sees how many clone ports are in use (${adminPorts})`);
    const schedule = await page.textContent(`[data-test=refresh-${BROKEN}]`);
    check(schedule.includes('0 3 1 1 *') && /next in \d/.test(schedule),
      `the refresh schedule and its next run are shown (${schedule.slice(0, 40)})`);
    const last = page.locator(`[data-test=refresh-${BROKEN}] [data-test=last-refresh]`);
    check((await last.textContent()).includes('failed'), 'the failed refresh is the last result');
    const lastErr = await page.textContent(`[data-test=refresh-${BROKEN}] [data-test=last-refresh-error]`);
    check(lastErr.includes('<img src=x onerror=alert(1)>'),
      'the last refresh\'s error line is shown as text on the Origin page');
    const imgsAfter = await page.evaluate(() => ({ now: document.querySelectorAll('img').length,
      ever: window.__imgs }));
    check(imgsAfter.now === 0 && imgsAfter.ever === 0 && dialogs.length === 0,
      'nothing ran or was created from it there either');
    await shoot(page, 'origin-admin');
  } finally {
    await ctx.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

fs.mkdirSync(OUT, { recursive: true });
try {
  await userFlow();
  await adminFlow();
} catch (e) {
  check(false, `the flow stopped: ${e.message.split('\n')[0]}`);
}
fs.writeFileSync(path.join(OUT, 'results.json'), JSON.stringify({ ...results, failures }, null, 2));
console.log(failures.length ? `${failures.length} check(s) failed` : 'all checks passed');
process.exit(failures.length ? 1 : 0);
