// Speed of the staff web app in Chromium (a benchmark: figures printed, never asserted).
//
//   node bench/web_speed.mjs --api http://127.0.0.1:8000 [--user E-MAIL --password …] [--queries 60] [--others 20]
//   node bench/web_speed.mjs --stack        # a small seeded Coleta of its own (tests/web/stack.py)
//   make bench-web [API=http://…]
//
// 1. Keystroke to results painted: a name typed at 60 ms a key into the search box (so the
//    200 ms debounce is included), from the last keydown to the frame that first showed the
//    results for exactly that text, as Chromium times it (Element Timing's renderTime of the
//    rows' text); p50/p95/p99 over --queries typed queries (typo'd names of the registry's own
//    patients, plus common names). The earlier measure (the first task after that frame, later
//    by whatever tasks were queued before it) is printed beside it.
//    `--others N`: other staff search meanwhile, N searches a second (open loop, names of the
//    registry, none of them the typed ones), as on a day of work; without it the stack is idle
//    between keystrokes (see 4).
// 2. First load (cold cache, signed in): navigation to the first results painted, and the
//    JavaScript and CSS the first screen loaded, gzip-compressed as served over the wire.
// 3. The same for staff's home, the dashboard (`/`), up to the day's numbers painted (the trend
//    chart's chunk, loaded when scrolled to, is not part of it).
// 4. What an idle machine adds: `/healthz` (no I/O) back to back and after 200 ms of idle, the
//    debounce's pause. On a VM, each process a request crosses (API, OpenSearch) may pay
//    milliseconds after a pause that the same request does not pay on a busy server.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { api, args, chromium, KEY_DELAY, LAUNCH, root, searchPage, sessionOf, token, typeAndTime } from "./web_typing.mjs";

if (args.stack && !process.env.COLETA_WEB_URL) {
  // Re-run this script inside a stack of its own, signed in as its admin.
  const python = process.env.PYTHON ?? resolve(root, ".venv/bin/python");
  const rest = process.argv.slice(2).filter((a) => a !== "--stack");
  const run = spawnSync(python, ["-m", "tests.web.stack", "--", process.execPath, fileURLToPath(import.meta.url), "--stack", ...rest],
    { cwd: root, stdio: "inherit" });
  process.exit(run.status ?? 1);
}

const count = Number(args.queries || 60);
const loads = Number(args.loads || 7);
const others = Number(args.others || 0);

// A slip like staff make: a letter dropped, doubled or swapped, never the first.
function slip(word, seed) {
  if (word.length < 5) return word;
  const i = 1 + (seed % (word.length - 2));
  switch (seed % 3) {
    case 0: return word.slice(0, i) + word.slice(i + 1);
    case 1: return word.slice(0, i) + word[i] + word.slice(i);
    default: return word.slice(0, i) + word[i + 1] + word[i] + word.slice(i + 2);
  }
}

async function registryNames(auth) {
  const names = new Set();
  for (const first of ["maria", "jose", "ana", "joao", "antonio", "francisca", "carlos", "paulo", "juliana", "marcos"]) {
    const r = await fetch(`${api}/api/v1/patients?q=${first}&page_size=20`, { headers: { Authorization: `Bearer ${auth.access_token}` } });
    if (!r.ok) throw new Error(`busca falhou (${r.status})`);
    for (const item of (await r.json()).items) names.add(item.name);
  }
  return [...names];
}

function typedQueries(list) {
  const out = [];
  for (let i = 0; i < count; i++) {
    const name = list.length ? list[(i * 7919) % list.length] : "maria silva";
    const words = name.toLowerCase().normalize("NFD").replace(/\p{Diacritic}/gu, "").split(/\s+/).filter((w) => w.length > 2);
    const picked = words.length > 1 ? [words[0], words[words.length - 1]] : words;
    out.push(picked.map((w, j) => (j === picked.length - 1 && i % 2 === 0 ? slip(w, i) : w)).join(" "));
  }
  return out;
}

