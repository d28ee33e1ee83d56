/**
 * The HTML report's stylesheet and script, inlined into every export (no network, no build step). The script is
 * plain ES2020 kept in a string rather than a compiled function: `Function.prototype.toString` of transpiled code
 * picks up helpers (tsx's `__name`) that do not exist in the page.
 *
 * Safety rule for the script: data from the report reaches the DOM only through `textContent` and `setAttribute`
 * on fixed attribute names; never innerHTML, never an href or event attribute built from data.
 */

export const APP_CSS = String.raw`
:root{--bg:#f6f7f9;--panel:#fff;--ink:#1f2328;--muted:#5f6b7a;--line:#e3e6ea;--error:#d93025;--warning:#e37400;--info:#1a73e8;
--added:#188038;--modified:#1a73e8;--deleted:#c5221f;--api:#6b7785;--rec:#0f9d9a;--req:#f2a600;--del:#8e44d8;--mono:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;}
*{box-sizing:border-box}
html,body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}
button{font:inherit;cursor:pointer}
.noscript{padding:24px}
.hdr{background:#1d2433;color:#fff;padding:18px 28px 16px}
.brand{font-size:12px;letter-spacing:.08em;text-transform:uppercase;color:#9fb0c8}
.brand b{color:#fff}
.hdr h1{margin:4px 0 10px;font-size:24px;font-weight:650;word-break:break-all}
.chips{display:flex;flex-wrap:wrap;gap:6px 18px;color:#c9d3e0;font-size:13px}
.chips span b{color:#fff;font-weight:600}
.sevs{display:flex;gap:8px;margin-top:12px;flex-wrap:wrap}
.sev{border-radius:999px;padding:2px 10px;font-size:12px;font-weight:600;color:#fff}
.sev.error{background:var(--error)}.sev.warning{background:var(--warning)}.sev.info{background:var(--info)}.sev.none{background:#3b4a60}
.banner{margin-top:12px;background:#fff4e5;color:#663c00;border-radius:6px;padding:8px 12px;font-size:13px}
main{padding:18px 28px 40px;max-width:1800px}
body.with-drawer main,body.with-drawer .hdr{margin-right:450px}
h2{font-size:16px;margin:8px 0 10px;display:flex;align-items:center;gap:10px}
h2 .count{color:var(--muted);font-weight:500}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:10px}
.card{background:var(--panel);border:1px solid var(--line);border-left:4px solid var(--muted);border-radius:6px;padding:10px 12px;cursor:pointer}
.card.error{border-left-color:var(--error)}.card.warning{border-left-color:var(--warning)}.card.info{border-left-color:var(--info)}
.card.active{outline:2px solid #1d2433}
.card .top{display:flex;gap:8px;align-items:baseline;justify-content:space-between}
.card .ttl{font-weight:650}
.card .kind{font-family:var(--mono);font-size:11px;color:var(--muted)}
.card .obj{font-family:var(--mono);font-size:12.5px;margin:2px 0 4px;word-break:break-all}
.card .msg{color:#333;font-size:13px;display:-webkit-box;-webkit-line-clamp:3;-webkit-box-orient:vertical;overflow:hidden}
.card .foot{margin-top:6px;font-size:12px;color:var(--muted)}
.card.suppressed{opacity:.6}
.panel{background:var(--panel);border:1px solid var(--line);border-radius:6px;margin-top:18px}
.toolbar{display:flex;flex-wrap:wrap;gap:8px;align-items:center;padding:10px 12px;border-bottom:1px solid var(--line)}
.toolbar .sp{flex:1}
.toolbar button{border:1px solid var(--line);background:#fff;border-radius:4px;padding:3px 10px}
.toolbar button:hover{background:#f0f2f5}
.toolbar input[type=search]{border:1px solid var(--line);border-radius:4px;padding:4px 8px;width:220px}
.range{font-family:var(--mono);font-size:12px;color:var(--muted)}
.legend{display:flex;flex-wrap:wrap;gap:14px;padding:6px 12px;font-size:12px;color:var(--muted);border-bottom:1px solid var(--line)}
.legend svg{vertical-align:middle;margin-right:4px}
.tl{position:relative;user-select:none}
.row{display:flex;border-bottom:1px solid #f0f1f3}
.row.hl{background:#fffbe6}
.label{width:280px;flex:none;padding:4px 10px;font-size:12.5px;border-right:1px solid var(--line);overflow:hidden;text-overflow:ellipsis;white-space:nowrap;cursor:pointer;background:inherit}
.label .k{color:var(--muted)}
.label .n{font-family:var(--mono)}
.label .fb{display:inline-block;width:8px;height:8px;border-radius:50%;margin-left:6px}
.label .fb.error{background:var(--error)}.label .fb.warning{background:var(--warning)}.label .fb.info{background:var(--info)}
.row.stream .label{color:var(--muted);font-style:italic}
.track{flex:1;display:block;height:34px;cursor:grab}
.axis .track{height:24px;cursor:default}
.axis .label{font-size:11px;color:var(--muted)}
.grid{stroke:#eef0f3}
.tick{fill:var(--muted);font:10.5px var(--mono)}
.mk{cursor:pointer}
.w-added{fill:var(--added)}.w-modified{fill:var(--modified)}.w-deleted{fill:var(--deleted)}
.w-relist{fill:#fff;stroke:var(--modified);stroke-width:1.6}
.w-relist.w-deleted{stroke:var(--deleted)}
.bookmark{fill:#b9c0c9}
.api-ok{fill:var(--api)}.api-err{fill:var(--error)}.api-conflict{fill:var(--warning)}
.rec-ok{fill:var(--rec)}.rec-err{fill:var(--error)}.rec-requeue{fill:var(--req)}.rec-start{fill:var(--req);opacity:.6}
.del{fill:var(--del)}.del-tomb{fill:#fff;stroke:var(--del);stroke-width:1.6}
.m-bad{stroke:var(--error);stroke-width:2}.m-list{stroke:#7b8794;stroke-width:1.5}.m-info{stroke:#aab3bd;stroke-width:1.2;stroke-dasharray:3 2}
.hit{stroke:transparent;stroke-width:8}
.ev{stroke:var(--error);stroke-width:2.2}
.sel{stroke:#111;stroke-width:2.6}
.band{opacity:.14;cursor:pointer}.band.error{fill:var(--error)}.band.warning{fill:var(--warning)}.band.info{fill:var(--info)}
.band.active{opacity:.3}
.more{padding:8px 12px;color:var(--muted);font-size:12px}
.drawer{position:fixed;top:0;right:0;bottom:0;width:450px;background:var(--panel);border-left:1px solid var(--line);box-shadow:-6px 0 18px rgba(0,0,0,.06);overflow:auto;padding:14px 16px 40px;display:none}
.drawer.open{display:block}
.drawer .close{position:absolute;right:10px;top:8px;border:0;background:none;font-size:20px;color:var(--muted)}
.drawer h3{margin:0 26px 2px 0;font-size:16px}
.drawer .sub{font-family:var(--mono);font-size:12.5px;color:var(--muted);word-break:break-all}
.drawer h4{margin:16px 0 6px;font-size:12px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted)}
.drawer p{margin:6px 0}
.nav{display:flex;gap:6px;margin-top:8px}
.nav button{border:1px solid var(--line);background:#fff;border-radius:4px;padding:2px 8px;font-size:12px}
.tag{display:inline-block;border-radius:4px;padding:0 6px;margin:0 4px 4px 0;font-size:11.5px;background:#eef1f5;font-family:var(--mono)}
.tag.bad{background:#fde7e6;color:#a50e0e}
.kv{width:100%;border-collapse:collapse;font-size:12px}
.kv td{border-top:1px solid #f0f1f3;padding:3px 4px;vertical-align:top}
.kv td:first-child{color:var(--muted);white-space:nowrap;width:1%}
.kv td:last-child{font-family:var(--mono);word-break:break-all}
.diff .sec{margin:10px 0 4px;font-weight:650;font-size:12.5px}
.diff .ent{border:1px solid var(--line);border-radius:4px;margin:4px 0;overflow:hidden}
.diff .path{font-family:var(--mono);font-size:12px;padding:3px 6px;background:#f6f8fa;display:flex;justify-content:space-between;gap:6px;word-break:break-all}
.diff .path i{font-style:normal;color:var(--muted);font-size:11px}
.diff pre{margin:0;padding:3px 6px;font:12px/1.4 var(--mono);white-space:pre-wrap;word-break:break-all;max-height:220px;overflow:auto}
.diff pre.b{background:#fff1f0;color:#8a1c12}.diff pre.a{background:#eefbf0;color:#0f5323}
.diff .none{color:var(--muted);font-size:12.5px}
.ev-list li{margin:3px 0}
.ev-list button,.linkish{border:0;background:none;color:var(--info);padding:0;font-family:var(--mono);font-size:12px}
.rows{list-style:none;margin:0;padding:0;font-size:12px}
.rows li{display:grid;grid-template-columns:88px 1fr;gap:6px;padding:3px 4px;border-top:1px solid #f0f1f3;cursor:pointer}
.rows li:hover{background:#f6f8fa}
.rows li.evi{background:#fff4f3}
.rows .t{font-family:var(--mono);color:var(--muted)}
.rows .d{color:var(--muted);word-break:break-all}
.expl{font-size:13px}
.expl b{display:block;margin-top:8px;font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
@media print{.drawer,.toolbar{display:none!important}body.with-drawer main,body.with-drawer .hdr{margin-right:0}}
`;

