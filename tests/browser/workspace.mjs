// Drives the report's workspace as a planner would, in Debian's headless
// Chromium (playwright-core, no browser download), every request to anything
// but the file itself refused. Prints what it saw as one JSON object; the Rust
// integration tests (tests/workspace.rs) assert on it.
//
//   node tests/browser/workspace.mjs analyze REPORT.html OUTDIR
//   node tests/browser/workspace.mjs propose REPORT.html OUTDIR
//
// `analyze`: search, hover and click, paint two communes with the mouse onto a
// CPTS, undo and redo, a table row, the session kept over a reload and reset,
// the vertex count of a commune zoomed in, printing (every row, PDF A4 and A3),
// screenshots. `propose`: accept one suggestion with its button, then all
// through window.maillage; the exported declarations are written to OUTDIR.
import { existsSync, writeFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const [, , mode, file, outdir, paint] = process.argv;
const exe = [process.env.CHROMIUM, '/usr/bin/chromium-headless-shell', '/usr/bin/chromium']
  .find((p) => p && existsSync(p));
if (!exe) {
  console.error('no Chromium: apt-get install chromium-headless-shell');
  process.exit(3);
}
const browser = await chromium.launch({
  executablePath: exe,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const out = { requests: [], refused: [], errors: [] };
const shot = async (page, name) => {
  await page.screenshot({ path: `${outdir}/${name}.png` });
};
try {
  const context = await browser.newContext({ viewport: { width: 1500, height: 1000 }, acceptDownloads: true });
  // every request is recorded; any to something else than the file, data: or
  // blob: is refused (the file itself is not routed: routing would carry its
  // megabytes through this process)
  const local = (url) => url.startsWith('file://') || url.startsWith('data:') || url.startsWith('blob:');
  await context.route((url) => !local(url.href), (route) => {
    out.refused.push(route.request().url().slice(0, 200));
    route.abort();
  });
  const page = await context.newPage();
  page.on('request', (r) => out.requests.push(r.url().slice(0, 80)));
  page.on('console', (m) => { if (m.type() === 'error') out.errors.push(m.text()); });
  page.on('pageerror', (e) => out.errors.push(String(e)));
  page.on('dialog', (d) => d.accept());
  const open = async () => {
    const start = Date.now();
    await page.goto('file://' + file);
    await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 60000 });
    await page.evaluate(() => window.maillage.ready.then(() => true));
    return Date.now() - start;
  };
  out.readyMs = await open();
  out.ready = await page.evaluate(() => document.body.dataset.ready);
  out.figures = await page.evaluate(() => window.maillage.figures());
  out.faces = await page.evaluate(() => window.maillage.faces);
  out.labels = await page.evaluate(() => window.maillage.cptsLabels());
  await page.locator('#map').scrollIntoViewIfNeeded();

  if (mode === 'analyze') {
    await shot(page, 'workspace-overview');
    // search: a commune by the name with its article, by code; a CPTS; a zone
    out.searchMees = await page.evaluate(() => window.maillage.search('les mees'));
    out.searchCode = await page.evaluate(() => window.maillage.search('13055'));
    out.searchCpts = await page.evaluate(() => window.maillage.search('CPTS-93-012'));
    out.searchZone = await page.evaluate(() => window.maillage.search('zone blanche 1'));
    // with the keyboard, in the search box: the first result is selected
    await page.fill('#search', '');
    await page.type('#search', 'Marseille');
    await page.keyboard.press('Enter');
    await page.waitForTimeout(300);
    out.detailsAfterSearch = await page.locator('#details').innerText();
    // hover and click Marseille
    await page.evaluate(() => window.maillage.map.getView().fit(window.maillage.map.getView().getProjection().getExtent()));
    await page.evaluate(() => window.maillage.map.renderSync());
    const at = await page.evaluate(() => window.maillage.pointOf('13055'));
    await page.mouse.move(at[0], at[1]);
    await page.mouse.move(at[0] + 1, at[1] + 1);
    out.tooltip = await page.locator('#tooltip').innerText();
    await page.mouse.click(at[0], at[1]);
    await page.waitForTimeout(400);
    out.detailsAfterClick = await page.locator('#details').innerText();
    // the keyboard: Tab reaches the map, + zooms, Enter picks the commune at its centre
    await page.evaluate(() => { window.maillage.zoomTo('13055'); document.getElementById('details').textContent = ''; });
    await page.focus('#search');
    await page.keyboard.press('Tab');
    out.focusAfterTab = await page.evaluate(() => document.activeElement.id || document.activeElement.className);
    await page.focus('#map');
    const r0 = await page.evaluate(() => window.maillage.map.getView().getResolution());
    await page.keyboard.press('+');
    await page.waitForTimeout(400);
    out.keyZoomed = (await page.evaluate(() => window.maillage.map.getView().getResolution())) < r0;
    await page.keyboard.press('Enter');
    out.detailsAfterEnter = await page.locator('#details').innerText();
    // a CPTS row of the table selects it
    await page.click('#table-cpts tbody tr[data-cpts="0"]');
    out.detailsAfterRow = await page.locator('#details').innerText();
    // paint two neighbouring white communes onto a CPTS with the mouse
    await page.locator('#map').scrollIntoViewIfNeeded();
    const [a, b, target] = JSON.parse(paint);
    out.painted = [a, b, target];
    await page.evaluate((codes) => { const m = window.maillage; m.zoomTo(codes[0]); }, [a, b]);
    await page.evaluate(() => { const v = window.maillage.map.getView(); v.setResolution(v.getResolution() * 3); window.maillage.map.renderSync(); });
    await page.check('#paint');
    await page.selectOption('#edit-cpts', target);
    const pa = await page.evaluate((c) => window.maillage.pointOf(c), a);
    const pb = await page.evaluate((c) => window.maillage.pointOf(c), b);
    // Shift + drag: a rectangle around the first commune paints what it holds
    const pr = await page.evaluate((c) => window.maillage.pointOf(c), a);
    await page.evaluate(() => localStorage.clear());
    out.beforeRectangle = await page.evaluate(() => window.maillage.figures());
    await page.keyboard.down('Shift');
    await page.mouse.move(pr[0] - 40, pr[1] - 40);
    await page.mouse.down();
    await page.mouse.move(pr[0], pr[1], { steps: 4 });
    await page.mouse.move(pr[0] + 40, pr[1] + 40, { steps: 4 });
    await page.mouse.up();
    await page.keyboard.up('Shift');
    out.afterRectangle = await page.evaluate(() => window.maillage.figures());
    out.logAfterRectangle = await page.evaluate(() => window.maillage.logCsv());
    await page.click('#undo');
    out.afterRectangleUndo = await page.evaluate(() => window.maillage.figures());
    out.before = await page.evaluate(() => window.maillage.figures());
    await page.mouse.move(pa[0], pa[1]);
    await page.mouse.down();
    const steps = 12;
    for (let i = 1; i <= steps; i++) await page.mouse.move(pa[0] + (pb[0] - pa[0]) * i / steps, pa[1] + (pb[1] - pa[1]) * i / steps);
    const t0 = await page.evaluate(() => performance.now());
    await page.mouse.up();
    out.afterPaint = await page.evaluate(() => window.maillage.figures());
    out.editMs = (await page.evaluate(() => performance.now())) - t0;
    out.live = await page.locator('#live').innerText();
    await shot(page, 'workspace-edit');
    out.csvAfterPaint = await page.evaluate(() => window.maillage.declarationsCsv());
    out.logAfterPaint = await page.evaluate(() => window.maillage.logCsv());
    await page.click('#undo');
    out.afterUndo = await page.evaluate(() => window.maillage.figures());
    await page.click('#redo');
    out.afterRedo = await page.evaluate(() => window.maillage.figures());
    await page.uncheck('#paint');
    // the session survives a reload, and reset clears it
    await open();
    out.afterReload = await page.evaluate(() => window.maillage.figures());
    await page.click('#reset');
    out.afterReset = await page.evaluate(() => window.maillage.figures());
    // the API: a new CPTS, a white commune
    out.afterAssignNew = await page.evaluate(() => { window.maillage.assign('13055', 'NOUVELLE-TEST'); return window.maillage.figures(); });
    out.afterAssignNull = await page.evaluate(() => { window.maillage.assign('13055', null); return window.maillage.figures(); });
    await page.evaluate(() => window.maillage.reset());
    // zoomed in, a commune has the input's vertices
    out.full = await page.evaluate(() => window.maillage.full);
    out.vertices = {};
    for (const code of ['13055', '04116', '06088']) {
      // zoomed in on it, closer than a selection zooms
      await page.evaluate((c) => { const m = window.maillage; m.zoomTo(c); const v = m.map.getView(); v.setResolution(v.getResolution() / 8); m.map.renderSync(); }, code);
      out.vertices[code] = await page.evaluate((c) => window.maillage.vertexCount(c), code);
    }
    await page.evaluate(() => window.maillage.zoomTo('13055'));
    await page.waitForTimeout(300);
    await shot(page, 'workspace-zoomed');
    // zoom steps: time of a render after a wheel-sized change, zoomed out
    await page.evaluate(() => { const v = window.maillage.map.getView(); v.fit(v.getProjection().getExtent()); window.maillage.map.renderSync(); });
    out.zoomMs = await page.evaluate(() => {
      const m = window.maillage.map, v = m.getView(), times = [];
      for (let i = 0; i < 8; i++) { const t = performance.now(); v.setResolution(v.getResolution() / 1.25); m.renderSync(); times.push(performance.now() - t); }
      return times;
    });
    // print: every row of every table laid out, and a PDF per paper size
    await page.emulateMedia({ media: 'print' });
    out.print = await page.evaluate(() => [...document.querySelectorAll('table.sortable')].map((t) => ({
      id: t.id,
      rows: t.tBodies[0].rows.length,
      shown: [...t.tBodies[0].rows].filter((r) => r.getClientRects().length > 0).length,
      clipped: t.closest('.scroll').scrollHeight > t.closest('.scroll').clientHeight + 1,
    })));
    await page.screenshot({ path: `${outdir}/workspace-print.png`, fullPage: false });
    await page.emulateMedia({ media: 'screen' });
    for (const size of ['A4', 'A3']) {
      await page.evaluate((s) => { document.querySelector('[data-print="' + s + '"]'); }, size);
      const pdf = await page.pdf({ preferCSSPageSize: false, format: size, landscape: true, printBackground: true });
      writeFileSync(`${outdir}/report-${size}.pdf`, pdf);
      out['pdf' + size] = (pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) || []).length;
    }
  } else if (mode === 'propose') {
    out.suggestions = await page.evaluate(() => window.maillage.suggestions());
    out.searchFirst = await page.evaluate((code) => window.maillage.search(code), out.suggestions[0].code);
    out.searchTarget = await page.evaluate((id) => window.maillage.search(id), out.suggestions[0].cpts_id);
    await shot(page, 'workspace-propose');
    await page.evaluate(() => window.maillage.full);
    if (await page.locator('#goto option[value="idf"]').count()) {
      await page.selectOption('#goto', 'idf');
      await page.waitForTimeout(800);
      await shot(page, 'workspace-propose-idf');
    }
    // the first suggestion, accepted with its button
    await page.click('#suggestion-list li[data-suggestion="0"] button[data-accept]');
    out.afterOne = await page.evaluate(() => window.maillage.figures());
    out.stateOne = await page.evaluate(() => window.maillage.suggestions()[0].state);
    await page.click('#undo');
    out.afterUndoOne = await page.evaluate(() => window.maillage.figures());
    await page.evaluate(() => window.maillage.reset());
    // every move of the proposal through window.maillage
    out.afterAll = await page.evaluate(() => {
      const m = window.maillage;
      for (const s of m.suggestions()) m.assign(s.code, s.cpts_id);
      return m.figures();
    });
    writeFileSync(`${outdir}/declarations-from-page.csv`, await page.evaluate(() => window.maillage.declarationsCsv()));
    await page.evaluate(() => window.maillage.reset());
    out.afterAcceptAll = await page.evaluate(() => window.maillage.acceptAll());
  }
} catch (e) {
  out.errors.push('driver: ' + (e.stack || e));
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
