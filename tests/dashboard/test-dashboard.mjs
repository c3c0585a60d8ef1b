// test-dashboard.mjs WASMPLUG EXAMPLES_SOURCE BUILT_EXAMPLES OUT_DIR [CHROMIUM]
//
// The dashboard of `wasmplug serve` in a real headless Chromium: a store
// with the example plugins tally (UI: panels, a block type, a command;
// granted ui and ui.scripts) and word-counter, a server on 127.0.0.1 with a
// free port and a token, then the page:
//   - loads with no console errors and no uncaught exceptions (the
//     dashboard's own; what plugin frames refuse to run is not the page's),
//   - asks for the token, taken from the keyboard, and lists the plugins
//     with state, version, ABI and grants,
//   - shows a plugin's calls change after calls made through the API,
//   - shows an error (a trap) with its wasm backtrace, and a topic
//     published through the API in the event bus's table,
//   - renders tally's panels in sandboxed frames: the overview's inline
//     script does not run (not granted for that panel), the clock's does
//     (granted ui.scripts) yet cannot reach the dashboard (opaque origin:
//     the parent's title is unchanged, the frame says "isolated"),
//   - a panel's frame URL is single-use and its response carries a CSP
//     with `sandbox` (scripts only for the clock),
//   - is usable by keyboard, labelled (inputs, frames, tables, charts) and
//     has text contrast of at least 4.5:1,
//   - on a phone-sized screen too,
//   - read-only with --public-read, on a server that forwards word-counter
//     to a Redis queue (--queue-redis): that row marked "→ queue", state
//     remote, and the status line saying where its calls go.
// Screenshots go to OUT_DIR (dashboard-desktop.png, dashboard-phone.png).
// Everything is bounded in time; the server and Chromium are stopped.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Browser } from './cdp.mjs';

const [W, EXAMPLES, BUILT, OUT, CHROMIUM = '/usr/bin/chromium'] = process.argv.slice(2);
if (!W || !EXAMPLES || !BUILT || !OUT) {
  console.error('usage: test-dashboard.mjs WASMPLUG EXAMPLES_SOURCE BUILT_EXAMPLES OUT_DIR [CHROMIUM]');
  process.exit(2);
}
const TIME_LIMIT_MS = 400000; // under the CTest TIMEOUT (480 s): a loaded machine is slow
let passed = 0, failed = 0;
function check(name, ok, detail) {
  if (ok) { passed++; console.log('ok   ' + name); }
  else { failed++; console.log('FAIL ' + name + (detail !== undefined ? '\n     ' + detail : '')); }
}

const T = fs.mkdtempSync(path.join(os.tmpdir(), 'wasmplug-dashboard-'));
fs.mkdirSync(OUT, { recursive: true });
const env = Object.assign({}, process.env, { WASMPLUG_STORE: path.join(T, 'store'),
  WASMPLUG_PLUGIN_DATA: path.join(T, 'data'), NO_COLOR: '1' });
let server = null, browser = null;

async function cleanup() {
  if (browser) await browser.close();
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    const t = setTimeout(() => server.kill('SIGKILL'), 5000);
    await new Promise((r) => server.exitCode !== null ? r() : server.on('exit', r));
    clearTimeout(t);
  }
  fs.rmSync(T, { recursive: true, force: true });
}
const deadline = setTimeout(async () => {
  console.log(`FAIL the test did not finish within ${TIME_LIMIT_MS} ms`);
  await cleanup();
  process.exit(1);
}, TIME_LIMIT_MS);

function wp(args) {
  // install compiles native code with the C compiler: slow on a loaded machine
  const r = spawnSync(W, args, { env, encoding: 'utf8', timeout: 180000 });
  return { rc: r.status, out: (r.stdout || '') + (r.stderr || '') };
}

