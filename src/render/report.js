// maillage report: the planner's workspace. Decodes the embedded payload, draws
// it with OpenLayers (vendored in the page: no request to any host), and lets
// the planner search, select, paint communes onto CPTS, see the figures change,
// accept a proposal's suggestions, export the result and print.
//
// Coordinates are the page's pixels (y down) of the layout maillage computed:
// metropolitan France in Lambert-93, each overseas département in its own UTM
// zone, as an inset beside it. The map shows them y up.
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var mapDiv = $('map'), tooltip = $('tooltip'), details = $('details');
  var readyResolve, readyReject, fullResolve;
  var api = {
    ready: new Promise(function (res, rej) { readyResolve = res; readyReject = rej; }),
    // resolves (true) once the full-resolution outlines are read
    full: new Promise(function (res) { fullResolve = res; })
  };
  window.maillage = api;

  function fail(e) {
    var p = document.createElement('p');
    p.className = 'error';
    p.textContent = 'La carte interactive ne peut pas être affichée dans ce navigateur : ' + e;
    mapDiv.parentNode.insertBefore(p, mapDiv);
    document.body.dataset.ready = 'error';
    console.error(e);
    readyReject(e);
  }

  // ---- the payload ---------------------------------------------------------

  // a payload's bytes: base64 read by the browser itself (a data: address),
  // then gunzipped
  function inflate(id) {
    var text = $(id).textContent.replace(/\s+/g, '');
    function slow() {
      var raw = atob(text), bytes = new Uint8Array(raw.length);
      for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
      return new Blob([bytes]).stream();
    }
    return fetch('data:application/octet-stream;base64,' + text)
      .then(function (r) { return r.body; }, slow)
      .then(function (body) { return new Response(body.pipeThrough(new DecompressionStream('gzip'))).arrayBuffer(); });
  }

  function reader(buf, pos) {
    var r = {
      uv: function () {
        var v = 0, s = 1, b;
        do { b = buf[pos++]; v += (b & 127) * s; s *= 128; } while (b & 128);
        return v;
      },
      zz: function () { var u = r.uv(); return u % 2 ? -(u + 1) / 2 : u / 2; },
      refs: function () {
        var n = r.uv(), out = new Int32Array(n);
        for (var i = 0; i < n; i++) out[i] = r.zz();
        return out;
      },
      points: function () {
        var n = r.uv(), a = new Int32Array(2 * n), x = 0, y = 0;
        for (var i = 0; i < n; i++) { x += r.zz(); y += r.zz(); a[2 * i] = x; a[2 * i + 1] = y; }
        return a;
      },
      // arcs, each starting from the previous one's end
      arcs: function () {
        var arcs = new Array(r.uv()), lx = 0, ly = 0;
        for (var k = 0; k < arcs.length; k++) {
          var n = r.uv(), a = new Int32Array(2 * n);
          for (var i = 0; i < n; i++) { lx += r.zz(); ly += r.zz(); a[2 * i] = lx; a[2 * i + 1] = ly; }
          arcs[k] = a;
        }
        return arcs;
      }
    };
    return r;
  }

  // Douglas-Peucker on one arc (flat Int32Array), its ends kept; a closed arc
  // keeps its farthest point too, so that it stays a ring
  function simplifyArc(arc, tol) {
    var n = arc.length / 2;
    if (n <= 3) return arc;
    var keep = new Uint8Array(n), t2 = tol * tol, stack = [];
    keep[0] = keep[n - 1] = 1;
    if (arc[0] === arc[2 * n - 2] && arc[1] === arc[2 * n - 1]) {
      var far = 1, fd = -1;
      for (var i = 1; i < n - 1; i++) {
        var ex = arc[2 * i] - arc[0], ey = arc[2 * i + 1] - arc[1], d0 = ex * ex + ey * ey;
        if (d0 > fd) { fd = d0; far = i; }
      }
      keep[far] = 1;
      stack.push(0, far, far, n - 1);
    } else stack.push(0, n - 1);
    while (stack.length) {
      var b = stack.pop(), a = stack.pop();
      var ax = arc[2 * a], ay = arc[2 * a + 1], dx = arc[2 * b] - ax, dy = arc[2 * b + 1] - ay, L = dx * dx + dy * dy;
      var best = -1, bi = -1;
      for (var j = a + 1; j < b; j++) {
        var px = arc[2 * j] - ax, py = arc[2 * j + 1] - ay, d;
        if (L === 0) d = px * px + py * py;
        else { var c = px * dy - py * dx; d = c * c / L; }
        if (d > best) { best = d; bi = j; }
      }
      if (best > t2) { keep[bi] = 1; stack.push(a, bi, bi, b); }
    }
    var m = 0;
    for (var k = 0; k < n; k++) m += keep[k];
    if (m === n) return arc;
    var out = new Int32Array(2 * m), o = 0;
    for (k = 0; k < n; k++) if (keep[k]) { out[o++] = arc[2 * k]; out[o++] = arc[2 * k + 1]; }
    return out;
  }

  function decodeFull(ab) {
    var buf = new Uint8Array(ab);
    if (String.fromCharCode(buf[0], buf[1], buf[2], buf[3]) !== 'MLG2') throw new Error('données illisibles');
    return reader(buf, 4).arcs();
  }

  function decode(ab) {
    var buf = new Uint8Array(ab);
    if (String.fromCharCode(buf[0], buf[1], buf[2], buf[3]) !== 'MLG1') throw new Error('données illisibles');
    var len = (buf[4] | (buf[5] << 8) | (buf[6] << 16)) + buf[7] * 16777216;
    var data = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + len)));
    var rd = reader(buf, 8 + len), k;
    data.arcs = rd.arcs();
    // rings as arc references, each from the one before: zigzag(step) * 2 +
    // reversed
    var faces = new Array(rd.uv()), prev = 0;
    for (k = 0; k < faces.length; k++) {
      var rings = new Array(rd.uv());
      for (var r = 0; r < rings.length; r++) {
        var cnt = rd.uv(), ring = new Int32Array(cnt);
        for (var q = 0; q < cnt; q++) {
          var u = rd.uv(), rev = u % 2, z = (u - rev) / 2;
          prev += z % 2 ? -(z + 1) / 2 : z / 2;
          ring[q] = rev ? ~prev : prev;
        }
        rings[r] = ring;
      }
      faces[k] = rings;
    }
    // drawn territories only: their shapes, as loops of arcs or rings of points
    var shapes = new Array(rd.uv());
    for (k = 0; k < shapes.length; k++) {
      var kind = rd.uv(), count = rd.uv(), parts = new Array(count);
      for (var j = 0; j < count; j++) parts[j] = kind === 0 ? rd.refs() : rd.points();
      shapes[k] = { loops: kind === 0, parts: parts };
    }
    data.faceRings = faces;
    data.shapes = shapes;
    data.full = null; // the full-resolution arcs, once read
    return data;
  }

  // ---- small helpers ---------------------------------------------------------

  function fr(n) { return Number(n).toLocaleString('fr-FR'); }
  function plural(n, one, many) { return fr(n) + ' ' + (Math.abs(n) >= 2 ? many : one); }
  function norm(s) {
    return String(s).normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
      .replace(/[-'’_]/g, ' ').replace(/\s+/g, ' ').trim();
  }
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }
  function sizeClass(p) { return p < 40000 ? 1 : p < 80000 ? 2 : p <= 175000 ? 3 : 4; }
  function csvField(s) {
    s = String(s);
    return /[",\n\r;]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }
  function download(name, text) {
    var url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
    var a = document.createElement('a');
    a.href = url; a.download = name;
    document.body.appendChild(a); a.click(); a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
  }

  // ---- the workspace -----------------------------------------------------------

  function start(D) {
    var F = D.faces, nF = F.code.length, nA = D.arcs.length;
    var C = D.colours;
    // the CPTS: the declared ones, then the ones started in the page
    var cpts = D.cpts.map(function (c) { return Object.assign({ initial: true }, c); });
    var cptsById = {};
    cpts.forEach(function (c, k) { cptsById[c.id] = k; });
    var initialClaims = F.claims.map(function (c) { return c.slice(); });
    var claims = initialClaims.map(function (c) { return c.slice(); });
    var weight = new Int32Array(nF); // communes a face stands for
    for (var f = 0; f < nF; f++) weight[f] = F.members[f] ? F.members[f].length : 1;
    var codeToFace = {};
    F.code.forEach(function (c, f) { codeToFace[c] = f; });
    Object.keys(F.members).forEach(function (f) {
      F.members[f].forEach(function (c) { codeToFace[c] = Number(f); });
    });
    var regionOf = F.dep.map(function (dep) { var d = D.departements[dep]; return d ? d[1] : ''; });
    function region(f) { return regionOf[f]; }

    // which faces each arc separates (-1: the edge of the layer)
    var arcL = new Int32Array(nA).fill(-1), arcR = new Int32Array(nA).fill(-1);
    var faceArcs = new Array(nF);
    for (f = 0; f < nF; f++) {
      var list = [];
      D.faceRings[f].forEach(function (ring) {
        for (var i = 0; i < ring.length; i++) {
          var a = ring[i] < 0 ? ~ring[i] : ring[i];
          list.push(a);
          if (arcL[a] < 0) arcL[a] = f; else if (arcL[a] !== f) arcR[a] = f;
        }
      });
      faceArcs[f] = list;
    }
    var neighbours = new Array(nF);
    for (f = 0; f < nF; f++) neighbours[f] = [];
    // neighbours as the analysis judges contiguity: faces sharing an arc, with
    // the pairs where its adjacency says otherwise
    var not = {};
    D.adjacent_not.forEach(function (p) { not[p[0] + ':' + p[1]] = 1; });
    for (var a = 0; a < nA; a++) {
      var l0 = arcL[a], r0 = arcR[a];
      if (r0 < 0 || l0 < 0 || l0 === r0 || not[Math.min(l0, r0) + ':' + Math.max(l0, r0)]) continue;
      if (neighbours[l0].indexOf(r0) < 0) { neighbours[l0].push(r0); neighbours[r0].push(l0); }
    }
    D.adjacent_extra.forEach(function (p) { neighbours[p[0]].push(p[1]); neighbours[p[1]].push(p[0]); });

    // ---- geometry: rings of arcs, at the map's simplification or in full ----
    function loopFlat(arcs, scale, loop) {
      var out = [];
      for (var i = 0; i < loop.length; i++) {
        var ref = loop[i], arc = arcs[ref < 0 ? ~ref : ref], n = arc.length / 2, j;
        if (ref >= 0) { for (j = i ? 1 : 0; j < n; j++) out.push(arc[2 * j] / scale, -arc[2 * j + 1] / scale); }
        else { for (j = n - 1 - (i ? 1 : 0); j >= 0; j--) out.push(arc[2 * j] / scale, -arc[2 * j + 1] / scale); }
      }
      var m = out.length;
      if (m >= 2 && (out[0] !== out[m - 2] || out[1] !== out[m - 1])) out.push(out[0], out[1]);
      return out;
    }
    function ringArea(p) {
      var s = 0;
      for (var i = 0; i + 3 < p.length; i += 2) s += p[i] * p[i + 3] - p[i + 2] * p[i + 1];
      return s / 2;
    }
    function inRing(p, x, y) {
      var odd = false;
      for (var i = 0, j = p.length - 2; i < p.length; j = i, i += 2) {
        if ((p[i + 1] > y) !== (p[j + 1] > y) && x < (p[j] - p[i]) * (y - p[i + 1]) / (p[j + 1] - p[i + 1]) + p[i]) odd = !odd;
      }
      return odd;
    }
    // a face's rings grouped into polygons (outer ring, then its holes), found
    // once on the simplified rings
    var polysOf = new Array(nF), faceArea = new Float64Array(nF);
    function faceGeometry(f, arcs, scale) {
      var rings = D.faceRings[f].map(function (r) { return loopFlat(arcs, scale, r); });
      var groups = polysOf[f];
      if (!groups) {
        if (rings.length === 1) groups = [[0]];
        else {
          var order = rings.map(function (r, i) { return i; });
          var area = rings.map(function (r) { return Math.abs(ringArea(r)); });
          order.sort(function (x, y) { return area[y] - area[x]; });
          groups = [];
          order.forEach(function (i) {
            var r = rings[i], x = (r[0] + r[2]) / 2, y = (r[1] + r[3]) / 2, host = null;
            for (var g = groups.length - 1; g >= 0 && !host; g--) {
              if (inRing(rings[groups[g][0]], x, y)) {
                // inside a hole of it: a new outer ring
                var inHole = groups[g].slice(1).some(function (h) { return inRing(rings[h], x, y); });
                if (!inHole) host = groups[g];
              }
            }
            if (host) host.push(i); else groups.push([i]);
          });
        }
        polysOf[f] = groups;
      }
      var flat = [], endss = [];
      groups.forEach(function (g) {
        var ends = [];
        g.forEach(function (i) { Array.prototype.push.apply(flat, rings[i]); ends.push(flat.length); });
        endss.push(ends);
      });
      return endss.length === 1 ? new ol.Polygon(flat, 'XY', endss[0]) : new ol.MultiPolygon(flat, 'XY', endss);
    }
    // each commune as a feature: made in slices once the map is shown (hover,
    // the commune layer and selections need them), or at once when needed
    var loGeom = new Array(nF), hiGeom = new Array(nF), faceFeatures = new Array(nF), facesBuilt = 0;
    function buildFaces(upto) {
      var start = facesBuilt, end = Math.min(nF, upto);
      if (end <= start) return;
      var feats = [];
      for (var f = start; f < end; f++) {
        lo(f);
        faceFeatures[f] = new ol.Feature({ geometry: loGeom[f], face: f });
        feats.push(faceFeatures[f]);
      }
      facesBuilt = end;
      facesSource.addFeatures(feats);
    }
    function ensureFaces() { buildFaces(nF); }
    // one face's simplified geometry, without its feature
    function lo(f) {
      if (!loGeom[f]) { loGeom[f] = faceGeometry(f, D.arcs, 10); faceArea[f] = Math.abs(loGeom[f].getArea()); }
      return loGeom[f];
    }
    // zoomed in, the outlines at full resolution, or between the two the full
    // ones simplified for a quarter of the map's tolerance (each arc once, so
    // neighbours still share their border)
    var midGeom = new Array(nF);
    function detailLevel() { return !D.full ? null : res < MID_RES || !D.mid ? 'hi' : 'mid'; }
    function hi(f) {
      ensureFaces();
      var level = detailLevel();
      if (!level) return loGeom[f];
      if (level === 'mid') return midGeom[f] || (midGeom[f] = faceGeometry(f, D.mid, 1000));
      return hiGeom[f] || (hiGeom[f] = faceGeometry(f, D.full, 1000));
    }
    // resolutions (page pixels per screen pixel) where things change
    var HI_RES = Math.max(D.tolerance, 0.05), MID_RES = HI_RES / 4;
    var typical = D.typical;
    var BORDER_RES = typical / 6, NAME_RES = typical / 45;
    var res = 1;

    // ---- what a face shows --------------------------------------------------
    var hatch = (function () {
      var c = document.createElement('canvas'); c.width = c.height = 8;
      var g = c.getContext('2d');
      g.fillStyle = C.overlap_background; g.fillRect(0, 0, 8, 8);
      g.strokeStyle = C.overlap; g.lineWidth = 2.2;
      g.beginPath(); g.moveTo(-2, 10); g.lineTo(10, -2); g.moveTo(-2, 2); g.lineTo(2, -2); g.moveTo(6, 10); g.lineTo(10, 6); g.stroke();
      return g.createPattern(c, 'repeat');
    })();
    var CHORO = ['#ffffcc', '#a1dab4', '#41b6c4', '#2c7fb8', '#253494'];
    var mode = D.view_mode;
    var choro = null; // {values, breaks}
    function choropleth(values) {
      var v = values.filter(function (x) { return x !== null && isFinite(x); }).sort(function (x, y) { return x - y; });
      var breaks = [];
      for (var i = 1; i < CHORO.length; i++) breaks.push(v.length ? v[Math.min(v.length - 1, Math.floor(i * v.length / CHORO.length))] : 0);
      return { values: values, breaks: breaks, min: v[0], max: v[v.length - 1] };
    }
    function setMode(m) {
      mode = m;
      if (m === 'population') choro = choropleth(F.population.map(Number));
      else if (m.indexOf('column-') === 0) choro = choropleth(D.columns[Number(m.slice(7))].values);
      else choro = null;
      $('view').value = m;
      groupLayer.setVisible(!choro);
      facesImage.setVisible(!!choro);
      legend();
      communesLayerChanged();
    }
    function fillOf(f) {
      var c = claims[f];
      if (choro) {
        var x = choro.values[f];
        if (x === null || x === undefined || !isFinite(x)) return C.base;
        var k = 0;
        while (k < choro.breaks.length && x >= choro.breaks[k]) k++;
        return CHORO[k];
      }
      if (c.length === 0) return C.white;
      if (c.length > 1) return 'hatch';
      if (mode === 'verdict') return '#d9d9d9';
      return mode === 'status' ? cpts[c[0]].status_fill : cpts[c[0]].fill;
    }
    function fillOfKey(key) {
      if (key === '') return C.white;
      if (key.indexOf(',') >= 0) return 'hatch';
      if (mode === 'verdict') return '#d9d9d9';
      var k = Number(key);
      return mode === 'status' ? cpts[k].status_fill : cpts[k].fill;
    }
    var styleCache = {};
    function faceStyle(feature) {
      var f = feature.get('face'), fill = fillOf(f), useHi = res < HI_RES, border = res < BORDER_RES && layerOn.communes;
      var key = fill + (useHi ? 'h' : 'l') + (border ? 'b' : '');
      var s = styleCache[key];
      if (!s) {
        s = new ol.Style({
          fill: new ol.Fill({ color: fill === 'hatch' ? hatch : fill }),
          stroke: border ? new ol.Stroke({ color: 'rgba(255,255,255,0.9)', width: 0.6 }) : undefined,
          geometry: useHi ? function (ft) { return hi(ft.get('face')); } : undefined
        });
        styleCache[key] = s;
      }
      if (res < NAME_RES && layerOn.labels) {
        var t = feature.get('label');
        if (!t) {
          t = new ol.Style({
            geometry: new ol.Point(insidePoint(f)),
            text: new ol.Text({ text: F.name[f], font: '12px system-ui, "DejaVu Sans", sans-serif', fill: new ol.Fill({ color: '#1f2328' }), stroke: new ol.Stroke({ color: 'rgba(255,255,255,0.9)', width: 3 }), overflow: false }),
            zIndex: 1
          });
          feature.set('label', t, true);
        }
        return [s, t];
      }
      return s;
    }
    // a point inside face f (its simplified outline; the largest part of several)
    function insidePoint(f) {
      var g = lo(f);
      return (g.getType() === 'Polygon' ? g : largestPart(g)).getInteriorPoint().getCoordinates().slice(0, 2);
    }
    function largestPart(g) {
      var best = null, area = -1;
      g.getPolygons().forEach(function (p) { var x = p.getArea(); if (x > area) { area = x; best = p; } });
      return best;
    }

    // ---- the map --------------------------------------------------------------
    var v = D.view, extent = [v[0] / 10, -v[3] / 10, v[2] / 10, -v[1] / 10];
    var proj = new ol.Projection({ code: 'maillage-page', units: 'pixels', extent: extent });
    var facesSource = new ol.VectorSource();
    // zoomed out, the territories (faces grouped by the CPTS claiming them) are
    // drawn as a few thousand shapes; zoomed in, the communes in view, each
    // with its border and name. A choropleth of communes, zoomed out, is drawn
    // as one picture redrawn when the view rests.
    var SWITCH_RES = Math.max(HI_RES * 0.25, typical / 20);
    var facesImage = new ol.VectorImageLayer({ source: facesSource, style: faceStyle, minResolution: SWITCH_RES, imageRatio: 1.5, visible: false });
    var facesVector = new ol.VectorLayer({ source: facesSource, style: faceStyle, maxResolution: SWITCH_RES, declutter: 'communes', updateWhileInteracting: false });
    function communesLayerChanged() { facesSource.changed(); groupSource.changed(); }

    // groups: the faces of one claim (one CPTS, none, or several), drawn as the
    // boundary of the group (arcs with another claim across), filled even-odd
    var keyOf = new Array(nF), groups = {}, groupSource = new ol.VectorSource();
    function claimKeyNow(f) { return claims[f].join(','); }
    for (f = 0; f < nF; f++) keyOf[f] = claimKeyNow(f);
    function groupLoops(key, faces) {
      var edges = [];
      faces.forEach(function (f) {
        D.faceRings[f].forEach(function (ring) {
          for (var i = 0; i < ring.length; i++) {
            var a = ring[i] < 0 ? ~ring[i] : ring[i], other = arcL[a] === f ? arcR[a] : arcL[a];
            if (other < 0 || keyOf[other] !== key) edges.push(ring[i]);
          }
        });
      });
      // where an oriented arc starts and ends, as one number per point
      var m = edges.length, starts = new Float64Array(m), stops = new Float64Array(m);
      for (var e = 0; e < m; e++) {
        var ref = edges[e], arc = D.arcs[ref < 0 ? ~ref : ref], n = arc.length;
        var a0 = arc[0] * 4194304 + arc[1], a1 = arc[n - 2] * 4194304 + arc[n - 1];
        starts[e] = ref >= 0 ? a0 : a1; stops[e] = ref >= 0 ? a1 : a0;
      }
      var from = new Map(), used = new Uint8Array(m);
      for (e = 0; e < m; e++) { var l = from.get(starts[e]); if (l) l.push(e); else from.set(starts[e], [e]); }
      var loops = [];
      for (var i = 0; i < edges.length; i++) {
        if (used[i]) continue;
        var loop = [], j = i, startKey = starts[i];
        while (j >= 0 && !used[j]) {
          used[j] = 1;
          loop.push(edges[j]);
          var endKey = stops[j];
          if (endKey === startKey) break;
          var next = -1, cands = from.get(endKey) || [];
          for (var c = 0; c < cands.length; c++) if (!used[cands[c]]) { next = cands[c]; break; }
          j = next;
        }
        loops.push(loop);
      }
      return loops;
    }
    function loopsGeometry(loops, arcs, scale) {
      var flat = [], ends = [];
      loops.forEach(function (l) { Array.prototype.push.apply(flat, loopFlat(arcs, scale, l)); ends.push(flat.length); });
      return new ol.Polygon(flat, 'XY', ends);
    }
    function groupRenderer(coords, state) {
      var ctx = state.context, key = state.feature.get('key'), fill = fillOfKey(key);
      ctx.beginPath();
      for (var r = 0; r < coords.length; r++) {
        var ring = coords[r];
        if (ring.length < 3) continue;
        ctx.moveTo(ring[0][0], ring[0][1]);
        for (var i = 1; i < ring.length; i++) ctx.lineTo(ring[i][0], ring[i][1]);
        ctx.closePath();
      }
      ctx.fillStyle = fill === 'hatch' ? hatch : fill;
      ctx.fill('evenodd');
      ctx.lineWidth = 1.1 * state.pixelRatio;
      ctx.strokeStyle = key === '' ? 'rgba(120,0,0,0.8)' : '#3d3d3d';
      ctx.stroke();
    }
    var groupStyle = new ol.Style({
      renderer: groupRenderer,
      geometry: function (ft) {
        var level = res < HI_RES && detailLevel();
        if (!level) return ft.getGeometry();
        var h = ft.get(level);
        if (!h) { h = loopsGeometry(ft.get('loops'), level === 'mid' ? D.mid : D.full, 1000); ft.set(level, h, true); }
        return h;
      }
    });
    // a group is drawn as its connected pieces, so that a view draws only the
    // pieces it shows
    function groupFeatures(key, faces) {
      var inKey = {}, seen = {}, out = [];
      faces.forEach(function (f) { inKey[f] = 1; });
      faces.forEach(function (f) {
        if (seen[f]) return;
        var comp = [f], stack = [f];
        seen[f] = 1;
        while (stack.length) {
          var g = stack.pop(), nb = neighbours[g];
          for (var i = 0; i < nb.length; i++) if (inKey[nb[i]] && !seen[nb[i]]) { seen[nb[i]] = 1; stack.push(nb[i]); comp.push(nb[i]); }
        }
        var loops = groupLoops(key, comp);
        out.push(new ol.Feature({ geometry: loopsGeometry(loops, D.arcs, 10), key: key, loops: loops }));
      });
      return out;
    }
    function buildGroup(key) {
      var g = groups[key];
      g.features.forEach(function (ft) { groupSource.removeFeature(ft); });
      g.features = [];
      if (!g.faces.length) { delete groups[key]; return; }
      g.features = groupFeatures(key, g.faces);
      groupSource.addFeatures(g.features);
    }
    function buildAllGroups() {
      groupSource.clear(true);
      groups = {};
      for (var f = 0; f < nF; f++) (groups[keyOf[f]] || (groups[keyOf[f]] = { faces: [], features: [] })).faces.push(f);
      var feats = [];
      Object.keys(groups).sort().forEach(function (k) {
        groups[k].features = groupFeatures(k, groups[k].faces);
        Array.prototype.push.apply(feats, groups[k].features);
      });
      groupSource.addFeatures(feats);
    }
    // faces whose claim changed: their old and new groups are redrawn
    function regroup(faces) {
      var touched = {};
      faces.forEach(function (f) {
        var k0 = keyOf[f], k1 = claimKeyNow(f);
        if (k0 === k1) return;
        var g0 = groups[k0];
        g0.faces.splice(g0.faces.indexOf(f), 1);
        keyOf[f] = k1;
        (groups[k1] || (groups[k1] = { faces: [], features: [] })).faces.push(f);
        touched[k0] = touched[k1] = 1;
      });
      Object.keys(touched).forEach(buildGroup);
    }
    buildAllGroups();
    var groupLayer = new ol.VectorLayer({ source: groupSource, style: groupStyle, minResolution: SWITCH_RES, updateWhileInteracting: false });


    // lines made of arcs: cut into cells so that a view draws only its own, and
    // an edit redraws only the cells it touches
    var G = 16, cellW = (extent[2] - extent[0]) / G, cellH = (extent[3] - extent[1]) / G;
    var arcCell = new Int32Array(nA);
    for (a = 0; a < nA; a++) {
      var arc = D.arcs[a], mx = (arc[0] + arc[arc.length - 2]) / 20, my = -(arc[1] + arc[arc.length - 1]) / 20;
      var cx = Math.min(G - 1, Math.max(0, Math.floor((mx - extent[0]) / cellW)));
      var cy = Math.min(G - 1, Math.max(0, Math.floor((my - extent[1]) / cellH)));
      arcCell[a] = cy * G + cx;
    }
    // arcs as one multi-line, flat (no array per point)
    function arcsLines(arcs, scale, list) {
      var n = 0, i, j;
      for (i = 0; i < list.length; i++) n += arcs[list[i]].length;
      var flat = new Array(n), ends = new Array(list.length), at = 0;
      for (i = 0; i < list.length; i++) {
        var arc = arcs[list[i]];
        for (j = 0; j < arc.length; j += 2) { flat[at++] = arc[j] / scale; flat[at++] = -arc[j + 1] / scale; }
        ends[i] = at;
      }
      return new ol.MultiLineString(flat, 'XY', ends);
    }
    function LineSet(test, style, maxRes, lazy) {
      style.setGeometry(function (ft) {
        var level = res < HI_RES && detailLevel();
        if (!level) return ft.getGeometry();
        var h = ft.get(level);
        if (!h) { h = arcsLines(level === 'mid' ? D.mid : D.full, 1000, ft.get('arcs')); ft.set(level, h, true); }
        return h;
      });
      this.test = test;
      this.source = new ol.VectorSource();
      this.cells = new Array(G * G);
      this.layer = new ol.VectorLayer({
        source: this.source,
        style: style,
        maxResolution: maxRes,
        updateWhileInteracting: false
      });
      this.built = !lazy;
      if (!lazy) this.rebuildAll();
    }
    LineSet.prototype.fill = function (c, arcs) {
      var old = this.cells[c];
      if (old) this.source.removeFeature(old);
      this.cells[c] = null;
      if (!arcs.length) return;
      var ft = new ol.Feature({ geometry: arcsLines(D.arcs, 10, arcs), arcs: arcs });
      this.cells[c] = ft;
      this.source.addFeature(ft);
    };
    LineSet.prototype.ensure = function () { if (!this.built) { this.built = true; this.rebuildAll(); } };
    LineSet.prototype.rebuildAll = function () {
      var by = new Array(G * G);
      for (var a = 0; a < nA; a++) if (this.test(a)) (by[arcCell[a]] || (by[arcCell[a]] = [])).push(a);
      for (var c = 0; c < G * G; c++) this.fill(c, by[c] || []);
    };
    LineSet.prototype.refresh = function (cellsTouched) {
      var self = this;
      if (!this.built) return;
      Object.keys(cellsTouched).forEach(function (c) { self.rebuild(Number(c)); });
    };
    // arcs of each cell, so that rebuilding a cell reads only its arcs
    var cellArcs = new Array(G * G);
    for (a = 0; a < nA; a++) (cellArcs[arcCell[a]] || (cellArcs[arcCell[a]] = [])).push(a);
    LineSet.prototype.rebuild = function (c) {
      var arcs = [], list = cellArcs[c] || [];
      for (var i = 0; i < list.length; i++) if (this.test(list[i])) arcs.push(list[i]);
      this.fill(c, arcs);
    };
    function claimKey(f) { return f < 0 ? '-' : claims[f].join(','); }
    var territoryLines = new LineSet(function (a) {
      var l = arcL[a], r = arcR[a];
      if (r < 0) return claims[l].length > 0;
      return claimKey(l) !== claimKey(r);
    }, new ol.Style({ stroke: new ol.Stroke({ color: '#3d3d3d', width: 1.1 }) }), SWITCH_RES, true);
    var depLines = new LineSet(function (a) {
      var r = arcR[a];
      return r < 0 || F.dep[arcL[a]] !== F.dep[r];
    }, new ol.Style({ stroke: new ol.Stroke({ color: C.departement, width: 1.4 }) }));
    var regLines = new LineSet(function (a) {
      var r = arcR[a];
      return r >= 0 && region(arcL[a]) !== region(r);
    }, new ol.Style({ stroke: new ol.Stroke({ color: '#000000', width: 3 }) }));

    // drawn territories: their own outlines, gaps and overlap pieces
    var drawnLayer = null;
    if (!D.editable) {
      var src = new ol.VectorSource(), s = 1;
      function shapeGeom(shape) {
        var flat = [], ends = [];
        shape.parts.forEach(function (p) {
          var pts = shape.loops ? loopFlat(D.arcs, 10, p) : loopFlat([p], 10, [0]);
          Array.prototype.push.apply(flat, pts); ends.push(flat.length);
        });
        return ends.length ? new ol.Polygon(flat, 'XY', ends) : null;
      }
      var kinds = [];
      for (var k = 0; k < D.cpts.length; k++) kinds.push(['territory', k]);
      for (k = 0; k < D.white_zones; k++) kinds.push(['white', k]);
      for (k = 0; k < D.overlaps.length; k++) kinds.push(['overlap', k]);
      kinds.forEach(function (kd) {
        var g = shapeGeom(D.shapes[s++]);
        if (g) src.addFeature(new ol.Feature({ geometry: g, kind: kd[0], k: kd[1] }));
      });
      var st = {
        territory: new ol.Style({ stroke: new ol.Stroke({ color: '#252525', width: 1.6 }) }),
        white: new ol.Style({ fill: new ol.Fill({ color: C.white }) }),
        overlap: new ol.Style({ fill: new ol.Fill({ color: hatch }), stroke: new ol.Stroke({ color: C.overlap, width: 0.8 }) })
      };
      drawnLayer = new ol.VectorLayer({ source: src, style: function (ft) { return st[ft.get('kind')]; } });
    }

    // CPTS names, inside their territory
    var labelSource = new ol.VectorSource();
    var labelFeatures = [];
    var labelStyle = function (ft) {
      var k = ft.get('k');
      return new ol.Style({
        text: new ol.Text({ text: cpts[k].name, font: 'bold 12px system-ui, "DejaVu Sans", sans-serif', fill: new ol.Fill({ color: '#111111' }), stroke: new ol.Stroke({ color: 'rgba(255,255,255,0.95)', width: 3.5 }), overflow: false }),
        zIndex: cpts[k].population || 0
      });
    };
    var labelLayer = new ol.VectorLayer({ source: labelSource, style: labelStyle, declutter: 'cpts' });

    // selection, hover, suggestions
    var overlaySource = new ol.VectorSource();
    var overlayStyles = {
      hover: new ol.Style({ stroke: new ol.Stroke({ color: '#000000', width: 2 }) }),
      selected: new ol.Style({ stroke: new ol.Stroke({ color: '#0050b4', width: 3.5 }) }),
      claimant: new ol.Style({ stroke: new ol.Stroke({ color: '#0050b4', width: 2.5, lineDash: [6, 4] }) }),
      suggestion: new ol.Style({ stroke: new ol.Stroke({ color: '#7a0177', width: 2, lineDash: [4, 3] }), fill: new ol.Fill({ color: 'rgba(122,1,119,0.18)' }) }),
      frame: new ol.Style({ stroke: new ol.Stroke({ color: '#969696', width: 1 }) })
    };
    var overlayLayer = new ol.VectorLayer({
      source: overlaySource,
      style: function (ft) {
        var kind = ft.get('kind'), st = overlayStyles[kind];
        if (kind === 'frame') {
          return [st, new ol.Style({ text: new ol.Text({ text: ft.get('name'), textAlign: 'left', textBaseline: 'bottom', offsetY: -4, font: '13px system-ui, "DejaVu Sans", sans-serif', fill: new ol.Fill({ color: '#252525' }) }), geometry: new ol.Point(ft.get('corner')) })];
        }
        return st;
      }
    });
    D.frames.forEach(function (fr0) {
      var b = fr0.box, x0 = b[0] / 10 - 4, x1 = b[2] / 10 + 4, y0 = -b[3] / 10 - 4, y1 = -b[1] / 10 + 4;
      overlaySource.addFeature(new ol.Feature({ geometry: new ol.Polygon([[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]), kind: 'frame', name: fr0.name, corner: [x0, y1] }));
    });

    var layerOn = { communes: true, departements: true, regions: true, labels: true };
    var layers = [groupLayer, facesImage, facesVector, territoryLines.layer];
    if (drawnLayer) layers.push(drawnLayer);
    layers.push(depLines.layer, regLines.layer, overlayLayer, labelLayer);
    var view = new ol.View({ projection: proj, extent: extent, constrainOnlyCenter: true, minResolution: 0.0005, showFullExtent: true });
    var map = new ol.Map({
      target: mapDiv,
      layers: layers,
      view: view,
      controls: ol.defaultControls({ attribution: false, rotate: false, zoomOptions: { zoomInTipLabel: 'Zoomer', zoomOutTipLabel: 'Dézoomer' } }),
      interactions: ol.defaultInteractions({ altShiftDragRotate: false, pinchRotate: false }),
      keyboardEventTarget: mapDiv
    });
    map.getViewport().appendChild(tooltip);
    view.fit(extent, { padding: [10, 10, 10, 10] });
    res = view.getResolution();
    view.on('change:resolution', function () {
      res = view.getResolution();
      // zoomed in: what the commune layer needs, if the warm-up has not made it
      if (res < SWITCH_RES) { ensureFaces(); territoryLines.ensure(); }
    });
    map.on('precompose', function () { res = view.getResolution(); });

    // ---- state: CPTS, figures, edits ------------------------------------------
    var members = []; // faces of each CPTS
    var figuresCache = null, pending = false;
    // after edits made by script: the map and panels once, when the script yields
    function later() {
      if (pending) return;
      pending = true;
      setTimeout(function () { if (pending) changed(); }, 0);
    }
    function rebuildMembers() {
      members = cpts.map(function () { return []; });
      for (var f = 0; f < nF; f++) claims[f].forEach(function (k) { members[k].push(f); });
    }
    rebuildMembers();
    var statsCache = {};
    function cptsStats(k) {
      if (statsCache[k]) return statsCache[k];
      var m = members[k], pop = 0, n = 0, deps = {}, regs = {}, inSet = {};
      m.forEach(function (f) { pop += F.population[f]; n += weight[f]; deps[F.dep[f]] = 1; regs[region(f)] = 1; inSet[f] = 1; });
      // parts: connected pieces through shared borders
      var seen = {}, parts = 0;
      m.forEach(function (f) {
        if (seen[f]) return;
        parts++;
        var stack = [f]; seen[f] = 1;
        while (stack.length) {
          var g = stack.pop(), nb = neighbours[g];
          for (var i = 0; i < nb.length; i++) if (inSet[nb[i]] && !seen[nb[i]]) { seen[nb[i]] = 1; stack.push(nb[i]); }
        }
      });
      var st = { communes: n, population: pop, size_class: sizeClass(pop), parts: parts, departements: Object.keys(deps).sort(), regions: Object.keys(regs).filter(Boolean).sort() };
      statsCache[k] = st;
      return st;
    }
    function figures() {
      if (!figuresCache) figuresCache = computeFigures();
      return JSON.parse(JSON.stringify(figuresCache));
    }
    function computeFigures() {
      var out = { communes_white: 0, communes_overlap: 0, communes_covered: 0, population_white: 0, population_overlap: 0, population_covered: 0, cpts: {}, cpts_emptied: [], cpts_crossing_departement: 0, cpts_crossing_region: 0, cpts_non_contiguous: 0, epci_split: 0 };
      for (var f = 0; f < nF; f++) {
        var c = claims[f].length, p = F.population[f];
        if (c === 0) { out.communes_white += weight[f]; out.population_white += p; }
        else if (c > 1) { out.communes_overlap += weight[f]; out.population_overlap += p; }
        else { out.communes_covered += weight[f]; out.population_covered += p; }
      }
      cpts.forEach(function (c, k) {
        if (!members[k].length) { if (c.initial) out.cpts_emptied.push(c.id); return; }
        var st = cptsStats(k);
        out.cpts[c.id] = Object.assign({ name: c.name, status: c.status }, st);
        if (st.departements.length > 1) out.cpts_crossing_departement++;
        if (st.regions.length > 1) out.cpts_crossing_region++;
        if (st.parts > 1) out.cpts_non_contiguous++;
      });
      // an EPCI is split when its communes are not all claimed alike (a zone
      // blanche or a chevauchement inside it counts), as propose counts
      var byEpci = {}, size = {};
      for (f = 0; f < nF; f++) {
        var e = F.epci[f];
        if (e < 0) continue;
        (byEpci[e] || (byEpci[e] = {}))[claims[f].join(',')] = 1;
        size[e] = (size[e] || 0) + weight[f];
      }
      Object.keys(byEpci).forEach(function (e) { if (size[e] > 1 && Object.keys(byEpci[e]).length > 1) out.epci_split++; });
      out.cpts_count = Object.keys(out.cpts).length;
      return out;
    }
    var initialFigures = figures();

    // CPTS names placed in the member face nearest the territory's middle
    function placeLabel(k) {
      var old = labelFeatures[k];
      if (old) { labelSource.removeFeature(old); labelFeatures[k] = null; }
      var m = members[k];
      if (!m.length || !layerOn.labels) return;
      // in the largest piece the CPTS holds alone, else among its communes
      var own = groups[String(k)], at = null;
      if (own && own.features.length) {
        var best = null, area = -1;
        own.features.forEach(function (ft) { var x = Math.abs(ft.getGeometry().getArea()); if (x > area) { area = x; best = ft; } });
        at = best.getGeometry().getInteriorPoint().getCoordinates().slice(0, 2);
        var lf = new ol.Feature({ geometry: new ol.Point(at), k: k });
        labelFeatures[k] = lf;
        labelSource.addFeature(lf);
        return;
      }
      m.forEach(lo);
      var sx = 0, sy = 0, sw = 0;
      m.forEach(function (f) { var e = loGeom[f].getExtent(), w = faceArea[f] + 1e-9; sx += (e[0] + e[2]) / 2 * w; sy += (e[1] + e[3]) / 2 * w; sw += w; });
      sx /= sw; sy /= sw;
      var best = m[0], bd = Infinity;
      m.forEach(function (f) {
        if (loGeom[f].intersectsCoordinate([sx, sy])) { best = f; bd = -1; return; }
        if (bd < 0) return;
        var e = loGeom[f].getExtent(), dx = (e[0] + e[2]) / 2 - sx, dy = (e[1] + e[3]) / 2 - sy, d = dx * dx + dy * dy - faceArea[f];
        if (d < bd) { bd = d; best = f; }
      });
      at = bd < 0 ? [sx, sy] : insidePoint(best);
      var ft = new ol.Feature({ geometry: new ol.Point(at), k: k });
      labelFeatures[k] = ft;
      labelSource.addFeature(ft);
    }
    function placeAllLabels() { labelSource.clear(); labelFeatures = []; cpts.forEach(function (c, k) { placeLabel(k); }); }
    placeAllLabels();

    // the edits: each one gives some faces to one CPTS only (or to none)
    var done = [], undone = [];
    var storageKey = 'maillage:' + D.key;
    // the one way claims change: members and figures follow at once; the map
    // (groups, borders, names) when flushMap runs
    var dirty = { faces: [], cells: {}, cpts: {} };
    function setClaims(f, ks) {
      var old = claims[f];
      old.forEach(function (k) {
        var m = members[k], i = m.indexOf(f);
        if (i >= 0) m.splice(i, 1);
        delete statsCache[k];
        dirty.cpts[k] = 1;
      });
      claims[f] = ks;
      ks.forEach(function (k) { members[k].push(f); delete statsCache[k]; dirty.cpts[k] = 1; });
      dirty.faces.push(f);
      faceArcs[f].forEach(function (a) { dirty.cells[arcCell[a]] = 1; });
      if (faceFeatures[f]) faceFeatures[f].changed();
      figuresCache = null;
    }
    function flushMap() {
      var d = dirty;
      if (!d.faces.length) return;
      dirty = { faces: [], cells: {}, cpts: {} };
      regroup(d.faces);
      territoryLines.refresh(d.cells);
      Object.keys(d.cpts).forEach(function (k) { placeLabel(Number(k)); });
    }
    function apply(faces, to) {
      faces.forEach(function (f) { setClaims(f, to === null || to < 0 ? [] : [to]); });
      flushMap();
    }
    function newCpts(id, name) {
      var k = cpts.length;
      if (!name) D.suggestions.forEach(function (s) { if (s[1] === id) name = s[2]; });
      cpts.push({ id: id, name: name || id, status: statusLabel('projet'), status_key: 'projet', status_fill: statusFill('projet'), fill: D.cpts.length ? PALETTE_NEW[k % PALETTE_NEW.length] : '#8dd3c7', communes: 0, population: 0, initial: false });
      cptsById[id] = k;
      members.push([]);
      refreshCptsPicker();
      return k;
    }
    var PALETTE_NEW = ['#fb9a99', '#cab2d6', '#fdbf6f', '#b2df8a', '#a6cee3', '#ffff99'];
    function statusLabel(key) { var r = C.status.filter(function (s) { return s[0] === key; })[0]; return r ? r[1] : key; }
    function statusFill(key) { var r = C.status.filter(function (s) { return s[0] === key; })[0]; return r ? r[2] : '#bdbdbd'; }
    function idOf(k) { return k === null || k < 0 ? null : cpts[k].id; }
    // one edit: faces, what they were, what they become; kept for undo and log
    function edit(faces, to, how, deferred) {
      faces = faces.filter(function (f) { return !(claims[f].length === (to === null ? 0 : 1) && (to === null || claims[f][0] === to)); });
      if (!faces.length) return null;
      var op = { faces: faces, before: faces.map(function (f) { return claims[f].map(idOf); }), to: idOf(to), how: how || 'manuel', at: new Date().toISOString() };
      if (deferred) faces.forEach(function (f) { setClaims(f, to === null || to < 0 ? [] : [to]); });
      else apply(faces, to);
      done.push(op);
      undone = [];
      if (deferred) later(); else changed();
      return op;
    }
    function undo() {
      var op = done.pop();
      if (!op) return;
      op.faces.forEach(function (f, i) { applyIds([f], op.before[i]); });
      undone.push(op);
      changed();
    }
    function redo() {
      var op = undone.pop();
      if (!op) return;
      apply(op.faces, op.to === null ? null : cptsById[op.to]);
      done.push(op);
      changed();
    }
    function applyIds(faces, ids) {
      // several claimants (an undone chevauchement): set them back as they were
      var ks = ids.map(function (id) { return cptsById[id]; }).sort(function (x, y) { return x - y; });
      faces.forEach(function (f) { setClaims(f, ks.slice()); });
      flushMap();
    }
    function save() {
      try {
        var news = cpts.filter(function (c) { return !c.initial; }).map(function (c) { return { id: c.id, name: c.name }; });
        var ops = done.map(function (op) { return { codes: op.faces.map(function (f) { return F.code[f]; }), before: op.before, to: op.to, how: op.how, at: op.at }; });
        if (!ops.length && !news.length) localStorage.removeItem(storageKey);
        else localStorage.setItem(storageKey, JSON.stringify({ news: news, ops: ops }));
      } catch (e) { /* storage refused (private window): the session is not kept */ }
    }
    function restore() {
      var raw = null;
      try { raw = localStorage.getItem(storageKey); } catch (e) { return; }
      if (!raw) return;
      try {
        var s = JSON.parse(raw);
        s.news.forEach(function (c) { if (cptsById[c.id] === undefined) newCpts(c.id, c.name); });
        s.ops.forEach(function (o) {
          var faces = o.codes.map(function (c) { return codeToFace[c]; }).filter(function (f) { return f !== undefined; });
          apply(faces, o.to === null ? null : cptsById[o.to]);
          done.push({ faces: faces, before: o.before, to: o.to, how: o.how, at: o.at });
        });
      } catch (e) { console.warn('session illisible, ignorée', e); }
    }
    function resetAll() {
      done = []; undone = [];
      claims = initialClaims.map(function (c) { return c.slice(); });
      cpts = cpts.filter(function (c) { return c.initial; });
      cptsById = {}; cpts.forEach(function (c, k) { cptsById[c.id] = k; });
      statsCache = {};
      figuresCache = null;
      dirty = { faces: [], cells: {}, cpts: {} };
      rebuildMembers();
      for (var f = 0; f < nF; f++) keyOf[f] = claimKeyNow(f);
      buildAllGroups();
      territoryLines.built = false;
      territoryLines.source.clear(true);
      territoryLines.cells = new Array(G * G);
      if (res < SWITCH_RES) territoryLines.ensure();
      faceFeatures.forEach(function (ft) { if (ft) ft.changed(); });
      placeAllLabels();
      refreshCptsPicker();
      suggestionState = {};
      changed();
    }

    // ---- the panels ---------------------------------------------------------------
    var picker = $('edit-cpts');
    function refreshCptsPicker() {
      var cur = picker.value;
      picker.textContent = '';
      var order = cpts.map(function (c, k) { return k; }).sort(function (x, y) { return cpts[x].name.localeCompare(cpts[y].name, 'fr'); });
      order.forEach(function (k) {
        var o = el('option', cpts[k].name + ' (' + cpts[k].id + ')');
        o.value = cpts[k].id;
        picker.appendChild(o);
      });
      if (cur && cptsById[cur] !== undefined) picker.value = cur;
    }
    refreshCptsPicker();
    function describeFace(f) {
      details.textContent = '';
      details.appendChild(el('h3', F.name[f] + ' (' + F.code[f] + ')'));
      var c = claims[f];
      var verdict = c.length === 0 ? 'zone blanche (aucune CPTS)' + (zoneOf[f] && !changedFace(f) ? ', zone n° ' + zoneOf[f] : '') : c.length > 1 ? 'chevauchement (' + c.length + ' CPTS)' : 'couverte par une seule CPTS';
      var line = el('p', fr(F.population[f]) + ' hab. — ' + verdict, 'verdict-' + (c.length === 0 ? 'w' : c.length > 1 ? 'o' : 'c'));
      details.appendChild(line);
      var dep = D.departements[F.dep[f]], epci = F.epci[f] >= 0 ? D.epcis[F.epci[f]] : null;
      details.appendChild(el('p', 'Département : ' + (dep ? dep[0] + ' (' + F.dep[f] + ')' : F.dep[f]) + (epci ? ' ; EPCI : ' + epci[1] : ''), 'muted'));
      if (c.length) {
        var ul = el('ul');
        c.forEach(function (k) {
          var st = cptsStats(k), li = el('li');
          var b = el('button', cpts[k].name + ' (' + cpts[k].id + ')', 'link');
          b.type = 'button';
          b.addEventListener('click', function () { selectCpts(k, true); });
          li.appendChild(b);
          li.appendChild(document.createTextNode(' — ' + cpts[k].status + ' ; ' + plural(st.communes, 'commune', 'communes') + ', ' + fr(st.population) + ' hab., classe ACI ' + st.size_class + (st.parts > 1 ? ', ' + st.parts + ' parties' : '')));
          ul.appendChild(li);
        });
        details.appendChild(ul);
      }
      return details.innerText;
    }
    function changedFace(f) {
      var a0 = initialClaims[f], a1 = claims[f];
      return a0.length !== a1.length || a0.some(function (x, i) { return x !== a1[i]; });
    }
    function describeCpts(k) {
      var c = cpts[k], st = cptsStats(k);
      details.textContent = '';
      details.appendChild(el('h3', c.name + ' (' + c.id + ')'));
      details.appendChild(el('p', c.status + ' — ' + plural(st.communes, 'commune', 'communes') + ', ' + fr(st.population) + ' hab., classe ACI ' + st.size_class));
      details.appendChild(el('p', (st.parts > 1 ? st.parts + ' parties (non contiguë)' : 'D\u2019un seul tenant') + ' ; ' + plural(st.departements.length, 'département', 'départements') + ' : ' + st.departements.join(', ') + (st.regions.length > 1 ? ' ; ' + st.regions.length + ' régions' : ''), st.parts > 1 || st.regions.length > 1 ? 'warn' : 'muted'));
      var names = members[k].slice(0, 40).map(function (f) { return F.name[f]; });
      details.appendChild(el('p', 'Communes : ' + names.join(', ') + (members[k].length > 40 ? ', …' : ''), 'muted'));
    }
    var zoneOf = {};
    document.querySelectorAll('#table-zones tbody tr').forEach(function (row) {
      var n = row.cells[0].textContent;
      (row.dataset.codes || '').split(' ').forEach(function (code) { if (codeToFace[code] !== undefined) zoneOf[codeToFace[code]] = n; });
    });

    function live() {
      var box = $('live'), fig = figures(), i0 = initialFigures;
      box.textContent = '';
      var delta = function (x, y) { var d = x - y; return d ? ' (' + (d > 0 ? '+' : '−') + fr(Math.abs(d)) + ')' : ''; };
      var ul = el('ul', null, 'live');
      [['Zone blanche', fig.communes_white, i0.communes_white, fig.population_white, i0.population_white, 'w'],
        ['Chevauchement', fig.communes_overlap, i0.communes_overlap, fig.population_overlap, i0.population_overlap, 'o']].forEach(function (r) {
        var li = el('li', r[0] + ' : ' + plural(r[1], 'commune', 'communes') + delta(r[1], r[2]) + ', ' + fr(r[3]) + ' hab.' + delta(r[3], r[4]));
        li.dataset.live = r[5];
        if (r[1]) li.className = 'verdict-' + r[5];
        ul.appendChild(li);
      });
      ul.appendChild(el('li', plural(fig.cpts_count, 'CPTS', 'CPTS') + ' ; non contiguës : ' + fig.cpts_non_contiguous + delta(fig.cpts_non_contiguous, i0.cpts_non_contiguous) + ' ; sur plusieurs départements : ' + fig.cpts_crossing_departement + delta(fig.cpts_crossing_departement, i0.cpts_crossing_departement) + ' ; sur plusieurs régions : ' + fig.cpts_crossing_region + delta(fig.cpts_crossing_region, i0.cpts_crossing_region) + ' ; EPCI partagés entre CPTS : ' + fig.epci_split + delta(fig.epci_split, i0.epci_split)));
      box.appendChild(ul);
      if (fig.cpts_emptied.length) {
        box.appendChild(el('p', 'Attention : ' + plural(fig.cpts_emptied.length, 'CPTS existante n\u2019a', 'CPTS existantes n\u2019ont') + ' plus aucune commune : ' + fig.cpts_emptied.join(', '), 'warn'));
      }
      // the CPTS this session changed
      var touched = {};
      done.forEach(function (op) {
        op.faces.forEach(function (f, i) { op.before[i].forEach(function (id) { touched[id] = 1; }); });
        if (op.to) touched[op.to] = 1;
      });
      var ids = Object.keys(touched).sort();
      if (ids.length) {
        var t = el('table', null, 'live-cpts'), head = el('tr');
        ['CPTS', 'Communes', 'Population', 'Classe ACI', 'Parties', 'Départements'].forEach(function (h) { head.appendChild(el('th', h)); });
        t.appendChild(el('thead')).appendChild(head);
        var body = el('tbody');
        ids.forEach(function (id) {
          var k = cptsById[id], st = members[k].length ? cptsStats(k) : { communes: 0, population: 0, size_class: '—', parts: 0, departements: [] };
          var c0 = D.cpts[k], tr = el('tr');
          tr.dataset.cpts = id;
          tr.appendChild(el('td', cpts[k].name));
          tr.appendChild(el('td', fr(st.communes)));
          tr.appendChild(el('td', fr(st.population)));
          tr.appendChild(el('td', c0 && c0.size_class !== st.size_class ? c0.size_class + ' → ' + st.size_class : String(st.size_class), c0 && c0.size_class !== st.size_class ? 'warn' : ''));
          tr.appendChild(el('td', String(st.parts), st.parts > 1 ? 'warn' : ''));
          tr.appendChild(el('td', st.departements.join(', ')));
          body.appendChild(tr);
        });
        t.appendChild(body);
        box.appendChild(t);
      }
      box.appendChild(el('p', plural(done.length, 'modification', 'modifications') + (undone.length ? ' ; ' + undone.length + ' à rétablir' : ''), 'muted'));
      return fig;
    }
    function updateCptsTable() {
      var body = document.querySelector('#table-cpts tbody');
      if (!body) return;
      var rows = {};
      Array.prototype.forEach.call(body.rows, function (r) { rows[r.dataset.cpts] = r; });
      cpts.forEach(function (c, k) {
        var row = rows[String(k)];
        if (!row) {
          row = el('tr');
          row.dataset.cpts = String(k);
          row.tabIndex = 0;
          for (var i = 0; i < 9; i++) row.appendChild(el('td'));
          row.cells[0].textContent = c.id; row.cells[1].textContent = c.name; row.cells[2].textContent = c.status;
          body.appendChild(row);
          rowClick(row);
        }
        var st = members[k].length ? cptsStats(k) : { communes: 0, population: 0, size_class: 0, parts: 0, departements: [] };
        [[3, st.communes], [4, st.population], [5, st.size_class], [6, st.parts]].forEach(function (p) {
          var cell = row.cells[p[0]];
          if (cell.dataset.v !== String(p[1])) { cell.dataset.v = String(p[1]); cell.textContent = fr(p[1]); }
        });
        row.cells[8].textContent = st.departements.join(', ');
        row.classList.toggle('edited', !!(c.initial ? (D.cpts[k].communes !== st.communes || D.cpts[k].population !== st.population) : true));
      });
    }
    function changed() {
      pending = false;
      flushMap();
      live();
      updateCptsTable();
      $('undo').disabled = !done.length;
      $('redo').disabled = !undone.length;
      $('reset').disabled = !done.length && cpts.every(function (c) { return c.initial; });
      renderSuggestions();
      save();
      if (selected.kind === 'cpts') selectCpts(selected.k, false, true);
      else if (selected.kind === 'face') { describeFace(selected.f); }
    }

    // ---- selection ---------------------------------------------------------------
    var selected = { kind: null };
    var overlayFeatures = { hover: null, selected: [], claimants: [] };
    function setOverlay(kind, geoms) {
      (overlayFeatures[kind] || []).forEach(function (ft) { overlaySource.removeFeature(ft); });
      overlayFeatures[kind] = geoms.map(function (g) {
        var ft = new ol.Feature({ geometry: g, kind: kind === 'claimants' ? 'claimant' : kind });
        overlaySource.addFeature(ft);
        return ft;
      });
    }
    function outlineOf(faces) {
      var inSet = {};
      faces.forEach(function (f) { inSet[f] = 1; });
      var list = [], level = res < HI_RES && detailLevel();
      faces.forEach(function (f) {
        faceArcs[f].forEach(function (a) {
          var other = arcL[a] === f ? arcR[a] : arcL[a];
          if (other < 0 || !inSet[other]) list.push(a);
        });
      });
      if (!level) return arcsLines(D.arcs, 10, list);
      return arcsLines(level === 'mid' ? D.mid : D.full, 1000, list);
    }
    function extentOf(faces) {
      ensureFaces();
      var e = ol.emptyExtent();
      faces.forEach(function (f) { ol.extendExtent(e, loGeom[f].getExtent()); });
      return e;
    }
    function zoomTo(faces) {
      if (!faces.length) return;
      view.fit(extentOf(faces), { padding: [40, 40, 40, 40], maxZoom: view.getZoomForResolution(Math.max(0.002, NAME_RES / 3)), duration: 0 });
    }
    function selectFace(f, zoom) {
      selected = { kind: 'face', f: f };
      setOverlay('selected', [outlineOf([f])]);
      setOverlay('claimants', claims[f].length > 1 ? claims[f].map(function (k) { return outlineOf(members[k]); }) : []);
      if (zoom) zoomTo([f]);
      return describeFace(f);
    }
    // `refresh`: the panel and outline redrawn after an edit, the CPTS being
    // painted left as the planner chose it
    function selectCpts(k, zoom, refresh) {
      selected = { kind: 'cpts', k: k };
      if (!refresh) picker.value = cpts[k].id;
      setOverlay('selected', members[k].length ? [outlineOf(members[k])] : []);
      setOverlay('claimants', []);
      if (zoom) zoomTo(members[k]);
      describeCpts(k);
    }
    function selectFaces(faces, title, zoom) {
      selected = { kind: 'group' };
      setOverlay('selected', faces.length ? [outlineOf(faces)] : []);
      setOverlay('claimants', []);
      if (zoom) zoomTo(faces);
      details.textContent = '';
      details.appendChild(el('h3', title));
      var pop = 0, n = 0;
      faces.forEach(function (f) { pop += F.population[f]; n += weight[f]; });
      details.appendChild(el('p', plural(n, 'commune', 'communes') + ', ' + fr(pop) + ' hab.'));
      details.appendChild(el('p', faces.slice(0, 40).map(function (f) { return F.name[f]; }).join(', ') + (faces.length > 40 ? ', …' : ''), 'muted'));
    }
    function facesWhere(test) { var out = []; for (var f = 0; f < nF; f++) if (test(f)) out.push(f); return out; }

    // ---- pointer: hover, click, paint ------------------------------------------
    function faceAt(pixel) {
      var at = map.getCoordinateFromPixel(pixel);
      if (!at) return -1;
      ensureFaces();
      var t = D.tolerance * 2, found = -1, useHi = res < HI_RES && D.full;
      facesSource.forEachFeatureInExtent([at[0] - t, at[1] - t, at[0] + t, at[1] + t], function (ft) {
        var f = ft.get('face');
        if ((useHi ? hi(f) : loGeom[f]).intersectsCoordinate(at)) { found = f; return true; }
      });
      return found;
    }
    var painting = false, stroke = null, hoverFace = -1;
    function setPaint(on) {
      painting = on;
      $('paint').checked = on;
      map.getInteractions().forEach(function (i) {
        if (isDragPan(i) || i instanceof ol.DragZoom) i.setActive(!on);
      });
      mapDiv.classList.toggle('painting', on);
    }
    // Shift + drag while painting: every commune whose inside point falls in the
    // rectangle, in one step
    var rectangle = new ol.DragBox({ condition: function (e) { return painting && ol.shiftKeyOnly(e); }, className: 'ol-dragbox paint-box' });
    map.addInteraction(rectangle);
    rectangle.on('boxend', function () {
      var ext = rectangle.getGeometry().getExtent(), faces = [];
      ensureFaces();
      facesSource.forEachFeatureInExtent(ext, function (ft) {
        var f = ft.get('face'), p = insidePoint(f);
        if (p[0] >= ext[0] && p[0] <= ext[2] && p[1] >= ext[1] && p[1] <= ext[3]) faces.push(f);
      });
      faces.sort(function (x, y) { return x - y; });
      edit(faces, paintTarget(), 'rectangle');
    });
    function isDragPan(i) { return i instanceof ol.DragPan; }
    function brushFaces(f) {
      if (document.querySelector('input[name=brush]:checked').value === 'epci' && F.epci[f] >= 0) {
        var e = F.epci[f];
        return facesWhere(function (g) { return F.epci[g] === e; });
      }
      return [f];
    }
    function paintTarget() {
      if (document.querySelector('input[name=action]:checked').value === 'remove') return null;
      var k = cptsById[picker.value];
      return k === undefined ? null : k;
    }
    function paintAt(pixel) {
      var f = faceAt(pixel);
      if (f < 0 || !stroke || stroke.seen[f]) return;
      var faces = brushFaces(f).filter(function (g) { return !stroke.seen[g]; });
      faces.forEach(function (g) { stroke.seen[g] = 1; });
      var to = stroke.to;
      faces = faces.filter(function (g) { return !(claims[g].length === (to === null ? 0 : 1) && (to === null || claims[g][0] === to)); });
      if (!faces.length) return;
      faces.forEach(function (g) { stroke.faces.push(g); stroke.before.push(claims[g].map(idOf)); });
      apply(faces, to);
      live();
    }
    var vp = map.getViewport();
    vp.addEventListener('pointerdown', function (ev) {
      if (!painting || ev.button !== 0 || ev.shiftKey) return;
      stroke = { faces: [], before: [], to: paintTarget(), seen: {} };
      vp.setPointerCapture(ev.pointerId);
      paintAt(map.getEventPixel(ev));
    });
    vp.addEventListener('pointermove', function (ev) {
      var px = map.getEventPixel(ev);
      if (painting && stroke) { paintAt(px); return; }
      if (ev.buttons) { tooltip.hidden = true; return; }
      var f = faceAt(px);
      if (f !== hoverFace) {
        hoverFace = f;
        setOverlay('hover', f >= 0 ? [outlineOf([f])] : []);
      }
      if (f < 0) { tooltip.hidden = true; return; }
      showTip(f, px);
    });
    function finishStroke() {
      if (!stroke) return;
      var s = stroke;
      stroke = null;
      if (!s.faces.length) return;
      done.push({ faces: s.faces, before: s.before, to: idOf(s.to), how: 'pinceau', at: new Date().toISOString() });
      undone = [];
      changed();
    }
    vp.addEventListener('pointerup', finishStroke);
    vp.addEventListener('pointercancel', finishStroke);
    vp.addEventListener('pointerleave', function () { tooltip.hidden = true; setOverlay('hover', []); hoverFace = -1; });
    map.on('singleclick', function (ev) {
      if (painting) return;
      var f = faceAt(ev.pixel);
      if (f >= 0) selectFace(f, false);
    });
    function showTip(f, px) {
      tooltip.textContent = '';
      var c = claims[f];
      tooltip.appendChild(el('strong', F.name[f] + ' (' + F.code[f] + ')'));
      var verdict = c.length === 0 ? 'zone blanche' + (zoneOf[f] && !changedFace(f) ? ' n° ' + zoneOf[f] : '') : c.length > 1 ? 'chevauchement : ' + c.map(function (k) { return cpts[k].name; }).join(' / ') : cpts[c[0]].name + ' (' + cpts[c[0]].id + '), classe ACI ' + cptsStats(c[0]).size_class;
      tooltip.appendChild(el('div', fr(F.population[f]) + ' hab. — ' + verdict));
      tooltip.hidden = false;
      tooltip.style.left = (px[0] + 14) + 'px';
      tooltip.style.top = (px[1] + 14) + 'px';
    }
    // keyboard: Enter selects (or paints) the commune at the map's centre
    mapDiv.addEventListener('keydown', function (ev) {
      if (ev.key !== 'Enter' && ev.key !== ' ') return;
      var size = map.getSize(), px = [size[0] / 2, size[1] / 2], f = faceAt(px);
      if (f < 0) return;
      ev.preventDefault();
      if (painting) edit(brushFaces(f), paintTarget(), 'clavier');
      else selectFace(f, false);
    });

    // ---- toolbar -----------------------------------------------------------------
    $('paint').addEventListener('change', function () { setPaint($('paint').checked); });
    $('undo').addEventListener('click', undo);
    $('redo').addEventListener('click', redo);
    $('reset').addEventListener('click', function () {
      if (window.confirm('Effacer toutes les modifications de cette session ?')) resetAll();
    });
    var newCount = 0;
    $('new-cpts').addEventListener('click', function () {
      var id;
      do { newCount++; id = 'NOUVELLE-' + newCount; } while (cptsById[id] !== undefined);
      var name = window.prompt('Nom de la nouvelle CPTS', 'Nouvelle CPTS ' + newCount);
      var k = newCpts(id, name || ('Nouvelle CPTS ' + newCount));
      picker.value = cpts[k].id;
      changed();
    });
    document.addEventListener('keydown', function (ev) {
      if (!(ev.ctrlKey || ev.metaKey) || ev.target.tagName === 'INPUT') return;
      if (ev.key === 'z' && !ev.shiftKey) { ev.preventDefault(); undo(); }
      else if (ev.key === 'y' || (ev.key === 'Z' && ev.shiftKey) || (ev.key === 'z' && ev.shiftKey)) { ev.preventDefault(); redo(); }
    });
    function declarationsCsv() {
      var lines = ['cpts_id,cpts_name,commune_code,status'];
      cpts.forEach(function (c, k) {
        var rows = [];
        members[k].forEach(function (f) { (F.members[f] || [F.code[f]]).forEach(function (code) { rows.push(code); }); });
        rows.sort();
        rows.forEach(function (code) { lines.push([c.id, c.name, code, c.status_key].map(csvField).join(',')); });
      });
      return lines.join('\n') + '\n';
    }
    function logCsv() {
      var lines = ['horodatage,commune_code,commune,avant,apres,moyen'];
      done.forEach(function (op) {
        op.faces.forEach(function (f, i) {
          lines.push([op.at, F.code[f], F.name[f], op.before[i].join(' + ') || 'zone blanche', op.to || 'zone blanche', op.how].map(csvField).join(','));
        });
      });
      return lines.join('\n') + '\n';
    }
    $('export-declarations').addEventListener('click', function () { download('declarations-modifiees.csv', declarationsCsv()); });
    $('export-log').addEventListener('click', function () { download('journal-des-modifications.csv', logCsv()); });
    $('view').addEventListener('change', function () { setMode($('view').value); });
    document.querySelectorAll('[data-layer]').forEach(function (box) {
      box.addEventListener('change', function () {
        var on = box.checked, name = box.dataset.layer;
        layerOn[name] = on;
        if (name === 'departements') depLines.layer.setVisible(on);
        else if (name === 'regions') regLines.layer.setVisible(on);
        else if (name === 'labels') { labelLayer.setVisible(on); placeAllLabels(); communesLayerChanged(); }
        else communesLayerChanged();
      });
    });
    // places to go: the whole layer, each inset, Île-de-France, Corse, régions
    var gotoSel = $('goto'), places = { all: null };
    function addPlace(key, label, faces) {
      if (typeof faces !== 'function' && !faces.length) return;
      places[key] = faces;
      var o = el('option', label); o.value = key; gotoSel.appendChild(o);
    }
    var regsPresent = Object.keys(D.regions);
    addPlace('idf', 'Île-de-France (Paris et petite couronne)', facesWhere(function (f) { return F.dep[f] === '75' || F.dep[f] === '92' || F.dep[f] === '93' || F.dep[f] === '94'; }));
    if (regsPresent.length > 1) {
      regsPresent.sort(function (x, y) { return D.regions[x].localeCompare(D.regions[y], 'fr'); }).forEach(function (r) {
        addPlace('reg-' + r, D.regions[r], function () { return facesWhere(function (f) { return region(f) === r; }); });
      });
    }
    gotoSel.addEventListener('change', function () {
      var p = places[gotoSel.value];
      if (typeof p === 'function') p = places[gotoSel.value] = p();
      if (!p) view.fit(extent, { padding: [10, 10, 10, 10] });
      else zoomTo(p);
    });

    // ---- legend ---------------------------------------------------------------
    function legend() {
      var box = $('legend');
      box.textContent = '';
      function key(fill, label, cls) {
        var k = el('span', null, 'key' + (cls ? ' ' + cls : ''));
        if (fill) k.style.background = fill;
        box.appendChild(k);
        box.appendChild(document.createTextNode(' ' + label + ' '));
      }
      if (choro) {
        var labels = [];
        for (var i = 0; i < CHORO.length; i++) {
          var lo = i ? choro.breaks[i - 1] : choro.min, hiV = i < choro.breaks.length ? choro.breaks[i] : choro.max;
          labels.push([CHORO[i], (i ? 'de ' : 'moins de ') + (i ? fr(+Number(lo).toPrecision(3)) + ' à moins de ' : '') + fr(+Number(hiV).toPrecision(3))]);
        }
        labels[labels.length - 1][1] = fr(+Number(choro.breaks[choro.breaks.length - 1]).toPrecision(3)) + ' et plus';
        labels.forEach(function (l) { key(l[0], l[1]); });
        key(C.base, 'sans valeur');
        return;
      }
      if (mode === 'status') C.status.forEach(function (s) { key(s[2], s[1]); });
      else if (mode === 'territory') key(null, 'Territoire de CPTS (voisins de couleurs différentes)', 'territory');
      else key('#d9d9d9', 'Couverte par une seule CPTS');
      key(C.white, 'Zone blanche');
      key(null, 'Chevauchement', 'overlap');
      key(null, 'Limite de département', 'dep');
      key(null, 'Limite de région', 'reg');
    }

    // ---- search ----------------------------------------------------------------------
    var index = null;
    function buildIndex() {
    index = [];
    for (var f = 0; f < nF; f++) index.push({ kind: 'commune', f: f, label: F.name[f] + ' (' + F.code[f] + ')', n: norm(F.name[f]), code: F.code[f].toLowerCase(), weight: F.population[f] });
    document.querySelectorAll('#table-zones tbody tr').forEach(function (row) {
      var num = row.cells[0].textContent;
      index.push({ kind: 'zone', codes: (row.dataset.codes || '').split(' '), label: 'Zone blanche n° ' + num + ' (' + row.cells[1].textContent + ' communes)', n: norm('zone blanche ' + num), code: 'zone ' + num, num: num, weight: 1e12 });
    });
    Object.keys(D.departements).forEach(function (d) {
      index.push({ kind: 'dep', dep: d, label: 'Département ' + D.departements[d][0] + ' (' + d + ')', n: norm(D.departements[d][0]), code: d.toLowerCase(), weight: 1e11 });
    });
    }
    function searchAll(text) {
      if (!index) buildIndex();
      var q = norm(text);
      if (!q) return [];
      var out = [];
      var zone = /^(?:zone(?: blanche)?\s*(?:n\s*)?)?(\d+)$/.exec(q.replace(/°/g, ''));
      cpts.forEach(function (c, k) {
        var n = norm(c.name), id = norm(c.id);
        var rank = id === q ? 0 : n.indexOf(q) === 0 || n.indexOf(' ' + q) >= 0 ? 1 : n.indexOf(q) >= 0 || id.indexOf(q) >= 0 ? 2 : -1;
        if (rank >= 0) out.push({ kind: 'cpts', k: k, label: c.name + ' (' + c.id + ')', rank: rank, weight: cptsStats(k).population });
      });
      index.forEach(function (e) {
        var rank = -1;
        if (e.code === q) rank = 0;
        else if (e.kind === 'zone') rank = zone && zone[1] === e.num && /zone/.test(q) ? 0 : -1;
        else if (e.n === q) rank = 0;
        else if (e.n.indexOf(q) === 0 || e.n.indexOf(' ' + q) >= 0) rank = 1;
        else if (e.code.indexOf(q) === 0) rank = 1;
        else if (q.length >= 3 && e.n.indexOf(q) >= 0) rank = 2;
        if (rank >= 0) out.push({ kind: e.kind, f: e.f, codes: e.codes, dep: e.dep, label: e.label, rank: rank, weight: e.weight });
      });
      out.sort(function (x, y) { return x.rank - y.rank || y.weight - x.weight || x.label.localeCompare(y.label, 'fr'); });
      return out.slice(0, 12).map(function (r) {
        var o = { kind: r.kind, label: r.label };
        if (r.kind === 'commune') o.code = F.code[r.f];
        if (r.kind === 'cpts') o.id = cpts[r.k].id;
        if (r.kind === 'zone') o.codes = r.codes;
        if (r.kind === 'dep') o.code = r.dep;
        Object.defineProperty(o, 'go', { value: function () { go(r); }, enumerable: false });
        return o;
      });
    }
    function go(r) {
      if (r.kind === 'commune') selectFace(r.f, true);
      else if (r.kind === 'cpts') selectCpts(r.k, true);
      else if (r.kind === 'zone') selectFaces(r.codes.map(function (c) { return codeToFace[c]; }).filter(function (f) { return f !== undefined; }), r.label, true);
      else if (r.kind === 'dep') selectFaces(facesWhere(function (f) { return F.dep[f] === r.dep; }), r.label, true);
    }
    var searchBox = $('search'), results = $('search-results'), current = [], active = -1;
    function showResults() {
      current = searchAll(searchBox.value);
      results.textContent = '';
      active = current.length ? 0 : -1;
      current.forEach(function (r, i) {
        var li = el('li', r.label, 'kind-' + r.kind);
        li.setAttribute('role', 'option');
        li.id = 'search-' + i;
        li.addEventListener('mousedown', function (ev) { ev.preventDefault(); pick(i); });
        results.appendChild(li);
      });
      if (searchBox.value && !current.length) results.appendChild(el('li', 'Aucun résultat', 'none'));
      results.hidden = !searchBox.value;
      searchBox.setAttribute('aria-expanded', String(!results.hidden));
      mark();
    }
    function mark() {
      Array.prototype.forEach.call(results.children, function (li, i) { li.classList.toggle('active', i === active); li.setAttribute('aria-selected', String(i === active)); });
      if (active >= 0) searchBox.setAttribute('aria-activedescendant', 'search-' + active);
    }
    function pick(i) {
      var r = current[i];
      if (!r) return;
      results.hidden = true;
      searchBox.setAttribute('aria-expanded', 'false');
      r.go();
    }
    searchBox.addEventListener('input', showResults);
    searchBox.addEventListener('keydown', function (ev) {
      if (ev.key === 'ArrowDown') { active = Math.min(current.length - 1, active + 1); mark(); ev.preventDefault(); }
      else if (ev.key === 'ArrowUp') { active = Math.max(0, active - 1); mark(); ev.preventDefault(); }
      else if (ev.key === 'Enter') { pick(active); ev.preventDefault(); }
      else if (ev.key === 'Escape') { results.hidden = true; }
    });
    searchBox.addEventListener('blur', function () { setTimeout(function () { results.hidden = true; }, 150); });

    // ---- tables: filter, rows select -----------------------------------------------
    function rowClick(row) {
      function act() {
        if (row.dataset.cpts !== undefined) { selectCpts(Number(row.dataset.cpts), true); }
        else if (row.dataset.codes !== undefined) {
          var faces = row.dataset.codes.split(' ').map(function (c) { return codeToFace[c]; }).filter(function (f) { return f !== undefined; });
          selectFaces(faces, row.closest('table').id === 'table-overlaps' ? 'Chevauchement : ' + row.cells[0].textContent + ' / ' + row.cells[1].textContent : 'Zone blanche n° ' + row.cells[0].textContent, true);
        } else if (row.dataset.dep !== undefined) {
          var d = row.dataset.dep;
          selectFaces(facesWhere(function (f) { return F.dep[f] === d; }), 'Département ' + row.cells[1].textContent + ' (' + d + ')', true);
        } else if (row.dataset.reg !== undefined) {
          var rg = row.dataset.reg;
          selectFaces(facesWhere(function (f) { return region(f) === rg; }), 'Région ' + row.cells[1].textContent, true);
        } else return;
        mapDiv.scrollIntoView({ block: 'center' });
      }
      row.addEventListener('click', act);
      row.addEventListener('keydown', function (ev) { if (ev.key === 'Enter') { ev.preventDefault(); act(); } });
    }
    document.querySelectorAll('table.sortable tbody tr').forEach(rowClick);
    document.querySelectorAll('input.filter').forEach(function (input) {
      var table = $(input.dataset.table), count = document.querySelector('[data-count="' + input.dataset.table + '"]');
      function run() {
        var q = norm(input.value), shown = 0, rows = table.tBodies[0].rows;
        for (var i = 0; i < rows.length; i++) {
          var ok = !q || norm(rows[i].textContent).indexOf(q) >= 0;
          rows[i].hidden = !ok;
          if (ok) shown++;
        }
        count.textContent = q ? plural(shown, 'ligne', 'lignes') + ' sur ' + fr(rows.length) : '';
      }
      input.addEventListener('input', run);
    });

    // ---- suggestions (a proposal's) ------------------------------------------------
    var suggestionState = {}; // index -> 'accepted' | 'rejected'
    var suggestionFeatures = [];
    function suggestionTarget(s) {
      var k = cptsById[s[1]];
      if (k === undefined) k = newCpts(s[1], s[2]);
      return k;
    }
    function acceptSuggestions(list) {
      var byTarget = {};
      list.forEach(function (i) {
        if (suggestionState[i]) return;
        var s = D.suggestions[i];
        (byTarget[s[1]] || (byTarget[s[1]] = [])).push(i);
      });
      var faces = [], before = [], idsTo = [];
      Object.keys(byTarget).sort().forEach(function (id) {
        var k = suggestionTarget(D.suggestions[byTarget[id][0]]);
        byTarget[id].forEach(function (i) {
          var f = D.suggestions[i][0];
          suggestionState[i] = 'accepted';
          faces.push(f); before.push(claims[f].map(idOf)); idsTo.push(k);
        });
      });
      if (!faces.length) return;
      // one undoable step for the lot, applied per target
      var groups = {};
      faces.forEach(function (f, i) { (groups[idsTo[i]] || (groups[idsTo[i]] = [])).push(f); });
      Object.keys(groups).forEach(function (k) { apply(groups[k], Number(k)); });
      if (Object.keys(groups).length === 1) done.push({ faces: faces, before: before, to: idOf(idsTo[0]), how: 'suggestion', at: new Date().toISOString() });
      else faces.forEach(function (f, i) { done.push({ faces: [f], before: [before[i]], to: idOf(idsTo[i]), how: 'suggestion', at: new Date().toISOString() }); });
      undone = [];
      changed();
    }
    function renderSuggestions() {
      var ol0 = $('suggestion-list');
      if (!ol0) return;
      ensureFaces();
      suggestionFeatures.forEach(function (ft) { overlaySource.removeFeature(ft); });
      suggestionFeatures = [];
      if (!ol0.dataset.built) {
        D.suggestions.forEach(function (s, i) {
          var f = s[0], li = el('li');
          li.dataset.suggestion = String(i);
          var b = el('button', F.name[f] + ' (' + F.code[f] + ')', 'link');
          b.type = 'button';
          b.addEventListener('click', function () { selectFace(f, true); });
          li.appendChild(b);
          li.appendChild(document.createTextNode(' → ' + s[2] + ' (' + s[1] + ') '));
          li.appendChild(el('span', s[3], 'muted'));
          var ok = el('button', 'Accepter'), no = el('button', 'Rejeter');
          ok.type = no.type = 'button';
          ok.dataset.accept = String(i); no.dataset.reject = String(i);
          ok.addEventListener('click', function () { acceptSuggestions([i]); });
          no.addEventListener('click', function () { suggestionState[i] = 'rejected'; renderSuggestions(); });
          var span = el('span', null, 'buttons'); span.appendChild(ok); span.appendChild(no);
          li.appendChild(span);
          ol0.appendChild(li);
        });
        ol0.dataset.built = '1';
      }
      Array.prototype.forEach.call(ol0.children, function (li) {
        var i = Number(li.dataset.suggestion), st = suggestionState[i] || '';
        li.dataset.state = st;
        li.querySelectorAll('button[data-accept],button[data-reject]').forEach(function (b) { b.disabled = !!st; });
        if (!st) {
          var ft = new ol.Feature({ geometry: loGeom[D.suggestions[i][0]], kind: 'suggestion' });
          suggestionFeatures.push(ft);
        }
      });
      overlaySource.addFeatures(suggestionFeatures);
    }
    if ($('accept-all')) {
      $('accept-all').addEventListener('click', function () { acceptSuggestions(D.suggestions.map(function (s, i) { return i; })); });
      $('reject-all').addEventListener('click', function () { D.suggestions.forEach(function (s, i) { if (!suggestionState[i]) suggestionState[i] = 'rejected'; }); renderSuggestions(); });
    }

    // ---- print ---------------------------------------------------------------------------
    var pageStyle = document.createElement('style');
    document.head.appendChild(pageStyle);
    function setPage(size) { pageStyle.textContent = '@page{size:' + size + ' landscape;margin:10mm}'; }
    setPage('A4');
    document.querySelectorAll('[data-print]').forEach(function (b) {
      b.addEventListener('click', function () { setPage(b.dataset.print); window.print(); });
    });
    window.addEventListener('beforeprint', function () { map.updateSize(); map.renderSync(); });
    window.addEventListener('afterprint', function () { map.updateSize(); });

    // ---- editing off for drawn territories ------------------------------------------------
    if (!D.editable) {
      document.querySelectorAll('#edit input, #edit button, #edit select').forEach(function (x) { x.disabled = true; });
      $('edit').insertBefore(el('p', 'Les territoires sont dessinés (polygones), pas des listes de communes : ils ne se modifient pas ici.', 'warn'), $('edit').children[1]);
    }

    // ---- restore the session, then open --------------------------------------------
    restore();
    setMode(mode);
    changed();

    // the automation hook, for tests and power users
    Object.assign(api, {
      search: function (text) {
        showResultsFor(text);
        return current.map(function (r) { return Object.assign({}, r); });
      },
      select: function (text) { var r = searchAll(text)[0]; if (r) r.go(); return r ? r.label : null; },
      assign: function (code, id) {
        var f = codeToFace[code];
        if (f === undefined) throw new Error('commune inconnue : ' + code);
        var k = null;
        if (id !== null && id !== undefined) {
          k = cptsById[id];
          if (k === undefined) k = newCpts(String(id));
        }
        edit([f], k, 'script', true);
        return true;
      },
      undo: undo,
      redo: redo,
      reset: resetAll,
      figures: figures,
      declarationsCsv: declarationsCsv,
      logCsv: logCsv,
      acceptSuggestion: function (i) { acceptSuggestions([i]); return figures(); },
      acceptAll: function () { acceptSuggestions(D.suggestions.map(function (s, i) { return i; })); return figures(); },
      suggestions: function () { return D.suggestions.map(function (s, i) { return { code: F.code[s[0]], cpts_id: s[1], cpts_name: s[2], reason: s[3], state: suggestionState[i] || 'pending' }; }); },
      setView: setMode,
      zoomTo: function (code) { var f = codeToFace[code]; if (f !== undefined) zoomTo([f]); map.renderSync(); return view.getResolution(); },
      pointOf: function (code) {
        var f = codeToFace[code];
        if (f === undefined) return null;
        var px = map.getPixelFromCoordinate(insidePoint(f)), r = mapDiv.getBoundingClientRect();
        return px ? [r.left + px[0], r.top + px[1]] : null;
      },
      // vertices of the commune as drawn now (full resolution when zoomed in)
      vertexCount: function (code) {
        var f = codeToFace[code];
        ensureFaces();
        var g = res < HI_RES ? hi(f) : loGeom[f];
        return g.getFlatCoordinates().length / 2;
      },
      faces: nF,
      map: map,
      cptsLabels: function () { return labelFeatures.filter(Boolean).length; }
    });
    function showResultsFor(text) { searchBox.value = text; showResults(); }
    map.once('rendercomplete', function () {
      document.body.dataset.ready = '1';
      readyResolve(api);
      // then, a slice at a time between the planner's events: the communes as
      // features, the full-resolution arcs, the borders shown zoomed in, the
      // search index
      var steps = [];
      for (var at = 0; at < nF; at += 4000) steps.push((function (upto) { return function () { buildFaces(upto); }; })(at + 4000));
      steps.push(function () { territoryLines.ensure(); });
      steps.push(function () { if (!index) buildIndex(); });
      (function next() {
        var step = steps.shift();
        if (!step) return;
        step();
        setTimeout(next, 0);
      })();
      inflate('payload-full').then(function (ab) {
        D.full = decodeFull(ab);
        // redrawn at full resolution where the view is zoomed in
        var redraw = function () { facesSource.changed(); groupSource.changed(); territoryLines.source.changed(); depLines.source.changed(); regLines.source.changed(); };
        redraw();
        fullResolve(true);
        // the intermediate level, a slice of arcs at a time
        var mid = new Array(D.full.length), at = 0, tol = MID_RES * 1000;
        (function slice() {
          var end = Math.min(mid.length, at + 20000);
          for (; at < end; at++) mid[at] = simplifyArc(D.full[at], tol);
          if (at < mid.length) { setTimeout(slice, 0); return; }
          D.mid = mid;
          redraw();
          // then, while the page is idle, the territories' and communes'
          // intermediate outlines, so that the first zoom into a region does
          // not make them
          var idle = window.requestIdleCallback || function (f) { return setTimeout(function () { f({ timeRemaining: function () { return 8; } }); }, 0); };
          var gi = 0, fi = 0, gfeats = groupSource.getFeatures();
          idle(function warm(deadline) {
            while (deadline.timeRemaining() > 2 && (gi < gfeats.length || fi < nF)) {
              if (gi < gfeats.length) {
                var ft = gfeats[gi++];
                if (!ft.get('mid') && ft.get('loops')) ft.set('mid', loopsGeometry(ft.get('loops'), D.mid, 1000), true);
              } else {
                if (loGeom[fi] && !midGeom[fi]) midGeom[fi] = faceGeometry(fi, D.mid, 1000);
                fi++;
              }
            }
            if (gi < gfeats.length || fi < nF) idle(warm);
          });
        })();
      }).catch(function (e) { console.error(e); fullResolve(false); });
    });
  }

  // tables sort without the map
  function sortable(table) {
    var heads = table.querySelectorAll('th');
    heads.forEach(function (th, col) {
      function sort() {
        var asc = th.getAttribute('aria-sort') !== 'ascending';
        heads.forEach(function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
        var num = th.dataset.type === 'num', body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var key = function (r) {
          var c = r.cells[col];
          return num ? Number(c.dataset.v !== undefined ? c.dataset.v : NaN) : c.textContent;
        };
        rows.sort(function (a, b) {
          var x = key(a), y = key(b), o;
          if (num) { o = (isNaN(x) ? -Infinity : x) - (isNaN(y) ? -Infinity : y); }
          else o = x.localeCompare(y, 'fr');
          return asc ? o : -o;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      }
      th.addEventListener('click', sort);
      th.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sort(); } });
    });
  }

  document.querySelectorAll('table.sortable').forEach(sortable);
  if (typeof DecompressionStream === 'undefined') { fail('DecompressionStream manque'); return; }
  if (typeof ol === 'undefined') { fail('OpenLayers manque'); return; }
  inflate('payload').then(function (ab) {
    start(decode(ab));
  }).catch(fail);
})();