export const APP_JS = String.raw`
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('kreplay-data').textContent);
  var H = D.header, R = D.records, L = D.lanes, K = D.kinds, F = H.findings;
  var SVG = 'http://www.w3.org/2000/svg';
  var LABEL_W = 280;
  var bySeq = new Map();
  var byLane = L.map(function () { return []; });
  var tMin = Infinity, tMax = -Infinity;
  R.forEach(function (r, i) {
    bySeq.set(r.s, i);
    if (byLane[r.o]) byLane[r.o].push(i);
    if (r.t != null) { if (r.t < tMin) tMin = r.t; if (r.t > tMax) tMax = r.t; }
    if (r.te != null && r.te > tMax) tMax = r.te;
  });
  if (!isFinite(tMin)) { tMin = 0; tMax = 1000; }
  if (tMax - tMin < 1000) { tMax = tMin + 1000; }
  var pad = (tMax - tMin) * 0.01;
  var full = { t0: tMin - pad, t1: tMax + pad };
  var view = { t0: full.t0, t1: full.t1 };
  var state = { sel: null, lane: null, finding: null, filter: '', onlyFindings: false };

  function el(tag, attrs, kids) {
    var n = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) { if (attrs[k] != null) n.setAttribute(k, String(attrs[k])); });
    (kids || []).forEach(function (c) { if (c == null) return; n.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c); });
    return n;
  }
  function sv(tag, attrs) {
    var n = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) { n.setAttribute(k, String(attrs[k])); });
    return n;
  }
  function iso(ms) { return ms == null ? '—' : new Date(ms).toISOString(); }
  function clock(ms, step) {
    if (ms == null) return '—';
    var s = new Date(ms).toISOString();
    return step != null && step >= 1000 ? s.slice(11, 19) : s.slice(11, 23);
  }
  function dur(ms) {
    if (!isFinite(ms)) return '?';
    if (ms < 1000) return Math.round(ms) + 'ms';
    var s = Math.round(ms / 1000); if (s < 60) return s + 's';
    var m = Math.floor(s / 60); if (m < 60) return m + 'm' + String(s % 60).padStart(2, '0') + 's';
    return Math.floor(m / 60) + 'h' + String(m % 60).padStart(2, '0') + 'm';
  }
  function objName(o) { return o.kind + ' ' + (o.namespace ? o.namespace + '/' : '') + o.name; }
  function show(v) { if (v === undefined) return ''; if (typeof v === 'string') return v; try { return JSON.stringify(v, null, 2); } catch (e) { return String(v); } }
  function findingTimes(f) {
    var a = bySeq.get(f.firstSeq), b = bySeq.get(f.lastSeq);
    var t0 = a != null ? R[a].t : null, t1 = b != null ? R[b].t : null;
    f.evidence.forEach(function (e) { var i = bySeq.get(e.seq); if (i == null || R[i].t == null) return; if (t0 == null || R[i].t < t0) t0 = R[i].t; if (t1 == null || R[i].t > t1) t1 = R[i].t; });
    if (t0 == null) t0 = t1; if (t1 == null) t1 = t0;
    return t0 == null ? null : [t0, t1];
  }
  var laneSeverity = L.map(function (lane) {
    var best = null;
    lane.findings.forEach(function (i) { var s = F[i].severity; if (s === 'error' || (s === 'warning' && best !== 'error') || (s === 'info' && !best)) best = s; });
    return best;
  });

  // ---- header ------------------------------------------------------------------------------------------------
  var app = document.getElementById('app');
  var S = H.summary, sess = H.session;
  var chips = el('div', { class: 'chips' });
  function chip(k, v) { chips.appendChild(el('span', null, [k + ' ', el('b', null, [v])])); }
  chip('source', sess.source);
  if (sess.cluster || sess.context) chip('cluster', (sess.cluster || '?') + (sess.context && sess.context !== sess.cluster ? ' (context ' + sess.context + ')' : ''));
  chip('span', S.firstObservedAt ? S.firstObservedAt + ' → ' + clock(Date.parse(S.lastObservedAt)) + ' UTC (' + dur(Date.parse(S.lastObservedAt) - Date.parse(S.firstObservedAt)) + ')' : 'no timestamps');
  chip('records', String(S.records) + (S.firstSeq != null ? ' (seq ' + S.firstSeq + '–' + S.lastSeq + ')' : ''));
  chip('objects', String(S.objects));
  if (H.window.cut) {
    var w = [];
    if (H.window.from) w.push('from ' + H.window.from);
    if (H.window.to) w.push('to ' + H.window.to);
    if (H.window.objects.length) w.push(H.window.objects.map(function (o) { return [o.kind, o.namespace, o.name].filter(function (x) { return x != null; }).join('/'); }).join(', '));
    chip('window', w.join(', '));
  }
  if (H.controller) chip('controller under debug', H.controller.basis === 'unknown' ? 'none identified' : H.controller.names.join(', ') + (H.controller.basis === 'inferred' ? ' (inferred)' : ''));
  var notEvaluated = Object.keys(H.coverage || {}).filter(function (k) { return H.coverage[k].status === 'not-evaluated'; });
  if (notEvaluated.length) chip('not evaluated', notEvaluated.map(function (k) { return k + ' (' + H.coverage[k].missing.join('; ') + ')'; }).join(', '));
  chip('generated', H.generatedAt + ' by kreplay ' + H.generator.version);
  var sevs = el('div', { class: 'sevs' });
  ['error', 'warning', 'info'].forEach(function (s) { var n = S.findingsBySeverity[s]; if (n) sevs.appendChild(el('span', { class: 'sev ' + s }, [n + ' ' + s + (n === 1 ? '' : 's')])); });
  if (!S.findings) sevs.appendChild(el('span', { class: 'sev none' }, ['no findings']));
  var hdr = el('header', { class: 'hdr' }, [el('div', { class: 'brand' }, [el('b', null, ['kreplay']), ' · incident report']), el('h1', null, [sess.name]), chips, sevs]);
  if (sess.partial) hdr.appendChild(el('div', { class: 'banner' }, ['Partial session: records were lost while recording or importing. ' + sess.problems.slice(0, 3).join(' · ')]));
  app.appendChild(hdr);
  var main = el('main');
  app.appendChild(main);

  // ---- findings ----------------------------------------------------------------------------------------------
  var cardsBox = el('div', { class: 'cards' });
  main.appendChild(el('section', { id: 'findings' }, [el('h2', null, ['Findings ', el('span', { class: 'count' }, [String(F.length)])]), F.length ? cardsBox : el('p', null, ['No detector fired in this window.'])]));
  F.forEach(function (f, i) {
    var info = K[f.kind] || { title: f.kind };
    var card = el('div', { class: 'card finding-card ' + f.severity + (f.suppressed ? ' suppressed' : ''), 'data-finding': i, tabindex: 0 }, [
      el('div', { class: 'top' }, [el('span', { class: 'ttl' }, [info.title]), el('span', { class: 'kind' }, [f.kind])]),
      el('div', { class: 'obj' }, [objName(f.object)]),
      el('div', { class: 'msg' }, [f.message]),
      el('div', { class: 'foot' }, [f.severity + ' · rule ' + f.rule + ' · seq ' + f.firstSeq + '–' + f.lastSeq + (f.count > 1 ? ' · ' + f.count + '×' : '') + (f.suppressed ? ' · suppressed: ' + f.suppressed.reason : '')])
    ]);
    card.addEventListener('click', function () { selectFinding(i, true); });
    card.addEventListener('keydown', function (e) { if (e.key === 'Enter') selectFinding(i, true); });
    cardsBox.appendChild(card);
  });

  // ---- timeline ----------------------------------------------------------------------------------------------
  var rangeLabel = el('span', { class: 'range' });
  var search = el('input', { type: 'search', placeholder: 'filter objects…', 'aria-label': 'filter objects' });
  var only = el('input', { type: 'checkbox', id: 'only-findings' });
  function btn(text, title, fn) { var b = el('button', { type: 'button', title: title }, [text]); b.addEventListener('click', fn); return b; }
  var toolbar = el('div', { class: 'toolbar' }, [
    btn('−', 'zoom out', function () { zoom(2, 0.5); }), btn('+', 'zoom in', function () { zoom(0.5, 0.5); }), btn('fit', 'whole window', function () { view.t0 = full.t0; view.t1 = full.t1; render(); }),
    rangeLabel, el('span', { class: 'sp' }), search, el('label', null, [only, ' only objects with findings'])
  ]);
  function legendItem(text, draw) { var s = sv('svg', { width: 14, height: 14 }); draw(s); return el('span', null, [s, text]); }
  var legend = el('div', { class: 'legend' }, [
    legendItem('added', function (s) { s.appendChild(sv('circle', { cx: 7, cy: 7, r: 5, class: 'w-added' })); }),
    legendItem('modified', function (s) { s.appendChild(sv('circle', { cx: 7, cy: 7, r: 5, class: 'w-modified' })); }),
    legendItem('deleted', function (s) { s.appendChild(sv('circle', { cx: 7, cy: 7, r: 5, class: 'w-deleted' })); }),
    legendItem('relisted', function (s) { s.appendChild(sv('circle', { cx: 7, cy: 7, r: 4.5, class: 'w-relist' })); }),
    legendItem('delivery', function (s) { s.appendChild(sv('path', { d: 'M2 4 L12 4 L7 11 Z', class: 'del' })); }),
    legendItem('reconcile', function (s) { s.appendChild(sv('rect', { x: 1, y: 4, width: 12, height: 6, class: 'rec-ok' })); }),
    legendItem('API write', function (s) { s.appendChild(sv('rect', { x: 3, y: 3, width: 8, height: 8, class: 'api-ok' })); }),
    legendItem('failed request / reconcile', function (s) { s.appendChild(sv('rect', { x: 3, y: 3, width: 8, height: 8, class: 'api-err' })); }),
    legendItem('evidence', function (s) { s.appendChild(sv('circle', { cx: 7, cy: 7, r: 4.5, class: 'w-modified ev' })); }),
    el('span', null, ['wheel: zoom · drag: pan · click: details'])
  ]);
  var axisRow = el('div', { class: 'row axis' }, [el('div', { class: 'label' }, ['UTC']), sv('svg', { class: 'track' })]);
  var lanesBox = el('div', { class: 'lanes' });
  var more = el('div', { class: 'more' });
  var tl = el('div', { class: 'tl' }, [axisRow, lanesBox, more]);
  main.appendChild(el('section', { id: 'timeline', class: 'panel' }, [toolbar, legend, tl]));

  var MAX_LANES = 400;
  function visibleLanes() {
    var q = state.filter.toLowerCase();
    var out = [];
    L.forEach(function (lane, i) {
      if (state.onlyFindings && !lane.findings.length) return;
      if (q && (lane.title + ' ' + lane.uids.join(' ')).toLowerCase().indexOf(q) === -1) return;
      out.push(i);
    });
    // Objects with findings first (most severe first), then streams, then the rest as they appeared.
    var rank = { error: 0, warning: 1, info: 2 };
    out.sort(function (a, b) {
      var sa = laneSeverity[a] ? rank[laneSeverity[a]] : (L[a].stream ? 3 : 4), sb = laneSeverity[b] ? rank[laneSeverity[b]] : (L[b].stream ? 3 : 4);
      return sa - sb || (L[a].title < L[b].title ? -1 : L[a].title > L[b].title ? 1 : 0);
    });
    return out;
  }
  function width() { return Math.max(200, tl.clientWidth - LABEL_W); }
  function xOf(t, W) { return (t - view.t0) / (view.t1 - view.t0) * W; }
  var STEPS = [1, 5, 10, 50, 100, 250, 500, 1000, 2000, 5000, 10000, 15000, 30000, 60000, 120000, 300000, 600000, 900000, 1800000, 3600000, 7200000, 21600000, 43200000, 86400000];
  function stepFor(W) { var span = view.t1 - view.t0; for (var i = 0; i < STEPS.length; i++) if (span / STEPS[i] <= W / 90) return STEPS[i]; return STEPS[STEPS.length - 1]; }

  function drawAxis(W, step) {
    var svg = axisRow.lastChild; while (svg.firstChild) svg.removeChild(svg.firstChild);
    svg.setAttribute('viewBox', '0 0 ' + W + ' 24'); svg.setAttribute('width', W);
    for (var t = Math.ceil(view.t0 / step) * step; t <= view.t1; t += step) {
      var x = xOf(t, W);
      svg.appendChild(sv('line', { x1: x, x2: x, y1: 16, y2: 24, class: 'grid', stroke: '#cfd5dc' }));
      var tx = sv('text', { x: x + 3, y: 13, class: 'tick' }); tx.textContent = clock(t, step); svg.appendChild(tx);
    }
  }

  function mark(r, W, y) {
    var x = xOf(r.t, W), c = r.c, n;
    if (r.k === 'watch') n = c === 'bookmark' ? sv('rect', { x: x - 1, y: 3, width: 2, height: 10, class: c }) : sv('circle', { cx: x, cy: 9, r: 5, class: c });
    else if (r.k === 'delivery') n = sv('path', { d: 'M' + (x - 4.5) + ' 13 L' + (x + 4.5) + ' 13 L' + x + ' 21 Z', class: c });
    else if (r.k === 'reconcile') { var x2 = r.te != null ? xOf(r.te, W) : x; n = sv('rect', { x: x, y: 14, width: Math.max(3, x2 - x), height: 6, rx: 1, class: c }); }
    else if (r.k === 'reconcile-start') n = sv('rect', { x: x - 1, y: 14, width: 2, height: 6, class: c });
    else if (r.k === 'api') n = sv('rect', { x: x - 3.5, y: 23, width: 7, height: 7, class: c });
    else { n = sv('line', { x1: x, x2: x, y1: 1, y2: 33, class: c }); }
    n.setAttribute('class', n.getAttribute('class') + ' mk' + (r.f ? ' ev' : '') + (state.sel === r.s ? ' sel' : ''));
    n.setAttribute('data-seq', r.s);
    var title = sv('title'); title.textContent = '#' + r.s + ' ' + clock(r.t) + ' ' + r.l + (r.d ? ' — ' + r.d : ''); n.appendChild(title);
    return n;
  }

  function render() {
    var W = width(), step = stepFor(W);
    rangeLabel.textContent = clock(view.t0, step) + ' → ' + clock(view.t1, step) + ' (' + dur(view.t1 - view.t0) + ')';
    drawAxis(W, step);
    while (lanesBox.firstChild) lanesBox.removeChild(lanesBox.firstChild);
    var lanes = visibleLanes();
    lanes.slice(0, MAX_LANES).forEach(function (li) {
      var lane = L[li];
      var label = el('div', { class: 'label', title: lane.title + (lane.uids.length ? ' uid ' + lane.uids.join(', ') : '') }, lane.stream ? [lane.title] : [el('span', { class: 'k' }, [lane.kind + ' ']), el('span', { class: 'n' }, [(lane.namespace ? lane.namespace + '/' : '') + lane.name])]);
      if (laneSeverity[li]) label.appendChild(el('span', { class: 'fb ' + laneSeverity[li], title: lane.findings.length + ' finding(s)' }));
      label.addEventListener('click', function () { selectLane(li); });
      var svg = sv('svg', { class: 'track', viewBox: '0 0 ' + W + ' 34', width: W, 'data-lane': li });
      for (var t = Math.ceil(view.t0 / step) * step; t <= view.t1; t += step) { var gx = xOf(t, W); svg.appendChild(sv('line', { x1: gx, x2: gx, y1: 0, y2: 34, class: 'grid' })); }
      lane.findings.forEach(function (fi) {
        var span = findingTimes(F[fi]); if (!span) return;
        var x0 = xOf(span[0], W), x1 = xOf(span[1], W);
        if (x1 < -10 || x0 > W + 10) return;
        var band = sv('rect', { x: Math.min(x0, x1 - 6) - 3, y: 0, width: Math.max(12, x1 - x0 + 6), height: 34, class: 'band ' + F[fi].severity + (state.finding === fi ? ' active' : ''), 'data-finding': fi });
        var bt = sv('title'); bt.textContent = (K[F[fi].kind] || {}).title + ': ' + F[fi].message; band.appendChild(bt);
        svg.appendChild(band);
      });
      // One mark per pixel and style, except evidence and the selection: a lane never holds more than ~W marks.
      var seen = new Set();
      byLane[li].forEach(function (ri) {
        var r = R[ri]; if (r.t == null) return;
        var x = xOf(r.t, W), xe = r.te != null ? xOf(r.te, W) : x;
        if (xe < -6 || x > W + 6) return;
        var key = r.k + r.c + Math.round(x);
        if (seen.has(key) && !r.f && state.sel !== r.s) return;
        seen.add(key);
        svg.appendChild(mark(r, W));
      });
      lanesBox.appendChild(el('div', { class: 'row' + (lane.stream ? ' stream' : '') + (state.lane === li ? ' hl' : ''), 'data-lane-row': li }, [label, svg]));
    });
    more.textContent = lanes.length > MAX_LANES ? (lanes.length - MAX_LANES) + ' more objects: filter to see them' : (lanes.length ? '' : 'No objects match the filter.');
  }

  function zoom(factor, at) {
    var span = view.t1 - view.t0, t = view.t0 + span * at;
    var next = Math.min(Math.max(span * factor, 20), (full.t1 - full.t0) * 1.5);
    view.t0 = t - next * at; view.t1 = view.t0 + next; render();
  }
  function zoomTo(t0, t1) { var p = Math.max((t1 - t0) * 0.4, 2000); view.t0 = t0 - p; view.t1 = t1 + p; render(); }
  tl.addEventListener('wheel', function (e) {
    var track = e.target.closest && e.target.closest('.track'); if (!track) return;
    e.preventDefault();
    var rect = track.getBoundingClientRect();
    zoom(Math.exp(e.deltaY * 0.0015), Math.min(1, Math.max(0, (e.clientX - rect.left) / rect.width)));
  }, { passive: false });
  var drag = null;
  tl.addEventListener('mousedown', function (e) {
    var track = e.target.closest && e.target.closest('.track'); if (!track || e.button !== 0) return;
    drag = { x: e.clientX, t0: view.t0, t1: view.t1, w: track.getBoundingClientRect().width, moved: false };
  });
  window.addEventListener('mousemove', function (e) {
    if (!drag) return;
    var dx = e.clientX - drag.x; if (Math.abs(dx) > 3) drag.moved = true;
    if (!drag.moved) return;
    var dt = dx / drag.w * (drag.t1 - drag.t0);
    view.t0 = drag.t0 - dt; view.t1 = drag.t1 - dt; render();
  });
  window.addEventListener('mouseup', function () { setTimeout(function () { drag = null; }, 0); });
  lanesBox.addEventListener('click', function (e) {
    if (drag && drag.moved) return;
    var m = e.target.closest && e.target.closest('[data-seq]');
    if (m) { selectRecord(Number(m.getAttribute('data-seq'))); return; }
    var b = e.target.closest && e.target.closest('[data-finding]');
    if (b) selectFinding(Number(b.getAttribute('data-finding')), false);
  });
  search.addEventListener('input', function () { state.filter = search.value; render(); });
  only.addEventListener('change', function () { state.onlyFindings = only.checked; render(); });
  window.addEventListener('resize', function () { render(); });
  document.addEventListener('keydown', function (e) {
    if (e.target && e.target.tagName === 'INPUT') return;
    if (e.key === 'Escape') closeDrawer();
    else if (e.key === '+' || e.key === '=') zoom(0.5, 0.5);
    else if (e.key === '-') zoom(2, 0.5);
    else if ((e.key === 'ArrowRight' || e.key === 'ArrowLeft') && state.sel != null) step(e.key === 'ArrowRight' ? 1 : -1);
  });

  // ---- drawer ------------------------------------------------------------------------------------------------
  var drawer = el('aside', { id: 'drawer', class: 'drawer', 'aria-live': 'polite' });
  document.body.appendChild(drawer);
  function openDrawer(kids) {
    while (drawer.firstChild) drawer.removeChild(drawer.firstChild);
    var close = el('button', { class: 'close', type: 'button', title: 'close (Esc)' }, ['×']);
    close.addEventListener('click', closeDrawer);
    drawer.appendChild(close);
    kids.forEach(function (k) { if (k) drawer.appendChild(k); });
    drawer.classList.add('open'); document.body.classList.add('with-drawer'); drawer.scrollTop = 0;
    render();
  }
  function closeDrawer() { drawer.classList.remove('open'); document.body.classList.remove('with-drawer'); state.sel = null; state.finding = null; state.lane = null; markCards(); render(); }
  function markCards() { Array.prototype.forEach.call(cardsBox.children, function (c) { c.classList.toggle('active', Number(c.getAttribute('data-finding')) === state.finding); }); }
  function seqLink(seq, text) { var b = el('button', { type: 'button', class: 'linkish', 'data-goto': seq }, [text || ('#' + seq)]); b.addEventListener('click', function () { selectRecord(seq, true); }); return b; }
  function kvTable(obj) {
    var t = el('table', { class: 'kv' });
    Object.keys(obj).forEach(function (k) { var v = obj[k]; if (v === undefined || v === null || k === 'record') return; t.appendChild(el('tr', null, [el('td', null, [k]), el('td', null, [typeof v === 'object' ? JSON.stringify(v) : String(v)])])); });
    return t;
  }
  function diffView(x) {
    var box = el('div', { class: 'diff' });
    var names = { spec: 'spec (what was asked)', status: 'status (what was observed)', metadata: 'metadata', other: 'other fields' };
    var any = false;
    ['spec', 'status', 'metadata', 'other'].forEach(function (sec) {
      var list = x.sections[sec]; if (!list || !list.length) return; any = true;
      box.appendChild(el('div', { class: 'sec' }, [names[sec] + ' · ' + list.length + ' change' + (list.length === 1 ? '' : 's')]));
      list.forEach(function (e) {
        var ent = el('div', { class: 'ent' }, [el('div', { class: 'path' }, [e[0], el('i', null, [e[1]])])]);
        if (e[1] !== 'added') ent.appendChild(el('pre', { class: 'b' }, ['− ' + show(e[2])]));
        if (e[1] !== 'removed') ent.appendChild(el('pre', { class: 'a' }, ['+ ' + show(e[3])]));
        box.appendChild(ent);
      });
    });
    if (!any) box.appendChild(el('p', { class: 'none' }, [x.deleted ? 'The object is gone.' : 'No field changed (the server re-sent the same content).']));
    if (x.hidden) box.appendChild(el('p', { class: 'none' }, [x.hidden + ' managedFields change' + (x.hidden === 1 ? '' : 's') + ' hidden.']));
    return box;
  }
  function step(dir) {
    var i = bySeq.get(state.sel); if (i == null) return;
    var lane = byLane[R[i].o], pos = lane.indexOf(i), next = lane[pos + dir];
    if (next != null) selectRecord(R[next].s, true);
  }
  function ensureVisible(t) {
    if (t == null) return;
    if (t < view.t0 || t > view.t1) { var span = view.t1 - view.t0; view.t0 = t - span / 2; view.t1 = t + span / 2; }
  }
  function scrollLane(li) {
    var row = lanesBox.querySelector('[data-lane-row="' + li + '"]');
    if (row && row.scrollIntoView) row.scrollIntoView({ block: 'nearest' });
  }
  function selectRecord(seq, center) {
    var i = bySeq.get(seq); if (i == null) return;
    var r = R[i], lane = L[r.o];
    state.sel = seq; state.lane = r.o;
    if (center) ensureVisible(r.t);
    var kids = [el('h3', null, [r.l]), el('div', { class: 'sub' }, ['#' + r.s + ' · ' + iso(r.t) + ' · ' + lane.title])];
    var nav = el('div', { class: 'nav' }, [btn('← previous', 'previous record of this object', function () { step(-1); }), btn('next →', 'next record of this object', function () { step(1); }), btn('object', 'every record of this object', function () { selectLane(r.o); })]);
    kids.push(nav);
    if (r.d) kids.push(el('p', null, [r.d]));
    if (r.a && r.a.length) { var ann = el('div'); r.a.forEach(function (a) { ann.appendChild(el('span', { class: 'tag', title: a.note }, [a.tag])); ann.appendChild(el('div', { class: 'sub' }, [a.note])); }); kids.push(el('h4', null, ['Replayer notes']), ann); }
    if (r.f) {
      kids.push(el('h4', null, ['Evidence for']));
      r.f.forEach(function (fi) {
        var f = F[fi], note = f.evidence.filter(function (e) { return e.seq === r.s; }).map(function (e) { return e.note; }).join(' ');
        var b = el('button', { type: 'button', class: 'linkish' }, [(K[f.kind] || {}).title + ' — ' + objName(f.object)]);
        b.addEventListener('click', function () { selectFinding(fi, true); });
        kids.push(el('p', null, [el('span', { class: 'tag bad' }, [f.kind]), b]), note ? el('p', { class: 'sub' }, [note]) : null);
      });
    }
    if (r.x) kids.push(el('h4', null, [r.x.created ? 'Object at creation' : 'Change from the previous version']), diffView(r.x));
    kids.push(el('h4', null, ['Record']), kvTable(r.r));
    openDrawer(kids);
    markCards();
    scrollLane(r.o);
  }
  function selectLane(li) {
    var lane = L[li];
    state.lane = li;
    var kids = [el('h3', null, [lane.title]), el('div', { class: 'sub' }, [lane.uids.length ? 'uid ' + lane.uids.join(', ') : (lane.stream ? 'watch stream markers and bookmarks' : 'no uid known')]), el('p', null, [lane.count + ' record' + (lane.count === 1 ? '' : 's')])];
    if (lane.findings.length) {
      kids.push(el('h4', null, ['Findings']));
      lane.findings.forEach(function (fi) { var b = el('button', { type: 'button', class: 'linkish' }, [(K[F[fi].kind] || {}).title]); b.addEventListener('click', function () { selectFinding(fi, true); }); kids.push(el('p', null, [el('span', { class: 'tag bad' }, [F[fi].severity]), b])); });
    }
    kids.push(el('h4', null, ['Records']));
    var list = el('ul', { class: 'rows' });
    byLane[li].slice(0, 2000).forEach(function (ri) {
      var r = R[ri];
      var item = el('li', { 'data-row-seq': r.s, class: r.f ? 'evi' : null }, [el('span', { class: 't' }, [clock(r.t)]), el('span', null, ['#' + r.s + ' ' + r.l, el('div', { class: 'd' }, [r.d])])]);
      item.addEventListener('click', function () { selectRecord(r.s, true); });
      list.appendChild(item);
    });
    kids.push(list);
    if (byLane[li].length > 2000) kids.push(el('p', { class: 'sub' }, [(byLane[li].length - 2000) + ' more records: zoom the timeline to reach them.']));
    state.sel = null;
    openDrawer(kids);
  }
  function selectFinding(fi, zoomIn) {
    var f = F[fi], info = K[f.kind] || { title: f.kind, explanation: '', pitfall: '', fix: '' };
    state.finding = fi;
    var span = findingTimes(f);
    if (zoomIn && span) zoomTo(span[0], span[1]);
    var laneIdx = -1;
    L.forEach(function (lane, i) { if (lane.findings.indexOf(fi) !== -1) laneIdx = i; });
    state.lane = laneIdx >= 0 ? laneIdx : null; state.sel = null;
    var ev = el('ul', { class: 'ev-list' });
    f.evidence.forEach(function (e) { ev.appendChild(el('li', null, [bySeq.has(e.seq) ? seqLink(e.seq) : el('span', { class: 'sub' }, ['#' + e.seq + ' (outside this export)']), ' ', e.resourceVersion ? el('span', { class: 'tag' }, ['rv ' + e.resourceVersion]) : null, ' ' + e.note])); });
    openDrawer([
      el('h3', null, [info.title]),
      el('div', { class: 'sub' }, [f.severity + ' · ' + f.kind + ' · rule ' + f.rule + ' · ' + objName(f.object)]),
      el('p', null, [f.message]),
      f.suppressed ? el('p', { class: 'banner' }, ['Suppressed: ' + f.suppressed.reason]) : null,
      el('h4', null, ['Evidence']), ev,
      el('div', { class: 'expl' }, [el('b', null, ['Why it matters']), info.explanation, el('b', null, ['Usual cause']), info.pitfall, el('b', null, ['Fix']), info.fix])
    ]);
    markCards();
    if (laneIdx >= 0) scrollLane(laneIdx);
  }

  render();
  document.documentElement.setAttribute('data-ready', 'true');
})();
`;