function pct(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
// Other staff searching at `rate` a second until stopped (open loop: a slow answer never slows the rate).
function otherStaff(auth, names, rate) {
  if (!rate) return async () => ({ sent: 0, failed: 0 });
  let sent = 0, failed = 0;
  const pending = new Set();
  const timer = setInterval(() => {
    const q = names[sent++ % names.length];
    const request = fetch(`${api}/api/v1/patients?q=${encodeURIComponent(q)}&page_size=25&facets=false`, {
      headers: { Authorization: `Bearer ${auth.access_token}` },
    }).then((r) => { if (!r.ok) failed++; return r.arrayBuffer(); }).catch(() => { failed++; });
    pending.add(request);
    request.finally(() => pending.delete(request));
  }, 1000 / rate);
  return async () => { clearInterval(timer); await Promise.all(pending); return { sent, failed }; };
}

// /healthz's time back to back and after `idle` ms with nothing to do, p50 of `count`.
async function wakeUp(idle, count = 15) {
  const times = [];
  for (let i = 0; i < count; i++) {
    await new Promise((done) => setTimeout(done, idle));
    const started = performance.now();
    await (await fetch(`${api}/healthz`)).arrayBuffer();
    times.push(performance.now() - started);
  }
  return pct(times, 50);
}

const ms = (v) => (typeof v === "number" && !Number.isNaN(v) ? `${v.toFixed(0)} ms` : "—");
const kb = (v) => `${(v / 1024).toFixed(1)} kB`;

async function typing(browser, auth, list) {
  const { context, page } = await searchPage(browser, auth);
  const times = [];
  for (const q of list) times.push(await typeAndTime(page, q));
  await context.close();
  return times;
}

async function firstLoad(browser, auth, path = "/pacientes", ready = '[data-results-for=""]') {
  const results = [];
  for (let i = 0; i < loads; i++) {
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: "pt-BR" });
    await context.addInitScript((s) => localStorage.setItem("coleta.session", s), sessionOf(auth));
    const page = await context.newPage();
    const assets = [];
    page.on("response", async (response) => {
      const type = response.request().resourceType();
      if (type === "script" || type === "stylesheet") assets.push({ type, body: response.body().catch(() => Buffer.alloc(0)) });
    });
    await page.goto(`${api}${path}`);
    await page.locator(ready).waitFor();
    const painted = await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => setTimeout(() => done(performance.now()), 0))));
    const sizes = { script: 0, stylesheet: 0 };
    for (const asset of assets) sizes[asset.type] += gzipSync(await asset.body, { level: 9 }).length;
    results.push({ painted, js: sizes.script, css: sizes.stylesheet });
    await context.close();
  }
  return results;
}

const auth = await token();
const names = await registryNames(auth);
const list = typedQueries(names);
const typedSet = new Set(list);
const otherNames = names.map((n) => n.toLowerCase()).filter((n) => !typedSet.has(n)).reverse();
const wake = { busy: await wakeUp(0), idle: await wakeUp(200) };
const browser = await chromium.launch(LAUNCH);
// One throwaway pass, so the figures are not the API's and the browser's cold start.
await typing(browser, auth, list.slice(0, 3));
const stopOthers = otherStaff(auth, otherNames, others);
const breakdown = await typing(browser, auth, list);
const otherSearches = await stopOthers();
const typed = breakdown.map((b) => b.total);
const frameAfter = breakdown.map((b) => b.frameAfter);
const part = (key) => pct(breakdown.map((b) => b[key]).filter((v) => !Number.isNaN(v)), 50);
const loaded = await firstLoad(browser, auth);
const home = await firstLoad(browser, auth, "/", '[data-kpi="visits"] [data-value]');
await browser.close();

