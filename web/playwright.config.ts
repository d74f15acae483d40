import { defineConfig } from "@playwright/test";

// Runs inside `python -m tests.web.stack -- …` (scripts/with-stack.mjs), which sets COLETA_WEB_URL.
// Debian's Chromium: Playwright downloads no browser here.
export const CHROMIUM = {
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
};

export default defineConfig({
  testDir: "./e2e",
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL: process.env.COLETA_WEB_URL ?? "http://127.0.0.1:8000",
    locale: "pt-BR",
    timezoneId: "America/Sao_Paulo",
    launchOptions: CHROMIUM,
    trace: "off",
  },
  projects: [
    // Part 1's specs count the seeded registry exactly; the day's specs (e2e/day/) change it
    // (confirmations, bulk jobs, an imported agenda), so they run after, in file order.
    { name: "e2e", testMatch: /.*\.spec\.ts/, testIgnore: [/screens.*\.spec\.ts/, /day\//], use: { viewport: { width: 1366, height: 768 } } },
    { name: "day", testMatch: /day\/.*\.spec\.ts/, dependencies: ["e2e"], use: { viewport: { width: 1366, height: 768 } } },
    { name: "screens", testMatch: /screens.*\.spec\.ts/ },
  ],
});
