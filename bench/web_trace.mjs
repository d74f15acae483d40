// Where the frame after a keystroke's answer goes, in Chromium (a diagnosis, figures printed).
//
//   node bench/web_trace.mjs --api http://127.0.0.1:8012 --user E-MAIL --password … [--queries 30]
//
// Types names into the search box as bench/web_speed.mjs does, with Chromium's timeline and V8's
// sampling profiler on, and splits the time from the search's answer (responseEnd) to the results
// painted into what the renderer's main thread did: script, style, layout, paint, or nothing
// (waiting for the next frame). The script part is split further by function (self time), so a
// build without minification (`npx vite build --minify false`) names them.
import { args, chromium, LAUNCH, searchPage, token, typeAndTime } from "./web_typing.mjs";

const count = Number(args.queries || 30);
const FIRST = ["maria", "jose", "ana", "joao", "antonio", "francisca", "carlos", "paulo", "juliana", "marcos"];
const LAST = ["silva", "santos", "oliveira", "souza", "lima", "pereira", "ferreira", "costa", "rodrigues", "almeida"];
const queries = Array.from({ length: count + 3 }, (_, i) => `${FIRST[i % 10]} ${LAST[(i * 3 + 1) % 10]}`);

const browser = await chromium.launch(LAUNCH);
const { context, page } = await searchPage(browser, await token());
const cdp = await context.newCDPSession(page);

// A query timed as web_speed.mjs times it, and a mark on the trace's clock taken at a known moment
// of the page's clock (performance.now()), to place its window in the trace.
async function typeOne(q) {
  const timed = await typeAndTime(page, q);
  const sync = await page.evaluate(() => { const now = performance.now(); performance.mark("bench-sync"); return now; });
  return { total: timed.total, from: timed.responseEnd, to: timed.painted, sync };
}

for (const q of queries.slice(0, 3)) await typeOne(q); // warm up
await cdp.send("Profiler.enable");
await cdp.send("Profiler.setSamplingInterval", { interval: 200 });
await browser.startTracing(page, { categories: ["devtools.timeline", "disabled-by-default-devtools.timeline", "blink.user_timing"] });
await cdp.send("Profiler.start");
const windows = [];
for (const q of queries.slice(3)) windows.push(await typeOne(q));
const { profile } = await cdp.send("Profiler.stop");
const trace = JSON.parse((await browser.stopTracing()).toString());
await browser.close();

const events = trace.traceEvents ?? trace;
const marks = events.filter((e) => e.name === "bench-sync").sort((a, b) => a.ts - b.ts);
const mainTid = marks[0]?.tid;
const pid = marks[0]?.pid;
// performance.now() (ms) → trace time (µs), from each query's own mark.
const spans = windows.map((w, i) => {
  const offset = marks[i].ts - w.sync * 1000;
  return { from: w.from * 1000 + offset, to: w.to * 1000 + offset, total: w.total };
});
const main = events.filter((e) => e.pid === pid && e.tid === mainTid && e.ph === "X" && e.dur !== undefined);
const TOP = new Set(["RunTask", "ThreadControllerImpl::RunTask"]);
const KIND = {
  script: ["FunctionCall", "EventDispatch", "TimerFire", "FireAnimationFrame", "RunMicrotasks", "v8.callFunction",
    "V8.Execute", "EvaluateScript", "XHRReadyStateChange", "v8.run", "RunMicrotasksCallback"],
  style: ["UpdateLayoutTree", "RecalculateStyles", "ParseAuthorStyleSheet", "ScheduleStyleRecalculation"],
  layout: ["Layout", "UpdateLayerTree", "IntersectionObserverController::computeIntersections", "ResizeObserverController::DeliverObservations"],
  paint: ["PrePaint", "Paint", "PaintImage", "Layerize", "Commit", "CompositeLayers", "UpdateLayer", "RasterTask"],
};
const kindOf = (name) => Object.keys(KIND).find((k) => KIND[k].includes(name));
const sums = spans.map(() => ({ busy: 0, script: 0, style: 0, layout: 0, paint: 0 }));
const clip = (e, s) => Math.max(0, Math.min(e.ts + e.dur, s.to) - Math.max(e.ts, s.from));
// Events on one thread nest; one inside another of its kind (a FunctionCall in a TimerFire) is
// already counted by the outer one.
const coveredUntil = { busy: 0, script: 0, style: 0, layout: 0, paint: 0 };
for (const e of [...main].sort((a, b) => a.ts - b.ts || b.dur - a.dur)) {
  const kind = TOP.has(e.name) ? "busy" : kindOf(e.name);
  if (!kind || e.ts < coveredUntil[kind]) continue;
  coveredUntil[kind] = e.ts + e.dur;
  spans.forEach((s, i) => { sums[i][kind] += clip(e, s); });
}

