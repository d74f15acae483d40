// What bench/web_speed.mjs and bench/web_trace.mjs share: the command line, signing in, Chromium,
// and typing a name into the patient search while timing it to the paint of its results.
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(resolve(root, "web/package.json"));
export const { chromium } = require("@playwright/test");

/** `--name value` and bare `--flag` (true) of the command line. */
export const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith("--")) acc.push([a.slice(2), all[i + 1] && !all[i + 1].startsWith("--") ? all[i + 1] : true]);
  return acc;
}, []));

export const api = (args.api || process.env.COLETA_WEB_URL || "http://127.0.0.1:8000").replace(/\/$/, "");
const user = args.user || process.env.COLETA_WEB_ADMIN || process.env.COLETA_ADMIN_EMAIL || "admin@coleta.local";
const password = args.password || process.env.COLETA_WEB_PASSWORD || process.env.COLETA_ADMIN_PASSWORD || "coleta-dev-admin";
export const KEY_DELAY = 60;
export const LAUNCH = {
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
};

export async function token() {
  const response = await fetch(`${api}/api/v1/auth/token`, {
    method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ username: user, password }),
  });
  if (!response.ok) throw new Error(`login falhou (${response.status}): ${await response.text()}`);
  return response.json();
}

/** The web app's stored session for a token answer (put in localStorage before the app loads). */
export function sessionOf(body) {
  const now = Date.now();
  return JSON.stringify({
    accessToken: body.access_token, accessExpiresAt: now + body.expires_in * 1000,
    refreshToken: body.refresh_token, refreshExpiresAt: now + body.refresh_expires_in * 1000,
  });
}

/** A signed-in page on the patient search at a laptop's size, its first results shown. */
export async function searchPage(browser, auth) {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: "pt-BR", timezoneId: "America/Sao_Paulo" });
  await context.addInitScript((s) => localStorage.setItem("coleta.session", s), sessionOf(auth));
  const page = await context.newPage();
  await page.goto(`${api}/pacientes`);
  await page.locator('[data-results-for=""]').waitFor();
  return { context, page };
}

/**
 * Clear the box, type `q` at KEY_DELAY a key and time it, in ms from the last keydown: `total` to
 * the results painted, `frameAfter` (the earlier measure), and the parts (`wait` until the search
 * leaves, `request`, `render`); `responseEnd` and `painted` on the page's clock.
 */
export async function typeAndTime(page, q) {
  const box = page.getByTestId("search-box");
  await box.fill("");
  await page.locator('[data-results-for=""]').waitFor();
  await page.evaluate((target) => {
    const bench = { lastKey: 0, painted: 0, frameAfter: 0, target };
    window.__bench = bench;
    performance.clearResourceTimings(); // the buffer holds 250 entries: keep only this query's
    const onKey = () => { bench.lastKey = performance.now(); };
    document.addEventListener("keydown", onKey, { capture: true });
    const seen = () => document.querySelector(`[data-results-for="${CSS.escape(target)}"]`);
    // When the results were painted: Chromium's own time for the frame that first showed their
    // text (Element Timing, renderTime), asked of every cell the results' commit added, before
    // that frame is rendered (the attribute is not retroactive).
    const added = [];
    const painted = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        if (entry.identifier === "bench-results") bench.painted = Math.max(bench.painted, entry.renderTime || entry.loadTime);
      }
    });
    painted.observe({ type: "element" });
    const observer = new MutationObserver((records) => {
      for (const record of records) for (const node of record.addedNodes) if (node.nodeType === 1) added.push(node);
      if (!bench.frameAfter && bench.lastKey && seen()) {
        observer.disconnect();
        document.removeEventListener("keydown", onKey, { capture: true });
        const results = seen();
        const cells = added.filter((node) => results.contains(node))
          .flatMap((node) => [node, ...node.querySelectorAll("td, a, p, span")]);
        for (const cell of cells) cell.setAttribute("elementtiming", "bench-results");
        if (!cells.length) results.querySelectorAll("p, span").forEach((el) => el.setAttribute("elementtiming", "bench-results"));
        // The older measure, kept for comparison: the frame that shows the results, then the first
        // task after it (later than the paint by whatever tasks were queued before it).
        requestAnimationFrame(() => setTimeout(() => {
          bench.frameAfter = performance.now();
          // Entries are delivered after the frame; none (nothing new painted): the older measure.
          setTimeout(() => { painted.disconnect(); if (!bench.painted) bench.painted = bench.frameAfter; bench.done = true; }, 100);
        }, 0));
      }
    });
    observer.observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ["data-results-for"] });
  }, q.trim());
  await box.pressSequentially(q, { delay: KEY_DELAY });
  await page.waitForFunction(() => window.__bench.done, undefined, { timeout: 30_000 });
  return page.evaluate(() => {
    const { painted, frameAfter, lastKey, target } = window.__bench;
    // Where the time went: the search request of exactly this text (not the suggestions').
    const request = performance.getEntriesByType("resource").filter((e) => {
      if (!e.name.includes("/api/v1/patients?")) return false;
      return new URL(e.name).searchParams.get("q") === target;
    }).pop();
    return {
      total: painted - lastKey,
      frameAfter: frameAfter - lastKey,
      wait: request ? request.startTime - lastKey : NaN,
      request: request ? request.responseEnd - request.startTime : NaN,
      render: request ? painted - request.responseEnd : NaN,
      responseEnd: request ? request.responseEnd : NaN,
      painted,
    };
  });
}
