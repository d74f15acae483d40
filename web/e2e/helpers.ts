import AxeBuilder from "@axe-core/playwright";
import { type APIRequestContext, expect, type Page } from "@playwright/test";

export const PASSWORD = process.env.COLETA_WEB_PASSWORD ?? "";
export const USERS = {
  admin: process.env.COLETA_WEB_ADMIN ?? "",
  operator: process.env.COLETA_WEB_OPERATOR ?? "",
  viewer: process.env.COLETA_WEB_VIEWER ?? "",
  driver: process.env.COLETA_WEB_DRIVER ?? "",
};

/** Sign in through the login page, landing on `path` (the login keeps it as the way back). */
export async function login(page: Page, role: keyof typeof USERS, path = "/pacientes") {
  await page.goto(path);
  await expect(page).toHaveURL(/\/login/);
  await page.getByLabel("E-mail").fill(USERS[role]);
  await page.getByLabel("Senha").fill(PASSWORD);
  await page.getByRole("button", { name: "Entrar" }).click();
  await expect(page).not.toHaveURL(/\/login/);
}

/** Results shown for the search box's current text (not a previous state kept while loading), and
 * the facets beside them (their own request) counted for it too. */
export async function resultsSettled(page: Page, q = "") {
  await expect(page.locator(`[data-results-for="${q.trim()}"]`)).toBeVisible();
  await expect(page.locator('[data-facets-state]:not([data-facets-state="ready"])')).toHaveCount(0);
}

export function resultNames(page: Page) {
  return page.getByTestId("results").locator("[data-patient-id] a").allInnerTexts();
}

export function facet(page: Page, name: string) {
  return page.locator(`[data-facet="${name}"]`);
}

/** The count a facet shows beside a value (found by its label). */
export async function facetCount(page: Page, name: string, label: string): Promise<number> {
  const text = await facet(page, name).locator(`[data-label="${label}"] [data-count]`).innerText();
  return Number(text.replace(/\D/g, ""));
}

/** WCAG 2.2 AA: axe must find nothing. */
export async function expectAccessible(page: Page, context: string) {
  const results = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"])
    .analyze();
  const summary = results.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(" | ")}`);
  expect(summary, `violações de acessibilidade em ${context}`).toEqual([]);
}

/** GET an API path as `role` (a token of its own, not the page's session): what the screens must show. */
export async function apiGet<T = unknown>(request: APIRequestContext, role: keyof typeof USERS, path: string): Promise<T> {
  const token = await request.post("/api/v1/auth/token", { form: { username: USERS[role], password: PASSWORD } });
  expect(token.status()).toBe(200);
  const { access_token } = (await token.json()) as { access_token: string };
  const response = await request.get(path, { headers: { Authorization: `Bearer ${access_token}` } });
  expect(response.status(), path).toBe(200);
  return (await response.json()) as T;
}

/** A day in São Paulo, `offset` days from today (YYYY-MM-DD). */
export function spDay(offset = 0): string {
  const now = new Date(new Date().toLocaleString("en-US", { timeZone: "America/Sao_Paulo" }));
  now.setDate(now.getDate() + offset);
  return `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}-${String(now.getDate()).padStart(2, "0")}`;
}
