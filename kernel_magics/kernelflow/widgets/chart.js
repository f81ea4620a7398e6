// kernelflow's interactive metric charts: plain SVG, no library, a few KB.
// kfCharts(root) reads the JSON in root's <script class="kf-data"> and replaces the static
// pictures (.kf-static) with charts that have hover, zoom, pan, reset, log scale,
// smoothing and an x-axis choice; kfCharts(root, spec) draws a given spec (the live widget)
// and returns {update(spec)}, which redraws with new data keeping zoom and settings.
// Colours come from Jupyter's CSS variables (light and dark themes).
function kfCharts(root, given) {
  var dataNode = root.querySelector("script.kf-data");
  if ((!dataNode && !given) || root.getAttribute("data-kf-ready")) return null;
  root.setAttribute("data-kf-ready", "1");
  var spec = given || JSON.parse(dataNode.textContent);
  var NS = "http://www.w3.org/2000/svg";
  var FG = "var(--jp-ui-font-color1, #222)", FG2 = "var(--jp-ui-font-color2, #555)";
  var GRID = "var(--jp-border-color2, #e0e0e0)", BG = "var(--jp-layout-color1, #fff)";
  var state = { x: "step", log: false, smooth: 0 };
  var charts = [];

  function el(tag, attrs, parent, ns) {
    var e = ns ? document.createElementNS(NS, tag) : document.createElement(tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function fmt(v) {
    if (!isFinite(v)) return String(v);
    var a = Math.abs(v);
    if (a === 0) return "0";
    if (a >= 1e5 || a < 1e-3) return v.toExponential(2);
    if (a >= 100) return Math.round(v).toLocaleString("en-US");
    return String(Number(v.toPrecision(4)));
  }
  function fmtX(v) {
    if (state.x === "time") {
      var d = new Date(v), t = d.toLocaleTimeString();
      return state.span < 10000 ? t + "." + String(d.getMilliseconds()).padStart(3, "0") : t;
    }
    if (state.x === "relative") return fmt(v) + "s";
    return fmt(v);
  }
  function ticks(lo, hi, n) {
    if (!(isFinite(lo) && isFinite(hi)) || hi <= lo) return [lo];
    var raw = (hi - lo) / n, mag = Math.pow(10, Math.floor(Math.log10(raw)));
    var step = [1, 2, 5, 10].map(function (m) { return m * mag; }).find(function (s) { return s >= raw; });
    var out = [];
    for (var t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(+t.toPrecision(12));
    return out;
  }
  function xs(s) {
    if (state.x === "time") return s.time;
    if (state.x === "relative") return s.time.map(function (t) { return (t - s.t0) / 1000; });
    return s.step;
  }
  function ys(s) {
    var y = s.value, a = state.smooth;
    if (a > 0) {  // EMA, debiased like TensorBoard's so the curve starts at the first point
      var out = [], last = 0, n = 0;
      for (var i = 0; i < y.length; i++) {
        if (!isFinite(y[i])) { out.push(y[i]); continue; }
        last = last * a + (1 - a) * y[i]; n++;
        out.push(last / (1 - Math.pow(a, n)));
      }
      y = out;
    }
    return y;
  }
  var XLABEL = { step: "step", time: "wall time", relative: "relative time (s)" };

  function draw(c) {
    var width = Math.max(260, c.box.clientWidth || 360), height = 240;
    var L = 56, R = 12, T = 24, B = 36, pw = width - L - R, ph = height - T - B;
    c.svg.setAttribute("width", width); c.svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    while (c.svg.firstChild) c.svg.removeChild(c.svg.firstChild);
    var lines = c.chart.series.map(function (s) {
      var x = xs(s), y = ys(s), pts = [];
      for (var i = 0; i < x.length; i++) {
        if (isFinite(y[i]) && !(state.log && y[i] <= 0)) pts.push([x[i], state.log ? Math.log10(y[i]) : y[i]]);
      }
      return { s: s, pts: pts };
    });
    var all = [].concat.apply([], lines.map(function (l) { return l.pts; }));
    el("text", { x: 4, y: 14, "font-size": 12, "font-weight": "bold", style: "fill:" + FG }, c.svg, 1).textContent = c.chart.key;
    if (!all.length) {
      el("text", { x: width / 2, y: height / 2, "text-anchor": "middle", style: "fill:" + FG2 }, c.svg, 1).textContent = "no data yet";
      return;
    }
    var x0 = Math.min.apply(null, all.map(function (p) { return p[0]; }));
    var x1 = Math.max.apply(null, all.map(function (p) { return p[0]; }));
    if (c.zoom) { x0 = c.zoom[0]; x1 = c.zoom[1]; }
    var inView = all.filter(function (p) { return p[0] >= x0 && p[0] <= x1; });
    var yv = (inView.length ? inView : all).map(function (p) { return p[1]; });
    var y0 = Math.min.apply(null, yv), y1 = Math.max.apply(null, yv);
    if (y0 === y1) { y0 -= 0.5; y1 += 0.5; }
    var pad = (y1 - y0) * 0.05; y0 -= pad; y1 += pad;
    if (x0 === x1) { x0 -= 0.5; x1 += 0.5; }
    var px = function (v) { return L + (v - x0) / (x1 - x0) * pw; };
    var py = function (v) { return T + ph - (v - y0) / (y1 - y0) * ph; };
    c.frame = { L: L, T: T, pw: pw, ph: ph, x0: x0, x1: x1, px: px, py: py, lines: lines };
    state.span = x1 - x0;
    var g = el("g", { "font-size": 10, style: "fill:" + FG2 }, c.svg, 1);
    var yt = ticks(y0, y1, 5);
    if (state.log && Math.floor(y1) - Math.ceil(y0) >= 1) {  // whole decades: 0.01, 0.1, 1
      yt = [];
      for (var e = Math.ceil(y0); e <= Math.floor(y1); e++) yt.push(e);
    }
    yt.forEach(function (t) {
      el("line", { x1: L, x2: L + pw, y1: py(t), y2: py(t), style: "stroke:" + GRID }, g, 1);
      el("text", { x: L - 4, y: py(t) + 3, "text-anchor": "end" }, g, 1).textContent = state.log ? fmt(Math.pow(10, t)) : fmt(t);
    });
    ticks(x0, x1, state.x === "time" ? 3 : 5).forEach(function (t) {
      el("text", { x: px(t), y: T + ph + 13, "text-anchor": "middle" }, g, 1).textContent = fmtX(t);
    });
    el("text", { x: L + pw / 2, y: height - 4, "text-anchor": "middle", class: "kf-xlabel" }, g, 1).textContent = XLABEL[state.x];
    el("text", { x: 12, y: T + ph / 2, "text-anchor": "middle", transform: "rotate(-90 12 " + (T + ph / 2) + ")",
                 class: "kf-ylabel" }, g, 1).textContent = c.chart.key + (state.log ? " (log)" : "");
    el("rect", { x: L, y: T, width: pw, height: ph, fill: "none", style: "stroke:" + GRID }, c.svg, 1);
    var clip = "kf-clip-" + Math.random().toString(36).slice(2);
    el("rect", { x: L, y: T, width: pw, height: ph }, el("clipPath", { id: clip }, el("defs", {}, c.svg, 1), 1), 1);
    var plot = el("g", { "clip-path": "url(#" + clip + ")" }, c.svg, 1);
    lines.forEach(function (l) {
      var d = l.pts.map(function (p) { return px(p[0]).toFixed(1) + "," + py(p[1]).toFixed(1); }).join(" ");
      if (l.pts.length === 1) el("circle", { cx: px(l.pts[0][0]), cy: py(l.pts[0][1]), r: 2.5, fill: l.s.color }, plot, 1);
      else el("polyline", { points: d, fill: "none", stroke: l.s.color, "stroke-width": 1.6, class: "kf-series",
                            "data-label": l.s.label }, plot, 1);
    });
    c.cursor = el("g", { style: "display:none" }, c.svg, 1);
    c.sel = el("rect", { y: T, height: ph, style: "fill:var(--jp-brand-color1,#1976d2);opacity:.15;display:none" }, c.svg, 1);
    c.overlay = el("rect", { x: L, y: T, width: pw, height: ph, fill: "transparent", style: "cursor:crosshair" }, c.svg, 1);
  }

  function nearest(arr, v) {
    var lo = 0, hi = arr.length - 1;
    while (hi - lo > 1) { var mid = (lo + hi) >> 1; if (arr[mid][0] < v) lo = mid; else hi = mid; }
    return Math.abs(arr[lo][0] - v) <= Math.abs(arr[hi][0] - v) ? arr[lo] : arr[hi];
  }
  function xAt(c, evt) {
    var r = c.svg.getBoundingClientRect(), f = c.frame;
    var sx = (evt.clientX - r.left) * (c.svg.viewBox.baseVal.width / r.width);
    return { px: sx, x: f.x0 + (sx - f.L) / f.pw * (f.x1 - f.x0) };
  }
  function hover(c, evt) {
    var f = c.frame; if (!f) return;
    var at = xAt(c, evt), rows = [];
    while (c.cursor.firstChild) c.cursor.removeChild(c.cursor.firstChild);
    c.cursor.style.display = "";
    el("line", { x1: at.px, x2: at.px, y1: f.T, y2: f.T + f.ph, style: "stroke:" + FG2, "stroke-dasharray": "3,3" }, c.cursor, 1);
    f.lines.forEach(function (l) {
      if (!l.pts.length) return;
      var p = nearest(l.pts, at.x);
      el("circle", { cx: f.px(p[0]), cy: f.py(p[1]), r: 3.5, fill: l.s.color }, c.cursor, 1);
      rows.push([l.s, p]);
    });
    var xname = { step: "step", time: "time", relative: "t" }[state.x];
    c.tip.innerHTML = "";
    if (rows.length) {
      el("div", { style: "font-weight:600" }, c.tip).textContent = xname + " " + fmtX(rows[0][1][0]);
      rows.forEach(function (r) {
        var d = el("div", {}, c.tip);
        el("span", { style: "display:inline-block;width:8px;height:8px;margin-right:4px;background:" + r[0].color }, d);
        d.appendChild(document.createTextNode(r[0].label + ": " + fmt(state.log ? Math.pow(10, r[1][1]) : r[1][1])));
      });
    }
    var box = c.box.getBoundingClientRect();
    c.tip.style.display = "block";
    c.tip.style.left = Math.min(evt.clientX - box.left + 12, box.width - 160) + "px";
    c.tip.style.top = (evt.clientY - box.top + 12) + "px";
  }
  function leave(c) { c.cursor && (c.cursor.style.display = "none"); c.tip.style.display = "none"; }

  function attach(c) {
    var drag = null;
    c.svg.addEventListener("mousedown", function (e) {
      if (!c.frame) return;
      drag = { start: xAt(c, e), pan: e.shiftKey, zoom: [c.frame.x0, c.frame.x1] };
      e.preventDefault();
    });
    window.addEventListener("mouseup", function (e) {
      if (!drag) return;
      var end = xAt(c, e), d = drag; drag = null; c.sel.style.display = "none";
      if (!d.pan && Math.abs(end.px - d.start.px) > 4) {
        c.zoom = [Math.min(d.start.x, end.x), Math.max(d.start.x, end.x)]; draw(c);
      }
    });
    c.svg.addEventListener("mousemove", function (e) {
      if (drag && drag.pan) {
        var dx = xAt(c, e).x - drag.start.x;
        c.zoom = [drag.zoom[0] - dx, drag.zoom[1] - dx]; draw(c);
        drag.start = xAt(c, e); drag.zoom = c.zoom; return;
      }
      if (drag) {
        var a = drag.start.px, b = xAt(c, e).px;
        c.sel.setAttribute("x", Math.min(a, b)); c.sel.setAttribute("width", Math.abs(b - a));
        c.sel.style.display = "";
      }
      hover(c, e);
    });
    c.svg.addEventListener("mouseleave", function () { leave(c); });
    c.svg.addEventListener("wheel", function (e) {
      if (!c.frame) return;
      e.preventDefault();
      var at = xAt(c, e).x, k = e.deltaY > 0 ? 1.25 : 0.8, f = c.frame;
      c.zoom = [at - (at - f.x0) * k, at + (f.x1 - at) * k]; draw(c);
    }, { passive: false });
    c.svg.addEventListener("dblclick", function () { c.zoom = null; draw(c); });
  }

  function toolbar() {
    var bar = el("div", { class: "kf-toolbar", style: "display:flex;flex-wrap:wrap;gap:12px;align-items:center;margin:4px 0;font-size:12px;color:" + FG });
    var xl = el("label", {}, bar); xl.appendChild(document.createTextNode("x-axis "));
    var xsel = el("select", { class: "kf-x", style: "color:" + FG + ";background:" + BG }, xl);
    [["step", "step"], ["time", "wall time"], ["relative", "relative time"]].forEach(function (o) {
      el("option", { value: o[0] }, xsel).textContent = o[1];
    });
    xsel.onchange = function () { state.x = xsel.value; charts.forEach(function (c) { c.zoom = null; draw(c); }); };
    var ll = el("label", {}, bar), log = el("input", { type: "checkbox", class: "kf-log" }, ll);
    ll.appendChild(document.createTextNode(" log scale"));
    log.onchange = function () { state.log = log.checked; charts.forEach(draw); };
    var sl = el("label", {}, bar); sl.appendChild(document.createTextNode("smoothing "));
    var sm = el("input", { type: "range", min: 0, max: 0.99, step: 0.01, value: 0, class: "kf-smooth", style: "width:90px;vertical-align:middle" }, sl);
    var sv = el("span", { style: "display:inline-block;width:28px" }, sl); sv.textContent = "0";
    sm.oninput = function () { state.smooth = +sm.value; sv.textContent = sm.value; charts.forEach(draw); };
    var reset = el("button", { class: "kf-reset", style: "color:" + FG + ";background:" + BG + ";border:1px solid " + GRID + ";border-radius:3px" }, bar);
    reset.textContent = "Reset zoom";
    reset.onclick = function () { charts.forEach(function (c) { c.zoom = null; draw(c); }); };
    el("span", { style: "color:" + FG2 }, bar).textContent = "drag: zoom · shift+drag: pan · wheel: zoom · double-click: reset";
    return bar;
  }

  var staticNode = root.querySelector(".kf-static");
  var host = el("div", { class: "kf-interactive" });
  host.appendChild(toolbar());
  var grid = el("div", { style: "display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:8px;width:100%" }, host);
  function add(chart) {
    var box = el("div", { class: "kf-chart-box", style: "position:relative;min-width:0" }, grid);
    var svg = el("svg", { class: "kf-chart", height: 240, "font-family": "var(--jp-ui-font-family, sans-serif)", style: "display:block;max-width:100%" }, box, 1);
    var tip = el("div", { class: "kf-tip", style: "position:absolute;display:none;pointer-events:none;z-index:10;font-size:11px;padding:4px 6px;" +
                          "border-radius:3px;white-space:nowrap;color:" + FG + ";background:" + BG + ";border:1px solid " + GRID }, box);
    var c = { chart: chart, box: box, svg: svg, tip: tip, zoom: null };
    charts.push(c);
    attach(c);
    return c;
  }
  spec.charts.forEach(add);
  if (staticNode) staticNode.style.display = "none";
  root.appendChild(host);
  charts.forEach(draw);
  if (window.ResizeObserver) {
    var last = 0;
    new ResizeObserver(function () {
      var w = grid.clientWidth; if (Math.abs(w - last) < 2) return; last = w; charts.forEach(draw);
    }).observe(grid);
  }
  return {
    update: function (next) {
      next.charts.forEach(function (chart) {
        var c = charts.find(function (x) { return x.chart.key === chart.key; });
        if (c) { c.chart = chart; draw(c); } else draw(add(chart));
      });
    }
  };
}