// Self time by function inside the windows, from the sampling profile (same clock as the trace).
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map();
const inclusive = new Map();
const parents = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parents.set(c, n.id);
let t = profile.startTime;
profile.samples.forEach((id, i) => {
  t += profile.timeDeltas[i];
  if (!spans.some((s) => t >= s.from && t <= s.to)) return;
  const frame = nodes.get(id).callFrame;
  const key = `${frame.functionName || "(anônima)"} ${frame.url.split("/").pop()}:${frame.lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + profile.timeDeltas[i]);
  // Components (capitalised functions) with everything they called, each counted once per sample.
  const seenNames = new Set();
  for (let n = id; n !== undefined; n = parents.get(n)) {
    const name = nodes.get(n).callFrame.functionName;
    if (/^[A-Z_]/.test(name) && !seenNames.has(name)) {
      seenNames.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + profile.timeDeltas[i]);
    }
  }
});

const median = (values) => { const v = [...values].sort((a, b) => a - b); return v[Math.floor(v.length / 2)]; };
const msOf = (us) => (us / 1000).toFixed(1);
console.log(`${spans.length} buscas: tecla → pintado p50 ${median(spans.map((s) => s.total)).toFixed(0)} ms`);
console.log(`Da resposta à pintura (p50 de cada parte, ms): janela ${msOf(median(spans.map((s) => s.to - s.from)))}`
  + ` · thread ocupada ${msOf(median(sums.map((s) => s.busy)))}`
  + Object.keys(KIND).map((k) => ` · ${k} ${msOf(median(sums.map((s) => s[k])))}`).join(""));
const window_us = spans.reduce((a, s) => a + (s.to - s.from), 0);
console.log(`Funções (tempo próprio, soma nas janelas, ${(window_us / 1000).toFixed(0)} ms ao todo):`);
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(args.top || 30))) console.log(`  ${msOf(v).padStart(8)}  ${k}`);

console.log("Componentes (com o que chamaram):");
for (const [k, v] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, Number(args.top || 30))) console.log(`  ${msOf(v).padStart(8)}  ${k}`);

if (args.tasks) {
  // Each query's window, task by task: start (ms after the answer), duration, and what it was.
  spans.forEach((s, i) => {
    const tasks = main.filter((e) => TOP.has(e.name) && e.ts + e.dur > s.from && e.ts < s.to).sort((a, b) => a.ts - b.ts);
    const paints = main.filter((e) => e.name === "Paint" && e.ts > s.from && e.ts < s.to).map((e) => msOf(e.ts - s.from));
    console.log(`busca ${i + 1}: janela ${msOf(s.to - s.from)} ms; Paint em ${paints.join(", ") || "—"}`);
    for (const task of tasks) {
      const inner = main.filter((e) => e.ts >= task.ts && e.ts + e.dur <= task.ts + task.dur && kindOf(e.name))
        .sort((a, b) => b.dur - a.dur).slice(0, 3).map((e) => `${e.name} ${msOf(e.dur)}${e.args?.data?.functionName ? `(${e.args.data.functionName})` : ""}`);
      console.log(`  ${msOf(task.ts - s.from).padStart(7)} +${msOf(task.dur).padStart(6)}  ${inner.join(" · ")}`);
    }
  });
}
