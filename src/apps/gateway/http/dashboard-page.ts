/**
 * The dashboard page: plain HTML, CSS and browser JavaScript served as they are (no build
 * step, no framework). Kept as strings in a module so they ship inside dist/ with the code.
 * The script opens `/ws` (passing on a `?token=` from the page's own address), renders
 * every update whole, and reconnects after a second when the socket closes.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Flamingo gateway</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; background: #f4f5f7; color: #1d2330; }
  header { background: #1d2330; color: #fff; padding: 10px 18px; display: flex; gap: 18px; align-items: baseline; flex-wrap: wrap; }
  header h1 { font-size: 17px; margin: 0; }
  .pill { padding: 1px 8px; border-radius: 9px; background: #586174; font-size: 12px; }
  .pill.ok { background: #1f8a4c; } .pill.bad { background: #b3261e; }
  main { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 14px; padding: 14px 18px; }
  section { background: #fff; border-radius: 6px; padding: 10px 14px; box-shadow: 0 1px 2px #0002; }
  h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .05em; color: #586174; margin: 0 0 8px; }
  table { border-collapse: collapse; width: 100%; }
  td, th { text-align: left; padding: 2px 6px 2px 0; font-variant-numeric: tabular-nums; }
  th { color: #586174; font-weight: 500; }
  .moving { color: #b86e00; font-weight: 600; }
  progress { width: 100%; height: 16px; }
  #events td { font-size: 12px; }
  #frame { max-width: 100%; image-rendering: pixelated; background: #000; min-height: 60px; display: block; }
</style>
</head>
<body>
<header>
  <h1>Flamingo gateway</h1>
  <span>link <span id="link" class="pill">connecting…</span></span>
  <span>system <span id="system" class="pill">—</span></span>
  <span>sessions <b id="sessions">—</b></span>
  <span>lease <b id="lease">—</b></span>
  <span>last packet <b id="last-packet">—</b></span>
</header>
<main>
  <section><h2>Stage</h2>
    <table><thead><tr><th>axis</th><th>position (mm)</th><th>target</th><th></th></tr></thead>
    <tbody>
      <tr><td>x</td><td id="pos-x">—</td><td id="target-x">—</td><td id="moving-x"></td></tr>
      <tr><td>y</td><td id="pos-y">—</td><td id="target-y">—</td><td id="moving-y"></td></tr>
      <tr><td>z</td><td id="pos-z">—</td><td id="target-z">—</td><td id="moving-z"></td></tr>
      <tr><td>r</td><td id="pos-r">—</td><td id="target-r">—</td><td id="moving-r"></td></tr>
    </tbody></table>
  </section>
  <section><h2>Lasers and LED</h2>
    <table><thead><tr><th>source</th><th>level</th><th>on</th></tr></thead>
    <tbody id="lasers"></tbody></table>
  </section>
  <section><h2>Workflow</h2>
    <progress id="workflow-progress" max="1" value="0"></progress>
    <div id="workflow-text">—</div>
  </section>
  <section><h2>Live frame</h2><img id="frame" alt="no live frame yet"><div id="frame-text">no live frame yet</div></section>
  <section style="grid-column: 1 / -1"><h2>Last events</h2>
    <table><thead><tr><th>time</th><th>event</th><th>status</th><th>int0</th><th>int1</th><th>value</th></tr></thead>
    <tbody id="events"></tbody></table>
  </section>
</main>
<script src="/dashboard.js"></script>
</body>
</html>
`;

export const DASHBOARD_SCRIPT = `'use strict';
(function () {
  var token = new URLSearchParams(location.search).get('token');
  var suffix = token ? '?token=' + encodeURIComponent(token) : '';
  function $(id) { return document.getElementById(id); }
  function text(id, value) { var el = $(id); if (el.textContent !== value) el.textContent = value; }
  function num(v, digits) { return typeof v === 'number' ? v.toFixed(digits) : '—'; }
  function time(ms) { return new Date(ms).toLocaleTimeString(); }
  function cell(row, value) { var td = document.createElement('td'); td.textContent = value; row.appendChild(td); }
  var lastFrame = null;

  function render(view) {
    var s = view.snapshot || {}, h = view.health || {};
    var link = $('link');
    link.textContent = h.upstream ? h.upstream.state + ' (' + h.upstream.mode + ')' : '—';
    link.className = 'pill ' + (h.status === 'ok' ? 'ok' : 'bad');
    var sys = $('system');
    sys.textContent = s.system || 'unknown';
    sys.className = 'pill ' + (s.system === 'idle' ? 'ok' : s.system === 'error' ? 'bad' : '');
    text('sessions', String(h.sessions === undefined ? '—' : h.sessions));
    text('lease', h.leaseHolder ? '#' + h.leaseHolder.id + ' ' + h.leaseHolder.description : 'free');
    text('last-packet', h.lastPacketAt ? new Date(h.lastPacketAt).toLocaleTimeString() : '—');
    ['x', 'y', 'z', 'r'].forEach(function (axis) {
      var a = (s.stage || {})[axis] || {};
      text('pos-' + axis, num(a.position, 4));
      text('target-' + axis, num(a.target, 4));
      var m = $('moving-' + axis);
      m.textContent = a.moving ? 'moving' : '';
      m.className = a.moving ? 'moving' : '';
    });
    var lasers = $('lasers');
    lasers.textContent = '';
    [1, 2, 3, 4].forEach(function (i) {
      var l = (s.lasers || {})[i] || {};
      var row = document.createElement('tr');
      cell(row, 'laser ' + i); cell(row, num(l.level, 1) + (typeof l.level === 'number' ? ' %' : ''));
      cell(row, l.enabled === undefined ? '—' : l.enabled ? 'on' : 'off');
      lasers.appendChild(row);
    });
    var led = s.led || {}, ledRow = document.createElement('tr');
    cell(ledRow, 'LED' + (led.index !== undefined ? ' ' + led.index : ''));
    cell(ledRow, num(led.level, 0)); cell(ledRow, led.enabled === undefined ? '—' : led.enabled ? 'on' : 'off');
    lasers.appendChild(ledRow);
    var w = s.workflow || {}, bar = $('workflow-progress');
    var size = typeof w.gaugeSize === 'number' && w.gaugeSize > 0 ? w.gaugeSize : 1;
    var value = typeof w.gaugeValue === 'number' ? Math.min(w.gaugeValue, size) : 0;
    bar.max = size; bar.value = value;
    var gauge = typeof w.gaugeValue === 'number';
    text('workflow-text', (!gauge ? 'no workflow progress seen' : (w.running ? 'running: ' : w.running === false ? 'finished: ' : '') + w.gaugeValue + ' / ' + size) +
      (typeof w.imagesSaved === 'number' ? ', ' + w.imagesSaved + ' images saved' : ''));
    var events = $('events');
    events.textContent = '';
    (view.events || []).forEach(function (e) {
      var row = document.createElement('tr');
      cell(row, time(e.at)); cell(row, e.name); cell(row, String(e.status));
      cell(row, String(e.int32Data0)); cell(row, String(e.int32Data1)); cell(row, String(e.value));
      events.appendChild(row);
    });
    if (view.frame !== null && view.frame !== undefined && view.frame !== lastFrame) {
      lastFrame = view.frame;
      $('frame').src = '/frame.png' + (suffix ? suffix + '&' : '?') + 'n=' + view.frame;
      text('frame-text', 'frame ' + view.frame);
    }
    document.body.dataset.version = String(s.version);
  }

  function connect() {
    var scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
    var ws = new WebSocket(scheme + location.host + '/ws' + suffix);
    ws.onmessage = function (m) { render(JSON.parse(m.data)); };
    ws.onclose = function () {
      var link = $('link'); link.textContent = 'dashboard disconnected'; link.className = 'pill bad';
      setTimeout(connect, 1000);
    };
  }
  connect();
})();
`;
