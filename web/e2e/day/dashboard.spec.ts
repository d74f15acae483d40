import { expect, type Page, test } from "@playwright/test";
import { expectAccessible, login } from "../helpers";

async function kpi(page: Page, id: string): Promise<number> {
  return Number(await page.locator(`[data-kpi="${id}"] [data-value]`).getAttribute("data-value"));
}

function tomorrow(): string {
  const now = new Date(new Date().toLocaleString("en-US", { timeZone: "America/Sao_Paulo" }));
  now.setDate(now.getDate() + 1);
  return `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}-${String(now.getDate()).padStart(2, "0")}`;
}

test("staff land on the dashboard; logging an attempt in the queue moves its count", async ({ page }) => {
  await login(page, "operator", "/");
  await expect(page).toHaveURL(/\/painel/);
  await expect(page.locator('[data-kpi="visits"] [data-value]')).toBeVisible();
  await expect(page.locator("[data-car]").first()).toBeVisible();
  await expectAccessible(page, "painel");

  const day = tomorrow();
  await page.goto(`/painel?data=${day}`);
  await expect(page.locator('[data-kpi="visits"] [data-value]')).toBeVisible();
  const confirmed = await kpi(page, "confirmed");
  const pending = await kpi(page, "pending");
  expect(pending).toBeGreaterThan(0);

  await page.getByRole("navigation", { name: "Principal" }).getByRole("link", { name: "Confirmações" }).click();
  await expect(page.getByRole("heading", { name: "A confirmar amanhã" })).toBeVisible();
  await expectAccessible(page, "confirmações");
  const queue = page.getByTestId("queue");
  const row = queue.locator("[data-visit-id]").first();
  const visitId = await row.getAttribute("data-visit-id");
  await row.getByRole("button", { name: "Confirmou" }).click();
  await expect(page.getByTestId("last-done")).toContainText("Confirmou (");
  // Confirmed visits leave the queue once the index has the change.
  await expect(queue.locator(`[data-visit-id="${visitId}"]`)).toHaveCount(0, { timeout: 15_000 });

  await page.goto(`/painel?data=${day}`);
  await expect.poll(() => kpi(page, "confirmed"), { timeout: 20_000 }).toBe(confirmed + 1);
  expect(await kpi(page, "pending")).toBe(pending - 1);
});

test("rates by group and period live in the URL", async ({ page }) => {
  await login(page, "operator", "/painel");
  await page.getByRole("radiogroup", { name: "Agrupar por" }).getByText("Bairro").click();
  await expect(page).toHaveURL(/grupo=neighborhood/);
  await page.getByRole("radiogroup", { name: "Período" }).getByText("7 dias").click();
  await expect(page).toHaveURL(/periodo=7/);
  await expect(page.getByTestId("rates-table")).toBeVisible();
  await page.getByRole("heading", { name: "Últimos 7 dias" }).scrollIntoViewIfNeeded();
  await expect(page.locator(".recharts-surface").first()).toBeVisible();
  await expectAccessible(page, "painel: taxas e tendência");
});
