// Runs last of the day's specs: the imported agenda adds patients and cars to the seeded registry.
import { expect, test } from "@playwright/test";
import { readFileSync } from "node:fs";
import { expectAccessible, login } from "../helpers";
import { sample } from "../samples";

test("drop the simplified agenda, watch it run, read the report", async ({ page }) => {
  await login(page, "operator", "/importacoes");
  await expect(page.getByTestId("imports-table").or(page.getByText("Nenhuma importação ainda."))).toBeVisible();
  await expectAccessible(page, "importações");
  const file = sample("agenda_simplificada.xlsx");
  // A real drop on the zone: a DataTransfer holding the file.
  const transfer = await page.evaluateHandle(({ name, data }) => {
    const dt = new DataTransfer();
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    dt.items.add(new File([bytes], name, { type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" }));
    return dt;
  }, { name: "agenda_simplificada.xlsx", data: readFileSync(file).toString("base64") });
  const zone = page.getByTestId("dropzone");
  await zone.dispatchEvent("dragenter", { dataTransfer: transfer });
  await zone.dispatchEvent("drop", { dataTransfer: transfer });
  await expect(page).toHaveURL(/\/importacoes\/[0-9a-f-]{36}/);
  await expect(page.getByTestId("import-status")).toHaveText("Concluída", { timeout: 60_000 });
  await expect(page.getByTestId("import-progress")).toHaveText("36 de 36 linhas");
  const count = (id: string) => page.locator(`[data-count="${id}"] [data-value]`);
  await expect(count("imported")).toHaveAttribute("data-value", "36");
  await expect(count("visits_created")).toHaveAttribute("data-value", "36");
  await expect(count("errors")).toHaveAttribute("data-value", "0");
  await expectAccessible(page, "relatório da importação");
  // Per car and day: the "Novas" column adds up to the 36 new visits.
  const news = await page.getByTestId("by-car-day").locator("tbody tr td:nth-child(3)").allInnerTexts();
  expect(news.reduce((n, t) => n + Number(t), 0)).toBe(36);
  // The count is a link to the visits themselves.
  await count("visits_created").getByRole("link").click();
  await expect(page).toHaveURL(/mudanca=created/);
  const changed = page.getByTestId("changed-visits");
  await expect(changed.getByRole("heading", { name: "Visitas novas" })).toBeVisible();
  await expect(changed.locator("tbody tr")).toHaveCount(36);
  await expectAccessible(page, "visitas novas da importação");
});

test("the quirky CSV: its error rows in the issues table, filtered in the URL", async ({ page }) => {
  await login(page, "operator", "/importacoes");
  await page.locator('[data-testid="dropzone"] input[type=file]').setInputFiles(sample("agenda_exportada_excel_br.csv"));
  await expect(page.getByTestId("import-status")).toHaveText("Concluída", { timeout: 60_000 });
  await expect(page.locator('[data-count="errors"] [data-value]')).toHaveAttribute("data-value", "2");
  const table = page.getByTestId("issues-table");
  await expect(table).toBeVisible();
  await page.getByRole("combobox", { name: "Tipo" }).click();
  await page.getByRole("option", { name: "Erros" }).click();
  await expect(page).toHaveURL(/nivel=error/);
  await expect(table.locator("tbody tr")).toHaveCount(2);
  await expect(page.getByTestId("issues-total")).toHaveAttribute("data-value", "2");
  await expectAccessible(page, "problemas da importação");
  // Rows that are not home visits: listed with their reason, counted by reason.
  const skipped = Number(await page.locator('[data-count="skipped"] [data-value]').getAttribute("data-value"));
  expect(skipped).toBeGreaterThan(0);
  await page.getByRole("combobox", { name: "Tipo" }).click();
  await page.getByRole("option", { name: "Linhas ignoradas" }).click();
  await expect(page).toHaveURL(/nivel=skipped/);
  await expect(table.locator("tbody tr")).toHaveCount(skipped);
  const byReason = await page.getByTestId("skipped-table").locator("tbody tr td:nth-child(2)").allInnerTexts();
  expect(byReason.reduce((n, t) => n + Number(t), 0)).toBe(skipped);
  await page.getByRole("link", { name: "← Todas as importações" }).click();
  await expect(page.getByTestId("imports-table")).toContainText("agenda_exportada_excel_br.csv");
  await expect(page.getByTestId("imports-table")).toContainText("agenda_simplificada.xlsx");
});