function plugin(name, wasm) {
  const dir = path.join(T, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(path.join(EXAMPLES, name, 'plugin.yaml'), path.join(dir, 'plugin.yaml'));
  fs.copyFileSync(path.join(BUILT, wasm), path.join(dir, wasm));
  return dir;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(what, fn, ms = 30000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try { last = await fn(); if (last) return last; } catch (e) { last = e.message; }
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}

async function main() {
  // ---- the store and the server --------------------------------------
  let r = wp(['install', plugin('tally', 'tally.wasm'), '--grant', 'kv', '--grant', 'ui', '--grant', 'ui.scripts']);
  check('install tally granting kv, ui and ui.scripts', r.rc === 0, r.out);
  r = wp(['install', plugin('word-counter', 'word-counter.wasm'), '--yes']);
  check('install word-counter', r.rc === 0, r.out);
  const token = 'dashboard-test-token-0123456789';
  const tokenFile = path.join(T, 'token');
  fs.writeFileSync(tokenFile, token + '\n', { mode: 0o600 });
  server = spawn(W, ['serve', '--listen', '127.0.0.1:0', '--token-file', tokenFile],
                 { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let serverOut = '';
  server.stdout.on('data', (d) => { serverOut += d; });
  server.stderr.on('data', (d) => { serverOut += d; });
  const port = await until('the server to listen', () => {
    const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(serverOut);
    if (server.exitCode !== null) throw new Error('serve exited: ' + serverOut);
    return m && Number(m[1]);
  });
  const base = `http://127.0.0.1:${port}`;
  const auth = { Authorization: 'Bearer ' + token };
  await until('readiness', async () => (await fetch(base + '/readyz')).status === 200);

  // ---- the API behind the frames --------------------------------------
  let res = await fetch(base + '/v1/dashboard');
  check('GET /v1/dashboard without the token: 401', res.status === 401, res.status);
  res = await fetch(base + '/v1/ui', { headers: auth });
  const ui = (await res.json()).contributions || [];
  check('GET /v1/ui lists tally\'s two panels, block type and command',
        ui.filter((c) => c.plugin === 'tally').map((c) => c.kind + ':' + c.id).join(' ') ===
        'panel:overview panel:clock block:badge command:reset', JSON.stringify(ui));
  res = await fetch(base + '/v1/ui/frame', { method: 'POST', headers: auth,
    body: JSON.stringify({ plugin: 'tally', id: 'overview' }) });
  const frameUrl = (await res.json()).url;
  res = await fetch(base + frameUrl);
  const csp = res.headers.get('content-security-policy') || '';
  const html = await res.text();
  check('a panel frame is HTML under a sandboxing CSP without scripts',
        res.status === 200 && /^sandbox;/.test(csp) && !csp.includes('allow-scripts') &&
        csp.includes("default-src 'none'") && html.includes('id="total"'), csp);
  res = await fetch(base + frameUrl);
  check('  ... its URL works once', res.status === 404, res.status);
  res = await fetch(base + '/v1/ui/frame', { method: 'POST', headers: auth,
    body: JSON.stringify({ plugin: 'tally', id: 'clock' }) });
  res = await fetch(base + (await res.json()).url);
  check('the clock panel (ui.scripts) may run scripts, still sandboxed',
        /^sandbox allow-scripts;/.test(res.headers.get('content-security-policy') || ''));
  res = await fetch(base + '/v1/ui/frame', { method: 'POST', headers: auth,
    body: JSON.stringify({ plugin: 'word-counter', id: 'overview' }) });
  check('no frame for a panel that does not exist', res.status === 404, res.status);
  res = await fetch(base + '/v1/plugins/tally/ui/render/block/badge', { method: 'POST',
    headers: auth, body: JSON.stringify({ label: '<b>Total</b>', value: 7 }) });
  const badge = await res.text();
  check('a block rendered through the API, its props escaped by the plugin',
        res.status === 200 && badge.includes('&lt;b&gt;Total&lt;/b&gt;') && badge.includes('>7<'),
        badge);
  res = await fetch(base + '/v1/plugins/tally/ui/render/block/badge', { method: 'POST',
    headers: auth, body: JSON.stringify({ value: 'seven' }) });
  check('  ... props of the wrong type: 400', res.status === 400, res.status);
  // Bad requests.
  res = await fetch(base + '/v1/ui/frame', { method: 'POST', headers: auth, body: '{"plugin": ' });
  check('a frame request that is not JSON: 400', res.status === 400, res.status);
  res = await fetch(base + '/v1/ui/frame', { method: 'POST', headers: auth,
    body: JSON.stringify({ plugin: 'tally', id: 'badge', kind: 'block' }) });
  check('frames are for panels only: 400', res.status === 400, res.status);
  res = await fetch(base + '/v1/ui/frame', { method: 'POST',
    body: JSON.stringify({ plugin: 'tally', id: 'overview' }) });
  check('no frame ticket without the token: 401', res.status === 401, res.status);
  res = await fetch(base + '/ui/frame/' + 'f'.repeat(32));
  check('an unknown ticket: 404, still under the sandboxing CSP', res.status === 404 &&
        /^sandbox;/.test(res.headers.get('content-security-policy') || ''), res.status);
  res = await fetch(base + '/v1/plugins/tally/ui/render/command/reset', { method: 'POST', headers: auth });
  check('commands do not render: 404', res.status === 404, res.status);
  res = await fetch(base + '/v1/plugins/nobody/ui/render/panel/overview', { method: 'POST', headers: auth });
  check('an unknown plugin: 404', res.status === 404, res.status);
  res = await fetch(base + '/v1/plugins/tally/ui/command/reset', { method: 'POST' });
  check('a command without the token: 401', res.status === 401, res.status);
  res = await fetch(base + '/');
  const pageCsp = res.headers.get('content-security-policy') || '';
  check('the dashboard page is served under its own strict CSP', res.status === 200 &&
        pageCsp.includes("default-src 'none'") && pageCsp.includes("script-src 'self'") &&
        pageCsp.includes("frame-ancestors 'none'"), pageCsp);

  // ---- the browser ----------------------------------------------------
  browser = Browser.launch(CHROMIUM, path.join(T, 'chromium'));
  const { targetId } = await browser.send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await browser.send('Target.attachToTarget', { targetId, flatten: true });
  const page = (method, params) => browser.send(method, params, sessionId);
  const problems = []; // console errors and exceptions of the dashboard itself
  const frameLogs = []; // what the plugin frames' documents were refused
  const dashboardUrl = (u) => !u || u.startsWith(base + '/') && !u.startsWith(base + '/ui/frame/');
  browser.on('Runtime.exceptionThrown', (p) => {
    problems.push('exception: ' + (p.exceptionDetails.exception?.description || p.exceptionDetails.text));
  }, sessionId);
  browser.on('Runtime.consoleAPICalled', (p) => {
    if (p.type === 'error' || p.type === 'assert')
      problems.push('console.' + p.type + ': ' + p.args.map((a) => a.value ?? a.description).join(' '));
  }, sessionId);
  browser.on('Log.entryAdded', (p) => {
    if (p.entry.level !== 'error') return;
    if (dashboardUrl(p.entry.url)) problems.push('log: ' + p.entry.text + ' (' + p.entry.url + ')');
    else frameLogs.push(p.entry.text);
  }, sessionId);
  // Plugin frames may live in processes of their own: follow them.
  const frameSessions = new Map(); // sessionId -> url
  browser.on('Target.attachedToTarget', async (p) => {
    if (p.targetInfo.type !== 'iframe') return;
    frameSessions.set(p.sessionId, p.targetInfo.url);
    await browser.send('Runtime.runIfWaitingForDebugger', {}, p.sessionId).catch(() => {});
  }, sessionId);
  browser.on('Target.detachedFromTarget', (p) => frameSessions.delete(p.sessionId), sessionId);
  await page('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: true });
  await page('Page.enable');
  await page('Runtime.enable');
  await page('Log.enable');
  await page('Emulation.setDeviceMetricsOverride', { width: 1280, height: 900, deviceScaleFactor: 1, mobile: false });
  const evaluate = async (expr) => {
    const r = await page('Runtime.evaluate', { expression: expr, returnByValue: true, awaitPromise: true });
    if (r.exceptionDetails) throw new Error(r.exceptionDetails.text + ' in ' + expr);
    return r.result.value;
  };
  const key = async (name, code, text) => {
    await page('Input.dispatchKeyEvent', { type: 'keyDown', key: name, code: name, windowsVirtualKeyCode: code, text });
    await page('Input.dispatchKeyEvent', { type: 'keyUp', key: name, code: name, windowsVirtualKeyCode: code });
  };
  await page('Page.navigate', { url: base + '/' });
  await until('the sign-in form', () => evaluate("!document.getElementById('login').hidden"));
  check('without a token the dashboard asks for it (and asks the server nothing)',
        await evaluate("document.body.dataset.polls === undefined"));

  // Keyboard only: the token field has the focus; type, then Enter.
  check('the token field has the focus', await evaluate("document.activeElement.id === 'token'"));
  await page('Input.insertText', { text: token });
  await key('Enter', 13, '\r');
  await until('the first poll', () => evaluate("Number(document.body.dataset.polls || 0) >= 1"));
  // A reload keeps the session's token; Tab from the top reaches the skip link.
  await page('Page.reload');
  await until('a poll after the reload', () => evaluate("Number(document.body.dataset.polls || 0) >= 1"));
  await key('Tab', 9);
  check('signed in after a reload; Tab reaches the skip link first',
        await evaluate("document.activeElement.className === 'skip' && document.getElementById('login').hidden"));

  const rows = await evaluate(`Array.from(document.querySelectorAll('#plugins tbody tr')).map(
      (tr) => Array.from(tr.children).map((c) => c.textContent))`);
  const tally = rows.find((r) => r[0] === 'tally');
  check('the plugins are listed: tally and word-counter',
        rows.map((r) => r[0]).sort().join(',') === 'tally,word-counter', JSON.stringify(rows));
  check('  ... with state, version, ABI and grants',
        tally && tally[1] === 'ready' && tally[2] === '1.0.0' && tally[3] === 'v1' &&
        tally[4].includes('ui') && tally[4].includes('ui.scripts'), JSON.stringify(tally));
  const callsOf = (name) => evaluate(`(document.querySelector('#plugins tr[data-plugin="${name}"] .calls') || {}).textContent`);
  const before = Number((await callsOf('tally')).replace(/,/g, ''));

  // Calls through the API, then the table follows without a reload.
  for (let i = 1; i <= 5; i++) {
    res = await fetch(base + '/v1/plugins/tally/call/add', { method: 'POST', headers: auth, body: String(i) });
    if (res.status !== 200) check('call add ' + i, false, res.status + ' ' + await res.text());
  }
  const after = await until('the calls to show', async () => {
    const n = Number((await callsOf('tally')).replace(/,/g, ''));
    return n >= before + 5 ? n : null;
  });
  check('a plugin\'s calls change on the page after calls through the API', after >= before + 5,
        `${before} -> ${after}`);
  const p50 = await evaluate(`document.querySelector('#plugins tr[data-plugin="tally"]').children[7].textContent`);
  check('  ... with its latency percentiles', /µs|ms/.test(p50), p50);
  check('  ... the call-rate chart draws a line', await until('a chart line',
        () => evaluate("document.querySelectorAll('#rate-chart polyline').length >= 1")));

  // The event bus: a topic published through the API appears with its count.
  res = await fetch(base + '/v1/events/dashboard.demo', { method: 'POST', headers: auth,
    body: JSON.stringify({ hello: 'bus' }) });
  check('publish an event through the API', res.status < 300, res.status + ' ' + await res.text());
  const topicRow = await until('the topic on the page', () => evaluate(`(() => {
      const tr = Array.from(document.querySelectorAll('#topics tbody tr')).find(
        (r) => r.children[0].textContent === 'dashboard.demo');
      return tr && Array.from(tr.children).map((c) => c.textContent);
    })()`));
  check('the event bus section shows the topic and its count', topicRow[1] === '1',
        JSON.stringify(topicRow));

  // An error with its wasm backtrace: split by 0 traps.
  res = await fetch(base + '/v1/plugins/tally/call/split', { method: 'POST', headers: auth, body: '0' });
  const callErr = await res.json();
  check('a trapping call answers with the error and its backtrace',
        res.status >= 400 && callErr.error && callErr.error.backtrace.length >= 1, JSON.stringify(callErr));
  await until('the error on the page', () => evaluate(
      "Array.from(document.querySelectorAll('#errors li')).some((li) => li.textContent.includes('split'))"));
  const trace = await evaluate(`(() => {
      const li = Array.from(document.querySelectorAll('#errors li')).find((l) => l.textContent.includes('split'));
      const d = li.querySelector('details');
      d.querySelector('summary').focus();
      d.open = true;
      return { text: li.textContent, pre: d.querySelector('pre').textContent };
    })()`);
  check('the page shows the error with its wasm backtrace',
        trace.text.includes('integer divide by zero') && /#0 /.test(trace.pre), JSON.stringify(trace));

  // Panels: wait for both frames to load, then read their documents.
  await evaluate("document.getElementById('refresh-panels').click(), true");
  const frameDocs = await until('both panel frames', async () => {
    const docs = {};
    const { frameTree } = await page('Page.getFrameTree');
    const inPage = (frameTree.childFrames || []).map((c) => c.frame);
    for (const f of inPage) {
      try {
        const { executionContextId } = await page('Page.createIsolatedWorld', { frameId: f.id, worldName: 'test' });
        const r = await page('Runtime.evaluate', { contextId: executionContextId, returnByValue: true,
          expression: 'document.documentElement ? document.documentElement.outerHTML : ""' });
        docs[f.id] = r.result.value;
      } catch (e) { /* a frame in another process: below */ }
    }
    for (const [sid] of frameSessions) {
      try {
        const d = await browser.send('DOM.getDocument', { depth: -1 }, sid);
        const h = await browser.send('DOM.getOuterHTML', { nodeId: d.root.nodeId }, sid);
        docs[sid] = h.outerHTML;
      } catch (e) { /* gone (refreshed): skip */ }
    }
    const all = Object.values(docs);
    // The panels were refreshed after the calls: the total is theirs.
    const overview = all.find((h) => h.includes('id="total">15<'));
    const clock = all.find((h) => h.includes('id="clock"') && !h.includes('--:--:--'));
    return overview && clock ? { overview, clock } : (process.env.DEBUG && console.log(all.map((h) => h.slice(200, 330))), null);
  }, 20000);
  check('the overview panel renders in its frame with the plugin\'s data',
        /id="total">15</.test(frameDocs.overview) && frameDocs.overview.includes('Metrics'),
        frameDocs.overview.slice(0, 400));
  check('  ... and its script did not run (no ui.scripts for that panel)',
        frameDocs.overview.includes('<p id="scripts">scripts are off</p>'));
  check('the clock panel\'s script ran (granted ui.scripts)', /id="clock">\d\d:\d\d:\d\d</.test(frameDocs.clock),
        frameDocs.clock.slice(0, 400));
  check('  ... but could not reach the dashboard',
        frameDocs.clock.includes('isolation: isolated') &&
        await evaluate("document.title") === 'wasmplug dashboard', frameDocs.clock.slice(0, 600));
  const frames = await evaluate(`Array.from(document.querySelectorAll('#panels iframe')).map(
      (f) => ({ sandbox: f.getAttribute('sandbox'), title: f.title }))`);
  check('each frame is sandboxed without allow-same-origin, scripts only for the clock',
        frames.length === 2 && frames.every((f) => !f.sandbox.includes('allow-same-origin')) &&
        frames.filter((f) => f.sandbox === 'allow-scripts').length === 1 &&
        frames.filter((f) => f.sandbox === '').length === 1, JSON.stringify(frames));

  const block = await evaluate("(document.querySelector('#blocks li[data-block=\"tally/badge\"]') || {}).textContent");
  check('the block types are listed with their props', block ===
        'Badge (tally/badge): label string, value number — A label and a number', block);

  // Commands: the reset button, by keyboard.
  await evaluate("document.querySelector('#commands button').focus(), true");
  await key('Enter', 13, '\r');
  const result = await until('the command result', () => evaluate(
      "(t => t.startsWith('Reset the total:') && t)(document.getElementById('command-result').textContent)"));
  check('a plugin command runs from its button (keyboard)', result === 'Reset the total: 0', result);

  // Labels: inputs, frames, tables, charts.
  const a11y = await evaluate(`(() => {
      const unlabelled = Array.from(document.querySelectorAll('input, select')).filter(
        (e) => !document.querySelector('label[for="' + e.id + '"]'));
      return { unlabelled: unlabelled.length,
        untitledFrames: Array.from(document.querySelectorAll('iframe')).filter((f) => !f.title).length,
        tablesWithoutCaption: Array.from(document.querySelectorAll('table')).filter((t) => !t.caption).length,
        chartsWithoutName: Array.from(document.querySelectorAll('svg[role=img]')).filter(
          (s) => !s.getAttribute('aria-labelledby')).length,
        lang: document.documentElement.lang };
    })()`);
  check('inputs labelled, frames titled, tables captioned, charts named',
        a11y.unlabelled === 0 && a11y.untitledFrames === 0 && a11y.tablesWithoutCaption === 0 &&
        a11y.chartsWithoutName === 0 && a11y.lang === 'en', JSON.stringify(a11y));

  // Contrast: every element with text of its own against the background
  // it is drawn on, at least 4.5:1 (WCAG AA for normal text).
  const lowContrast = await evaluate(`(() => {
      const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
      const lum = ([r, g, b]) => [r, g, b].map((v) => { v /= 255;
        return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); })
        .reduce((a, v, i) => a + v * [0.2126, 0.7152, 0.0722][i], 0);
      const bg = (e) => { for (; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor);
        if (c.length === 3 || c[3] > 0) return c.slice(0, 3); } return [255, 255, 255]; };
      const bad = [];
      for (const e of document.querySelectorAll('body *')) {
        if (!e.offsetParent || e.closest('svg')) continue;
        if (!Array.from(e.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
        const a = lum(rgb(getComputedStyle(e).color)), b = lum(bg(e));
        const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        if (ratio < 4.5) bad.push(e.tagName + '.' + e.className + ' ' + ratio.toFixed(2));
      }
      return bad;
    })()`);
  check('text contrast at least 4.5:1 everywhere on the page', lowContrast.length === 0,
        lowContrast.join(', '));

  // Screenshots: desktop, then a phone (one column, nothing wider than the screen).
  await sleep(300);
  let shot = await page('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true });
  fs.writeFileSync(path.join(OUT, 'dashboard-desktop.png'), Buffer.from(shot.data, 'base64'));
  await page('Emulation.setDeviceMetricsOverride', { width: 390, height: 844, deviceScaleFactor: 2, mobile: true });
  await sleep(500);
  const overflow = await evaluate('document.documentElement.scrollWidth - window.innerWidth');
  check('on a phone the page is no wider than the screen', overflow <= 0, overflow + ' px too wide');
  shot = await page('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true });
  fs.writeFileSync(path.join(OUT, 'dashboard-phone.png'), Buffer.from(shot.data, 'base64'));
  check('screenshots written', fs.statSync(path.join(OUT, 'dashboard-phone.png')).size > 10000);

  check('no console errors or exceptions on the dashboard', problems.length === 0, problems.join('\n     '));

  // A read-only public dashboard, only when the server is started so:
  // reads without the token, commands still refused. This one forwards
  // word-counter's calls to a Redis queue (none is made: the address need
  // not answer), so the dashboard marks that plugin.
  const open = spawn(W, ['serve', '--listen', '127.0.0.1:0', '--token-file', tokenFile, '--public-read',
                         '--queue-redis', 'redis://127.0.0.1:1', '--queue-plugins', 'word-counter'],
                     { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let openOut = '';
  open.stdout.on('data', (d) => { openOut += d; });
  try {
    const port2 = await until('the public server', () =>
      Number((/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(openOut) || [])[1]));
    const base2 = `http://127.0.0.1:${port2}`;
    // Its plugins loaded, it is not ready all the same: nothing answers at
    // the queue's address.
    await until('its readiness', async () =>
      ((await (await fetch(base2 + '/readyz')).json()) || {}).state === 'queue_unavailable');
    res = await fetch(base2 + '/readyz');
    check('  ... /readyz is 503 while Redis does not answer', res.status === 503, res.status);
    res = await fetch(base2 + '/v1/dashboard');
    check('--public-read: the dashboard\'s data without the token', res.status === 200, res.status);
    res = await fetch(base2 + '/v1/plugins/tally/ui/command/reset', { method: 'POST' });
    check('  ... but no command without it', res.status === 401, res.status);
    await page('Page.navigate', { url: base2 + '/#public' });
    await until('the public dashboard', () => evaluate(
        "document.querySelectorAll('#plugins tbody tr').length === 2 && document.getElementById('login').hidden"));
    check('  ... /#public shows the plugins without signing in', true);
    const queued = await evaluate(`(() => {
        const tr = document.querySelector('#plugins tr[data-plugin="word-counter"]');
        return tr ? [tr.dataset.mode, tr.children[0].textContent, tr.children[1].textContent].join('|') : '';
      })()`);
    check('  ... word-counter marked as run by the queue\'s workers (--queue-redis)',
          queued === 'queue|word-counter → queue|remote', queued);
    const line = await evaluate("document.getElementById('status').textContent");
    check('  ... and the status line says where its calls go',
          line.includes('calls to word-counter go to the Redis queue calls'), line);
    check('  ... with no console errors', problems.length === 0, problems.join('\n     '));
  } finally {
    open.kill('SIGTERM');
    await new Promise((r) => open.exitCode !== null ? r() : open.on('exit', r));
  }

  // The server drains and exits 0 on SIGTERM, with nothing from the
  // sanitizers (in the ASan build) on its stderr.
  await browser.close();
  browser = null;
  server.kill('SIGTERM');
  const code = await new Promise((r) => server.exitCode !== null ? r(server.exitCode) : server.on('exit', r));
  check('the server stops cleanly on SIGTERM (exit 0, no sanitizer report)',
        code === 0 && !/Sanitizer|runtime error/.test(serverOut), `exit ${code}\n${serverOut.slice(-2000)}`);
  if (frameLogs.length) console.log('     (plugin frames were refused: ' + frameLogs.length + ' message(s))');
}

try {
  await main();
} catch (e) {
  check('the test ran to its end', false, e.stack);
}
clearTimeout(deadline);
await cleanup();
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
