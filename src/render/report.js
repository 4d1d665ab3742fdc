// maillage report: decodes the embedded payload and draws the interactive map.
// No library, no request: everything is in this page.
(function () {
  'use strict';
  var NS = 'http://www.w3.org/2000/svg';
  var svg = document.getElementById('map');
  var tooltip = document.getElementById('tooltip');
  var details = document.getElementById('details');

  function fail(e) {
    var p = document.createElement('p');
    p.className = 'error';
    p.textContent = 'La carte interactive ne peut pas être affichée dans ce navigateur : ' + e;
    svg.parentNode.insertBefore(p, svg);
    document.body.dataset.ready = 'error';
    console.error(e);
  }

  function inflate() {
    var text = document.getElementById('payload').textContent.replace(/\s+/g, '');
    var raw = atob(text);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Response(stream).arrayBuffer();
  }

  function decode(ab) {
    var buf = new Uint8Array(ab);
    if (String.fromCharCode(buf[0], buf[1], buf[2], buf[3]) !== 'MLG1') throw new Error('données illisibles');
    var len = (buf[4] | (buf[5] << 8) | (buf[6] << 16)) + buf[7] * 16777216;
    var data = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + len)));
    var pos = 8 + len;
    function uv() {
      var v = 0, s = 1, b;
      do { b = buf[pos++]; v += (b & 127) * s; s *= 128; } while (b & 128);
      return v;
    }
    function zz() { var u = uv(); return u % 2 ? -(u + 1) / 2 : u / 2; }
    // points from (x, y): returns them, flat
    function ptsFrom(x, y) {
      var n = uv(), a = new Int32Array(2 * n);
      for (var i = 0; i < n; i++) { x += zz(); y += zz(); a[2 * i] = x; a[2 * i + 1] = y; }
      return a;
    }
    function pts() { return ptsFrom(0, 0); }
    function refs() {
      var n = uv(), r = new Int32Array(n);
      for (var i = 0; i < n; i++) r[i] = zz();
      return r;
    }
    var k, n;
    var arcs = new Array(uv()), lx = 0, ly = 0;
    for (k = 0; k < arcs.length; k++) {
      var arc = ptsFrom(lx, ly);
      if (arc.length) { lx = arc[arc.length - 2]; ly = arc[arc.length - 1]; }
      arcs[k] = arc;
    }
    // arc references step from the previous one: zigzag(step) * 2 + reversed
    var faces = new Array(uv()), prev = 0;
    for (k = 0; k < faces.length; k++) {
      var rings = new Array(uv());
      for (var r = 0; r < rings.length; r++) {
        var cnt = uv(), ring = new Int32Array(cnt);
        for (var q = 0; q < cnt; q++) {
          var u = uv(), rev = u % 2, z = (u - rev) / 2;
          prev += z % 2 ? -(z + 1) / 2 : z / 2;
          ring[q] = rev ? ~prev : prev;
        }
        rings[r] = ring;
      }
      faces[k] = rings;
    }
    var shapes = new Array(uv());
    for (k = 0; k < shapes.length; k++) {
      var kind = uv(), count = uv(), parts = new Array(count);
      for (var j = 0; j < count; j++) parts[j] = kind === 0 ? refs() : pts();
      shapes[k] = { loops: kind === 0, parts: parts };
    }
    function list() {
      var n = uv(), out = new Int32Array(n), last = 0;
      for (var i = 0; i < n; i++) { last += uv(); out[i] = last; }
      return out;
    }
    data.arcs = arcs;
    data.faceRings = faces;
    data.shapes = shapes;
    data.departementArcs = list();
    data.territoryArcs = list();
    data.communeArcs = list();
    return data;
  }

  // the points of a loop of arcs, as a flat array
  function loopPoints(arcs, loop) {
    var out = [];
    for (var i = 0; i < loop.length; i++) {
      var ref = loop[i], a = arcs[ref < 0 ? ~ref : ref], n = a.length / 2, j;
      if (ref >= 0) { for (j = i ? 1 : 0; j < n; j++) out.push(a[2 * j], a[2 * j + 1]); }
      else { for (j = n - 1 - (i ? 1 : 0); j >= 0; j--) out.push(a[2 * j], a[2 * j + 1]); }
    }
    return out;
  }

  function ringD(p, out) {
    if (p.length < 6) return;
    out.push('M', p[0], ' ', p[1], 'L');
    for (var i = 2; i < p.length; i += 2) out.push(p[i], ' ', p[i + 1], ' ');
    out.push('z');
  }

  function shapeD(data, shape) {
    var out = [];
    for (var i = 0; i < shape.parts.length; i++) {
      ringD(shape.loops ? loopPoints(data.arcs, shape.parts[i]) : shape.parts[i], out);
    }
    return out.join('');
  }

  function linesD(data, list) {
    var out = [];
    for (var i = 0; i < list.length; i++) {
      var a = data.arcs[list[i]];
      out.push('M', a[0], ' ', a[1], 'L');
      for (var j = 2; j < a.length; j += 2) out.push(a[j], ' ', a[j + 1], ' ');
    }
    return out.join('');
  }

  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }

  function fr(n) { return Number(n).toLocaleString('fr-FR'); }

  function draw(data) {
    var v = data.view, c = data.colours;
    svg.setAttribute('viewBox', [v[0], v[1], v[2] - v[0], v[3] - v[1]].join(' '));
    var defs = el('defs', {}, svg);
    var pat = el('pattern', { id: 'hatch', patternUnits: 'userSpaceOnUse', width: 60, height: 60, patternTransform: 'rotate(45)' }, defs);
    el('rect', { width: 60, height: 60, fill: c.overlap_background }, pat);
    el('rect', { width: 27, height: 60, fill: c.overlap }, pat);
    var vp = el('g', { id: 'viewport' }, svg);
    var shapes = data.shapes, ncpts = data.cpts.length, s = 0;
    el('path', { id: 'layer-base', d: shapeD(data, shapes[s++]), fill: c.base, 'fill-rule': 'evenodd' }, vp);
    var terr = el('g', { id: 'layer-territories' }, vp);
    var paths = [];
    for (var k = 0; k < ncpts; k++, s++) {
      var d = shapeD(data, shapes[s]);
      if (!d) { paths.push(null); continue; }
      var p = el('path', { d: d, fill: data.cpts[k].fill, 'fill-rule': 'evenodd', 'class': 'territory', 'data-cpts': data.cpts[k].id, 'data-k': k }, terr);
      paths.push(p);
    }
    if (data.detailed) {
      el('path', { id: 'layer-communes', d: linesD(data, data.communeArcs), fill: 'none', stroke: '#ffffff', 'stroke-opacity': 0.8, 'stroke-width': 0.5, 'vector-effect': 'non-scaling-stroke' }, vp);
    }
    el('path', { id: 'layer-territory-borders', d: linesD(data, data.territoryArcs), fill: 'none', stroke: c.territory_border, 'stroke-width': 0.8, 'vector-effect': 'non-scaling-stroke' }, vp);
    var white = el('g', { id: 'layer-white-zones', fill: c.white }, vp);
    for (k = 0; k < data.white_zones; k++, s++) {
      el('path', { d: shapeD(data, shapes[s]), 'fill-rule': 'evenodd', 'class': 'white-zone', 'data-zone': k + 1 }, white);
    }
    var over = el('g', { id: 'layer-overlaps', fill: 'url(#hatch)', stroke: c.overlap, 'stroke-width': 0.6 }, vp);
    for (k = 0; k < data.overlaps.length; k++, s++) {
      el('path', { d: shapeD(data, shapes[s]), 'fill-rule': 'evenodd', 'class': 'overlap', 'vector-effect': 'non-scaling-stroke' }, over);
    }
    el('path', { id: 'layer-departements', d: linesD(data, data.departementArcs), fill: 'none', stroke: c.departement, 'stroke-width': 1.2, 'vector-effect': 'non-scaling-stroke' }, vp);
    var frames = el('g', { id: 'layer-frames' }, vp);
    data.frames.forEach(function (f) {
      var b = f.box;
      el('rect', { x: b[0] - 40, y: b[1] - 40, width: b[2] - b[0] + 80, height: b[3] - b[1] + 80, fill: 'none', stroke: '#969696', 'stroke-width': 0.8, 'vector-effect': 'non-scaling-stroke' }, frames);
      var t = el('text', { x: b[0] - 40, y: b[1] - 90, 'font-size': 140, fill: '#252525' }, frames);
      t.textContent = f.name;
    });
    el('path', { id: 'hover', fill: 'none', stroke: '#000000', 'stroke-width': 2, 'vector-effect': 'non-scaling-stroke', 'pointer-events': 'none' }, vp);
    el('path', { id: 'selected', fill: 'none', stroke: '#0050b4', 'stroke-width': 3, 'vector-effect': 'non-scaling-stroke', 'pointer-events': 'none' }, vp);
    return { viewport: vp, territoryPaths: paths };
  }

  // a grid over the faces' boxes, to find the commune under the pointer
  function index(data) {
    var arcs = data.arcs, nA = arcs.length, ab = new Float64Array(4 * nA);
    for (var k = 0; k < nA; k++) {
      var a = arcs[k], x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
      for (var i = 0; i < a.length; i += 2) {
        if (a[i] < x0) x0 = a[i]; if (a[i] > x1) x1 = a[i];
        if (a[i + 1] < y0) y0 = a[i + 1]; if (a[i + 1] > y1) y1 = a[i + 1];
      }
      ab[4 * k] = x0; ab[4 * k + 1] = y0; ab[4 * k + 2] = x1; ab[4 * k + 3] = y1;
    }
    var v = data.view, G = 96, cw = (v[2] - v[0]) / G, ch = (v[3] - v[1]) / G;
    var cells = new Array(G * G), boxes = new Float64Array(4 * data.faceRings.length);
    for (var f = 0; f < data.faceRings.length; f++) {
      var bx0 = Infinity, by0 = Infinity, bx1 = -Infinity, by1 = -Infinity, rings = data.faceRings[f];
      for (var r = 0; r < rings.length; r++) for (var j = 0; j < rings[r].length; j++) {
        var ref = rings[r][j], q = 4 * (ref < 0 ? ~ref : ref);
        if (ab[q] < bx0) bx0 = ab[q]; if (ab[q + 1] < by0) by0 = ab[q + 1];
        if (ab[q + 2] > bx1) bx1 = ab[q + 2]; if (ab[q + 3] > by1) by1 = ab[q + 3];
      }
      boxes[4 * f] = bx0; boxes[4 * f + 1] = by0; boxes[4 * f + 2] = bx1; boxes[4 * f + 3] = by1;
      if (!(bx0 <= bx1)) continue;
      var i0 = Math.max(0, Math.floor((bx0 - v[0]) / cw)), i1 = Math.min(G - 1, Math.floor((bx1 - v[0]) / cw));
      var j0 = Math.max(0, Math.floor((by0 - v[1]) / ch)), j1 = Math.min(G - 1, Math.floor((by1 - v[1]) / ch));
      for (var gy = j0; gy <= j1; gy++) for (var gx = i0; gx <= i1; gx++) {
        var c = gy * G + gx;
        (cells[c] || (cells[c] = [])).push(f);
      }
    }
    function inside(f, x, y) {
      var rings = data.faceRings[f], odd = false;
      for (var r = 0; r < rings.length; r++) {
        var p = loopPoints(arcs, rings[r]);
        for (var i = 0, j = p.length - 2; i < p.length; j = i, i += 2) {
          if ((p[i + 1] > y) !== (p[j + 1] > y) && x < (p[j] - p[i]) * (y - p[i + 1]) / (p[j + 1] - p[i + 1]) + p[i]) odd = !odd;
        }
      }
      return odd;
    }
    return {
      boxes: boxes,
      at: function (x, y) {
        var gx = Math.floor((x - v[0]) / cw), gy = Math.floor((y - v[1]) / ch);
        if (gx < 0 || gy < 0 || gx >= G || gy >= G) return -1;
        var list = cells[gy * G + gx] || [];
        for (var i = 0; i < list.length; i++) {
          var f = list[i], b = 4 * f;
          if (x >= boxes[b] && x <= boxes[b + 2] && y >= boxes[b + 1] && y <= boxes[b + 3] && inside(f, x, y)) return f;
        }
        return -1;
      },
      // a point inside face f: the middle of the widest span of its middle row
      pointIn: function (f) {
        var b = 4 * f, y = (boxes[b + 1] + boxes[b + 3]) / 2 + 0.5, xs = [], rings = data.faceRings[f];
        for (var r = 0; r < rings.length; r++) {
          var p = loopPoints(arcs, rings[r]);
          for (var i = 0, j = p.length - 2; i < p.length; j = i, i += 2) {
            if ((p[i + 1] > y) !== (p[j + 1] > y)) xs.push((p[j] - p[i]) * (y - p[i + 1]) / (p[j + 1] - p[i + 1]) + p[i]);
          }
        }
        xs.sort(function (a, c) { return a - c; });
        var best = -1, at = [(boxes[b] + boxes[b + 2]) / 2, y];
        for (var k = 0; k + 1 < xs.length; k += 2) if (xs[k + 1] - xs[k] > best) { best = xs[k + 1] - xs[k]; at = [(xs[k] + xs[k + 1]) / 2, y]; }
        return at;
      }
    };
  }

  var VERDICT = { c: 'couverte par une seule CPTS', w: 'zone blanche (aucune CPTS)', o: 'chevauchement' };

  function describe(data, f, box) {
    box.textContent = '';
    var F = data.faces, h = document.createElement('h3');
    h.textContent = F.name[f] + ' (' + F.code[f] + ')';
    box.appendChild(h);
    var claims = F.claims[f], line = document.createElement('p');
    line.textContent = fr(F.population[f]) + ' hab. — ' + VERDICT[F.verdict[f]] + (F.verdict[f] === 'o' ? ' (' + claims.length + ' CPTS)' : '');
    line.className = 'verdict-' + F.verdict[f];
    box.appendChild(line);
    if (claims.length) {
      var ul = document.createElement('ul');
      claims.forEach(function (k) {
        var c = data.cpts[k], li = document.createElement('li');
        li.textContent = c.name + ' (' + c.id + ') — ' + c.status + ' ; ' + fr(c.communes) + ' communes, ' + fr(c.population) + ' hab., classe ACI ' + c.size_class + (c.parts > 1 ? ', ' + c.parts + ' parties' : '');
        ul.appendChild(li);
      });
      box.appendChild(ul);
    }
  }

  function start(data) {
    var drawn = draw(data), vp = drawn.viewport, idx = index(data);
    var v = data.view, t = { s: 1, x: 0, y: 0 };
    var hover = document.getElementById('hover'), selected = document.getElementById('selected');
    var highlighted = null;
    function apply() { vp.setAttribute('transform', 'translate(' + t.x + ' ' + t.y + ') scale(' + t.s + ')'); }
    function toData(cx, cy) {
      var m = vp.getScreenCTM().inverse(), p = svg.createSVGPoint();
      p.x = cx; p.y = cy;
      p = p.matrixTransform(m);
      return [p.x, p.y];
    }
    function toClient(x, y) {
      var m = vp.getScreenCTM(), p = svg.createSVGPoint();
      p.x = x; p.y = y;
      p = p.matrixTransform(m);
      return [p.x, p.y];
    }
    function zoomAt(factor, cx, cy) {
      var m = svg.getScreenCTM().inverse(), p = svg.createSVGPoint();
      p.x = cx; p.y = cy;
      p = p.matrixTransform(m);
      var s = Math.min(200, Math.max(1, t.s * factor)), f = s / t.s;
      t.x = p.x - (p.x - t.x) * f; t.y = p.y - (p.y - t.y) * f; t.s = s;
      apply();
    }
    function faceOutline(f) {
      if (f < 0) return '';
      var out = [];
      data.faceRings[f].forEach(function (r) { ringD(loopPoints(data.arcs, r), out); });
      return out.join('');
    }
    function highlight(k) {
      if (highlighted) highlighted.classList.remove('hl');
      highlighted = k >= 0 ? drawn.territoryPaths[k] : null;
      if (highlighted) highlighted.classList.add('hl');
    }
    function show(ev, f) {
      hover.setAttribute('d', faceOutline(f));
      if (f < 0) { tooltip.hidden = true; highlight(-1); return; }
      describe(data, f, tooltip);
      var claims = data.faces.claims[f];
      highlight(claims.length ? claims[0] : -1);
      tooltip.hidden = false;
      var r = svg.parentNode.getBoundingClientRect();
      tooltip.style.left = (ev.clientX - r.left + 14) + 'px';
      tooltip.style.top = (ev.clientY - r.top + 14) + 'px';
    }
    var drag = null;
    svg.addEventListener('pointerdown', function (ev) { drag = { x: ev.clientX, y: ev.clientY, tx: t.x, ty: t.y, moved: false }; svg.setPointerCapture(ev.pointerId); });
    svg.addEventListener('pointermove', function (ev) {
      if (drag) {
        var m = svg.getScreenCTM(), dx = (ev.clientX - drag.x) / m.a, dy = (ev.clientY - drag.y) / m.d;
        if (Math.abs(ev.clientX - drag.x) + Math.abs(ev.clientY - drag.y) > 4) drag.moved = true;
        if (drag.moved) { t.x = drag.tx + dx; t.y = drag.ty + dy; apply(); tooltip.hidden = true; return; }
      }
      var p = toData(ev.clientX, ev.clientY);
      show(ev, idx.at(p[0], p[1]));
    });
    svg.addEventListener('pointerup', function (ev) {
      var click = drag && !drag.moved;
      drag = null;
      if (!click) return;
      var p = toData(ev.clientX, ev.clientY), f = idx.at(p[0], p[1]);
      selected.setAttribute('d', faceOutline(f));
      if (f >= 0) describe(data, f, details);
    });
    svg.addEventListener('pointerleave', function () { hover.setAttribute('d', ''); tooltip.hidden = true; highlight(-1); });
    svg.addEventListener('wheel', function (ev) { ev.preventDefault(); zoomAt(ev.deltaY < 0 ? 1.25 : 0.8, ev.clientX, ev.clientY); }, { passive: false });
    document.querySelectorAll('[data-zoom]').forEach(function (b) {
      b.addEventListener('click', function () {
        var r = svg.getBoundingClientRect();
        if (b.dataset.zoom === 'reset') { t = { s: 1, x: 0, y: 0 }; apply(); return; }
        zoomAt(b.dataset.zoom === 'in' ? 1.5 : 1 / 1.5, r.left + r.width / 2, r.top + r.height / 2);
      });
    });
    var groups = {
      territories: ['layer-territories', 'layer-territory-borders'],
      'white-zones': ['layer-white-zones'],
      overlaps: ['layer-overlaps'],
      departements: ['layer-departements'],
      communes: ['layer-communes']
    };
    document.querySelectorAll('[data-layer]').forEach(function (box) {
      box.addEventListener('change', function () {
        (groups[box.dataset.layer] || []).forEach(function (id) {
          var g = document.getElementById(id);
          if (g) g.style.display = box.checked ? '' : 'none';
        });
      });
    });
    // a CPTS row shows its territory
    document.querySelectorAll('#table-cpts tbody tr').forEach(function (row) {
      row.addEventListener('click', function () {
        var k = Number(row.dataset.cpts), p = drawn.territoryPaths[k];
        if (!p) return;
        var b = p.getBBox(), W = v[2] - v[0], H = v[3] - v[1];
        var s = Math.min(200, Math.max(1, 0.8 * Math.min(W / Math.max(b.width, 1), H / Math.max(b.height, 1))));
        t = { s: s, x: v[0] + W / 2 - s * (b.x + b.width / 2), y: v[1] + H / 2 - s * (b.y + b.height / 2) };
        apply();
        highlight(k);
        svg.scrollIntoView({ block: 'center' });
      });
    });
    var codes = {};
    data.faces.code.forEach(function (c, f) { codes[c] = f; });
    window.maillageReport = {
      faces: data.faceRings.length,
      territories: drawn.territoryPaths.filter(Boolean).length,
      // where a commune is on screen (for tests and scripts)
      pointOf: function (code) {
        var f = codes[code];
        if (f === undefined) return null;
        var p = idx.pointIn(f);
        return toClient(p[0], p[1]);
      }
    };
  }

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
  inflate().then(function (ab) {
    start(decode(ab));
    document.body.dataset.ready = '1';
  }).catch(fail);
})();
