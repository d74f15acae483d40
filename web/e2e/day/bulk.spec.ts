import { expect, test } from "@playwright/test";
import { expectAccessible, login, resultsSettled } from "../helpers";

test("a bulk confirm over 'all matching this search', followed to the end", async ({ page }) => {
  await login(page, "operator", "/pacientes?periodo=amanha&neighborhood=copacabana");
  await resultsSettled(page);
  await page.getByRole("link", { name: /^Ação em lote/ }).click();
  await expect(page).toHaveURL(/\/lotes\/novo\?.*neighborhood=copacabana/);
  await expect(page.getByTestId("bulk-target")).toContainText(/Todos os \d+ pacientes? desta busca/);
  await expectAccessible(page, "novo lote");
  await expect(page.getByRole("radio", { name: "Confirmar" })).toBeChecked();
  await page.getByRole("button", { name: "Revisar e iniciar" }).click();
  await page.getByRole("button", { name: "Iniciar lote" }).click();
  await expect(page).toHaveURL(/\/lotes\/[0-9a-f-]{36}/);
  await expect(page.getByTestId("bulk-status")).toHaveText("Concluído", { timeout: 30_000 });
  const value = async (id: string) => Number(await page.locator(`[data-counter="${id}"] [data-value]`).getAttribute("data-value"));
  expect(await value("failed")).toBe(0);
  expect((await value("succeeded")) + (await value("skipped"))).toBeGreaterThan(0);
  await expect(page.getByTestId("bulk-items")).toContainText(/Feito|Ignorado/);
  await expectAccessible(page, "lote concluído");

  await page.getByRole("link", { name: "← Ações em lote" }).click();
  await expect(page.getByRole("link", { name: "Confirmar" }).first()).toBeVisible();
});

test("visits picked on the board become a bulk export to download", async ({ page }) => {
  await login(page, "operator", "/agenda");
  await page.getByRole("button", { name: "Selecionar visitas" }).click();
  const boxes = page.getByTestId("board").getByRole("checkbox");
  await boxes.nth(0).check();
  await boxes.nth(1).check();
  await expect(page).toHaveURL(/selecao=.*selecao=/);
  await page.getByRole("button", { name: "Ações em lote…" }).click();
  await expect(page.getByText("2 visitas selecionadas na agenda")).toBeVisible();
  await page.getByRole("radio", { name: "Exportar" }).check();
  await page.getByRole("button", { name: "Revisar e iniciar" }).click();
  await page.getByRole("button", { name: "Iniciar lote" }).click();
  await expect(page.getByTestId("bulk-status")).toHaveText("Concluído", { timeout: 30_000 });
  const download = page.waitForEvent("download");
  await page.getByRole("button", { name: "Baixar arquivo" }).click();
  expect((await download).suggestedFilename()).toMatch(/\.csv$/);
});
