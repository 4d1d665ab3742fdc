// Opens a maillage report.html from disk in Debian's headless Chromium (through
// playwright-core: no browser download), with every request to anything but the
// file itself refused, then hovers and clicks a commune, toggles a layer, sorts a
// table and takes a screenshot. Prints what it saw as one JSON object; the Rust
// integration test asserts on it.
//
//   node tests/browser/report.mjs REPORT.html COMMUNE_CODE SCREENSHOT.png
//
// The browser is $CHROMIUM, else chromium-headless-shell, else chromium.
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

const [, , file, code, shot] = process.argv;
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
try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  await context.route('**/*', (route) => {
    const url = route.request().url();
    out.requests.push(url);
    if (url.startsWith('file://') || url.startsWith('data:') || url.startsWith('blob:')) {
      route.continue();
    } else {
      out.refused.push(url);
      route.abort();
    }
  });
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') out.errors.push(m.text()); });
  page.on('pageerror', (e) => out.errors.push(String(e)));
  const start = Date.now();
  await page.goto('file://' + file);
  await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 30000 });
  out.readyMs = Date.now() - start;
  out.ready = await page.evaluate(() => document.body.dataset.ready);
  out.territoryIds = await page.$$eval('#map path.territory', (ps) => ps.map((p) => p.dataset.cpts));
  out.whiteZones = await page.locator('#map path.white-zone').count();
  out.api = await page.evaluate(() => window.maillageReport && {
    faces: window.maillageReport.faces, territories: window.maillageReport.territories });
  await page.locator('#map').scrollIntoViewIfNeeded();
  const at = await page.evaluate((c) => window.maillageReport.pointOf(c), code);
  out.point = at;
  if (at) {
    await page.mouse.move(at[0], at[1]);
    out.tooltipVisible = await page.locator('#tooltip').isVisible();
    out.tooltip = await page.locator('#tooltip').innerText();
    out.highlighted = await page.$$eval('#map path.territory.hl', (ps) => ps.map((p) => p.dataset.cpts));
    await page.screenshot({ path: shot });
    out.screenshot = shot;
    await page.mouse.click(at[0], at[1]);
    out.details = await page.locator('#details').innerText();
    // zoom in around the commune: the view changes, the tooltip still finds it
    await page.mouse.wheel(0, -400);
    await page.waitForTimeout(100);
    out.transform = await page.$eval('#viewport', (g) => g.getAttribute('transform'));
    const again = await page.evaluate((c) => window.maillageReport.pointOf(c), code);
    await page.mouse.move(again[0], again[1]);
    out.tooltipAfterZoom = await page.locator('#tooltip').innerText();
    await page.click('[data-zoom="reset"]');
  }
  await page.uncheck('[data-layer="white-zones"]');
  out.whiteZonesHidden = await page.$eval('#layer-white-zones', (g) => getComputedStyle(g).display === 'none');
  await page.check('[data-layer="white-zones"]');
  // sort the CPTS table by population, twice (ascending then descending)
  const header = page.locator('#table-cpts th', { hasText: 'Population' });
  const populations = () => page.$$eval('#table-cpts tbody tr', (rows) =>
    rows.map((r) => Number(r.cells[4].dataset.v)));
  await header.click();
  out.sortedAscending = await populations();
  await header.click();
  out.sortedDescending = await populations();
} catch (e) {
  out.errors.push('driver: ' + (e && e.stack ? e.stack : e));
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
