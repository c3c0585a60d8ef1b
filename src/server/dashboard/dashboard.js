// wasmplug dashboard: polls GET /v1/dashboard, draws the tables and the
// charts, shows each plugin panel in a sandboxed frame (a one-time URL from
// POST /v1/ui/frame) and runs plugin commands
// (POST /v1/plugins/NAME/ui/command/ID).
// Everything a plugin or the server says is set as text (textContent),
// never parsed as HTML.
'use strict';

(function () {
  const POLL_MS = 2000;
  const HISTORY = 60; // samples per chart
  const $ = (id) => document.getElementById(id);
  let token = sessionStorage.getItem('wasmplug-token') || '';
  let timer = null;
  let last = null; // the previous poll: {time, plugins: {name: metrics}}
  const history = []; // [{time, rate: {name|'': calls/s}, p50: {...}, p99: {...}}]
  let panelKeys = '';
  let commandKeys = '';

  function headers(extra) {
    const h = Object.assign({}, extra || {});
    if (token) h.Authorization = 'Bearer ' + token;
    return h;
  }

  async function api(method, path, body) {
    const init = { method, headers: headers(body ? { 'Content-Type': 'application/json' } : null) };
    if (body) init.body = JSON.stringify(body);
    const r = await fetch(path, init);
    if (r.status === 401) {
      showLogin();
      throw new Error('the server wants the access token');
    }
    const text = await r.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
    if (!r.ok) {
      const msg = data && data.error ? data.error.message : 'HTTP ' + r.status;
      throw new Error(msg);
    }
    return data === null ? text : data;
  }

  function status(text) { $('status').textContent = text; }

  function showLogin() {
    $('login').hidden = false;
    if (timer) { clearTimeout(timer); timer = null; }
    status('Sign in with the server\'s access token');
    $('token').focus();
  }

  $('login').addEventListener('submit', (ev) => {
    ev.preventDefault();
    token = $('token').value;
    sessionStorage.setItem('wasmplug-token', token);
    $('login').hidden = true;
    panelKeys = '';
    poll();
  });

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }

  function cell(row, text, cls) { row.appendChild(el('td', text, cls)); }

  function fmtInt(n) { return Number(n || 0).toLocaleString('en-US'); }
  function fmtUs(us) {
    if (us === undefined || us === null) return '–';
    return us >= 1000 ? (us / 1000).toFixed(2) + ' ms' : Math.round(us) + ' µs';
  }
  function fmtBytes(b) {
    b = Number(b || 0);
    if (b >= 1 << 20) return (b / (1 << 20)).toFixed(1) + ' MiB';
    if (b >= 1024) return (b / 1024).toFixed(0) + ' KiB';
    return b + ' B';
  }
  function fmtTime(ms) { return ms ? new Date(ms).toLocaleTimeString() : ''; }

  function replaceRows(tbody, rows) {
    tbody.replaceChildren(...rows);
  }

  function renderPlugins(plugins) {
    const rows = plugins.map((p) => {
      const tr = document.createElement('tr');
      tr.dataset.plugin = p.name;
      const th = el('th', p.name);
      th.scope = 'row';
      tr.appendChild(th);
      // Calls to it go to the Redis workers (wasmplug serve --queue-redis).
      if (p.mode === 'queue') {
        tr.dataset.mode = 'queue';
        th.appendChild(el('span', ' → queue', 'mode-queue'));
      }
      cell(tr, p.state, 'state state-' + p.state);
      cell(tr, p.version || '–');
      cell(tr, p.abi || '–');
      cell(tr, (p.grants || []).join(', ') || 'none', 'grants');
      const m = p.metrics || {};
      cell(tr, fmtInt(m.calls), 'num calls');
      cell(tr, fmtInt(m.errors), 'num errors');
      cell(tr, m.calls ? fmtUs(m.p50_us) : '–', 'num');
      cell(tr, m.calls ? fmtUs(m.p99_us) : '–', 'num');
      cell(tr, fmtInt(m.fuel_used), 'num');
      cell(tr, fmtBytes(m.memory_bytes), 'num');
      return tr;
    });
    replaceRows($('plugins').tBodies[0], rows);
    const sel = $('chart-plugin');
    const want = [''].concat(plugins.map((p) => p.name));
    const have = Array.from(sel.options).map((o) => o.value);
    if (want.join('\n') !== have.join('\n')) {
      const keep = sel.value;
      sel.replaceChildren(...want.map((n) => {
        const o = el('option', n || 'All plugins');
        o.value = n;
        return o;
      }));
      sel.value = want.includes(keep) ? keep : '';
    }
  }

  function renderErrors(errors) {
    $('errors-empty').hidden = errors.length > 0;
    const items = errors.slice().reverse().map((e) => {
      const li = document.createElement('li');
      li.appendChild(el('span', e.kind, 'code'));
      li.appendChild(document.createTextNode(' ' + e.plugin + (e.function ? ' · ' + e.function : '') +
        ' (' + e.phase + (e.trap ? ', ' + e.trap : '') + ') ' + fmtTime(e.time_ms) + ': '));
      li.appendChild(el('span', e.message, 'message'));
      if (e.backtrace && e.backtrace.length) {
        const d = document.createElement('details');
        const n = e.backtrace.length;
        d.appendChild(el('summary', 'wasm backtrace (' + n + (n === 1 ? ' frame)' : ' frames)')));
        const lines = e.backtrace.map((f, i) =>
          '#' + i + ' ' + (f.function || '<unnamed>') + ' (function ' + f.func_index + ')');
        d.appendChild(el('pre', lines.join('\n'), 'backtrace'));
        li.appendChild(d);
      }
      return li;
    });
    // Keep open backtraces open across polls: only redraw when they change.
    const key = JSON.stringify(errors);
    if ($('errors').dataset.key !== key) {
      $('errors').replaceChildren(...items);
      $('errors').dataset.key = key;
    }
  }

  function renderBus(bus) {
    const tb = $('topics').tBodies[0], qb = $('queues').tBodies[0];
    if (!bus) {
      $('bus-summary').textContent = 'No event bus.';
      replaceRows(tb, []);
      replaceRows(qb, []);
      return;
    }
    $('bus-summary').textContent = fmtInt(bus.published) + ' events published, ' +
      fmtInt(bus.subscriptions.length) + ' subscriptions, ' + fmtInt(bus.dead_letters) + ' dead letters.';
    replaceRows(tb, bus.topics.map((t) => {
      const tr = document.createElement('tr');
      const th = el('th', t.topic); th.scope = 'row'; tr.appendChild(th);
      cell(tr, fmtInt(t.published), 'num'); cell(tr, fmtInt(t.delivered), 'num');
      cell(tr, fmtInt(t.dropped), 'num'); cell(tr, fmtInt(t.failed), 'num');
      return tr;
    }));
    replaceRows(qb, bus.subscriptions.map((s) => {
      const tr = document.createElement('tr');
      const th = el('th', s.subscriber); th.scope = 'row'; tr.appendChild(th);
      cell(tr, s.pattern); cell(tr, fmtInt(s.queue_depth), 'num');
      cell(tr, fmtInt(s.queue_max), 'num'); cell(tr, fmtInt(s.delivered), 'num');
      cell(tr, fmtInt(s.dropped), 'num'); cell(tr, fmtInt(s.failed), 'num');
      return tr;
    }));
  }

  // ---- charts ----------------------------------------------------------

  function sample(data) {
    const now = data.time_ms;
    const cur = {};
    let allCalls = 0;
    for (const p of data.plugins) {
      if (!p.metrics) continue; // a plugin only the queue's workers run
      cur[p.name] = p.metrics;
      allCalls += p.metrics.calls;
    }
    cur[''] = { calls: allCalls };
    if (last && now > last.time) {
      const dt = (now - last.time) / 1000;
      const s = { time: now, rate: {}, p50: {}, p99: {} };
      for (const name of Object.keys(cur)) {
        const prev = last.plugins[name];
        if (!prev) continue;
        s.rate[name] = Math.max(0, cur[name].calls - prev.calls) / dt;
        if (name) {
          s.p50[name] = (cur[name].p50_us || 0) / 1000;
          s.p99[name] = (cur[name].p99_us || 0) / 1000;
        }
      }
      const named = Object.keys(s.p50);
      s.p50[''] = named.length ? Math.max(...named.map((n) => s.p50[n])) : 0;
      s.p99[''] = named.length ? Math.max(...named.map((n) => s.p99[n])) : 0;
      history.push(s);
      if (history.length > HISTORY) history.shift();
    }
    last = { time: now, plugins: cur };
  }

  function svgEl(tag, attrs) {
    const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const k of Object.keys(attrs)) e.setAttribute(k, attrs[k]);
    return e;
  }

  function draw(svgId, descId, series, unit) {
    const W = 300, H = 120, top = 4, bottom = H - 2;
    let max = 0;
    for (const s of series) for (const v of s.values) max = Math.max(max, v);
    const scale = max > 0 ? max * 1.1 : 1;
    const lines = [svgEl('line', { x1: 0, y1: bottom, x2: W, y2: bottom, class: 'axis' })];
    for (const s of series) {
      if (s.values.length < 2) continue;
      const step = W / (HISTORY - 1);
      const x0 = W - (s.values.length - 1) * step;
      const pts = s.values.map((v, i) =>
        (x0 + i * step).toFixed(1) + ',' + (bottom - (v / scale) * (bottom - top)).toFixed(1));
      lines.push(svgEl('polyline', { points: pts.join(' '), class: 'series ' + s.cls }));
    }
    $(svgId).replaceChildren(...lines);
    const latest = series.map((s) => s.label + ' ' +
      (s.values.length ? s.values[s.values.length - 1].toFixed(2) : '0') + ' ' + unit);
    $(descId).textContent = 'Now: ' + latest.join(', ') + '; top of the chart ' +
      scale.toFixed(scale < 10 ? 2 : 0) + ' ' + unit + ', last ' +
      Math.round(HISTORY * POLL_MS / 1000) + ' s.';
  }

  function drawCharts() {
    const name = $('chart-plugin').value;
    const pick = (key) => history.map((s) => s[key][name] || 0);
    draw('rate-chart', 'rate-desc', [{ values: pick('rate'), cls: 'rate', label: 'calls' }], 'calls/s');
    draw('lat-chart', 'lat-desc', [
      { values: pick('p50'), cls: 'p50', label: 'p50' },
      { values: pick('p99'), cls: 'p99', label: 'p99' }], 'ms');
  }
  $('chart-plugin').addEventListener('change', drawCharts);

  // ---- panels and commands --------------------------------------------

  async function loadFrame(frame, c) {
    try {
      const r = await api('POST', '/v1/ui/frame', { plugin: c.plugin, kind: 'panel', id: c.id });
      frame.src = r.url;
    } catch (e) {
      frame.removeAttribute('src');
      frame.srcdoc = ''; // an empty, inert document
      frame.title = c.title + ' (failed: ' + e.message + ')';
    }
  }

  function renderPanels(ui, force) {
    const panels = ui.filter((c) => c.kind === 'panel');
    const key = JSON.stringify(panels);
    if (key === panelKeys && !force) return;
    panelKeys = key;
    $('panels-empty').hidden = panels.length > 0;
    const figs = panels.map((c) => {
      const fig = document.createElement('figure');
      fig.dataset.plugin = c.plugin;
      fig.dataset.panel = c.id;
      fig.appendChild(el('figcaption', c.title + ' — ' + c.plugin + (c.scripts ? ' (scripts)' : '')));
      const frame = document.createElement('iframe');
      // No allow-same-origin ever: the frame is an opaque origin. Scripts
      // only for contributions granted ui.scripts; the server's CSP for the
      // frame says the same.
      frame.setAttribute('sandbox', c.scripts ? 'allow-scripts' : '');
      frame.setAttribute('referrerpolicy', 'no-referrer');
      frame.title = c.title + ' (panel of ' + c.plugin + ')';
      fig.appendChild(frame);
      loadFrame(frame, c);
      return fig;
    });
    $('panels').replaceChildren(...figs);
  }
  $('refresh-panels').addEventListener('click', () => {
    if (last && last.ui) renderPanels(last.ui, true);
  });

  let blockKeys = '';
  function renderBlocks(ui) {
    const blocks = ui.filter((c) => c.kind === 'block');
    const key = JSON.stringify(blocks);
    if (key === blockKeys) return;
    blockKeys = key;
    $('blocks-empty').hidden = blocks.length > 0;
    $('blocks').replaceChildren(...blocks.map((c) => {
      const props = Object.keys(c.props || {}).map((k) => k + ' ' + c.props[k]).join(', ');
      const li = el('li', c.title + ' (' + c.plugin + '/' + c.id + ')' +
        (props ? ': ' + props : '') + (c.description ? ' — ' + c.description : ''));
      li.dataset.block = c.plugin + '/' + c.id;
      return li;
    }));
  }

  function renderCommands(ui) {
    const cmds = ui.filter((c) => c.kind === 'command');
    const key = JSON.stringify(cmds);
    if (key === commandKeys) return;
    commandKeys = key;
    $('commands-empty').hidden = cmds.length > 0;
    $('commands').replaceChildren(...cmds.map((c) => {
      const li = document.createElement('li');
      const b = el('button', c.title + ' (' + c.plugin + ')');
      b.type = 'button';
      b.addEventListener('click', async () => {
        $('command-result').textContent = 'Running ' + c.title + '…';
        try {
          const out = await api('POST', '/v1/plugins/' + encodeURIComponent(c.plugin) +
            '/ui/command/' + encodeURIComponent(c.id));
          $('command-result').textContent = c.title + ': ' +
            (typeof out === 'string' ? out : JSON.stringify(out));
        } catch (e) {
          $('command-result').textContent = c.title + ' failed: ' + e.message;
        }
      });
      li.appendChild(b);
      return li;
    }));
  }

  // ---- polling ---------------------------------------------------------

  async function poll() {
    timer = null;
    try {
      const data = await api('GET', '/v1/dashboard');
      renderPlugins(data.plugins);
      renderErrors(data.errors);
      renderBus(data.bus);
      sample(data);
      last.ui = data.ui;
      drawCharts();
      renderPanels(data.ui, false);
      renderBlocks(data.ui);
      renderCommands(data.ui);
      status(data.plugins.length + ' plugin' + (data.plugins.length === 1 ? '' : 's') +
        (data.queue ? ', calls to ' + data.queue.plugins + ' go to the Redis queue ' +
          data.queue.stream : '') +
        ', updated ' + new Date(data.time_ms).toLocaleTimeString());
      document.body.dataset.polls = String(Number(document.body.dataset.polls || 0) + 1);
    } catch (e) {
      status('Cannot reach the server: ' + e.message);
      if (!$('login').hidden) return;
    }
    timer = setTimeout(poll, POLL_MS);
  }

  // Without a token, ask for one first (a request without it would only be
  // refused), unless the address says the server is read-only public:
  // /#public (wasmplug serve --public-read).
  if (token || location.hash === '#public') poll();
  else showLogin();
})();
