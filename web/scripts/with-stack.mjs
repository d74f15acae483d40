// Run a command (Playwright, the screenshots, the bench) against a Coleta of its own:
// `node scripts/with-stack.mjs playwright test` → `python -m tests.web.stack -- npx playwright test`.
import { spawnSync } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const web = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const root = resolve(web, "..");
const python = process.env.PYTHON ?? resolve(root, ".venv/bin/python");
const [cmd, ...args] = process.argv.slice(2);
const command = cmd === "playwright"
  // Run from the repository root: point Playwright at its config here.
  ? [resolve(web, "node_modules/.bin/playwright"), args[0] ?? "test", "--config", resolve(web, "playwright.config.ts"), ...args.slice(1)]
  : [cmd, ...args];
const result = spawnSync(python, ["-m", "tests.web.stack", "--", ...command], {
  cwd: root, stdio: "inherit", env: { ...process.env, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: "1" },
});
process.exit(result.status ?? 1);