const result = {
  api, when: new Date().toISOString(), queries: typed.length, key_delay_ms: KEY_DELAY, debounce_ms: 200,
  keystroke_to_paint_ms: { p50: pct(typed, 50), p95: pct(typed, 95), p99: pct(typed, 99), max: Math.max(...typed) },
  // The measure of the runs before 2026-12-07 (late): the first task after the frame, for comparison.
  keystroke_to_frame_after_ms: { p50: pct(frameAfter, 50), p95: pct(frameAfter, 95), p99: pct(frameAfter, 99) },
  other_staff_searches_per_s: others, other_staff_searches: otherSearches,
  healthz_p50_ms: { back_to_back: wake.busy, after_200ms_idle: wake.idle },
  keystroke_parts_p50_ms: { debounce_and_route: part("wait"), request: part("request"), render_and_paint: part("render") },
  first_load_ms: { p50: pct(loaded.map((l) => l.painted), 50), max: Math.max(...loaded.map((l) => l.painted)) },
  first_screen_gzip_bytes: { js: loaded[0].js, css: loaded[0].css },
  dashboard_first_load_ms: { p50: pct(home.map((l) => l.painted), 50), max: Math.max(...home.map((l) => l.painted)) },
  dashboard_first_screen_gzip_bytes: { js: home[0].js, css: home[0].css },
};
console.log(`\nColeta web — ${api}`);
console.log(`Tecla → resultados pintados (${typed.length} buscas digitadas a ${KEY_DELAY} ms/tecla, debounce de 200 ms incluído; ${
  others ? `outras ${others} buscas/s da equipe ao mesmo tempo: ${otherSearches.sent} enviadas, ${otherSearches.failed} com erro` : "nenhuma outra busca ao mesmo tempo"}):`);
console.log(`  p50 ${ms(result.keystroke_to_paint_ms.p50)}   p95 ${ms(result.keystroke_to_paint_ms.p95)}   p99 ${ms(result.keystroke_to_paint_ms.p99)}   máx ${ms(result.keystroke_to_paint_ms.max)}`);
console.log(`  (medida anterior, a primeira tarefa depois do quadro: p50 ${ms(result.keystroke_to_frame_after_ms.p50)}   p95 ${ms(result.keystroke_to_frame_after_ms.p95)}   p99 ${ms(result.keystroke_to_frame_after_ms.p99)})`);
console.log(`  p50 por parte: até a requisição sair ${ms(result.keystroke_parts_p50_ms.debounce_and_route)} (debounce incluído) · requisição ${ms(result.keystroke_parts_p50_ms.request)} · render e pintura ${ms(result.keystroke_parts_p50_ms.render_and_paint)}`);
console.log(`  /healthz (sem E/S), p50: seguidas ${ms(wake.busy)} · após 200 ms parado ${ms(wake.idle)} (o que acordar os processos custa nesta máquina)`);
console.log(`Primeira carga (cache vazio, já autenticado, até os primeiros resultados pintados), ${loads} vezes:`);
console.log(`  p50 ${ms(result.first_load_ms.p50)}   máx ${ms(result.first_load_ms.max)}`);
console.log(`Primeira tela, gzip: JS ${kb(result.first_screen_gzip_bytes.js)}   CSS ${kb(result.first_screen_gzip_bytes.css)}`);
console.log(`Painel (início da equipe), até os números do dia pintados: p50 ${ms(result.dashboard_first_load_ms.p50)}   máx ${ms(result.dashboard_first_load_ms.max)}`);
console.log(`  gzip: JS ${kb(result.dashboard_first_screen_gzip_bytes.js)}   CSS ${kb(result.dashboard_first_screen_gzip_bytes.css)}`);
if (args.save) {
  mkdirSync(resolve(root, "bench/results"), { recursive: true });
  const file = resolve(root, `bench/results/web_speed-${result.when.slice(0, 10)}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2) + "\n");
  console.log(`Salvo em ${file}`);
}
