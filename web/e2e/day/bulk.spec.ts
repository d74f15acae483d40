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
  // The review says what the job would touch now: that many visits become that many items.
  const preview = page.getByTestId("bulk-preview");
  await expect(preview).toContainText(/Agora: \d+ visitas? de \d+ pacientes?/);
  const visits = Number(await preview.getAttribute("data-visits"));
  expect(visits).toBeGreaterThan(0);
  await expectAccessible(page, "revisão do lote");
  await page.getByRole("button", { name: "Iniciar lote" }).click();
  await expect(page).toHaveURL(/\/lotes\/[0-9a-f-]{36}/);
  await expect(page.getByTestId("bulk-status")).toHaveText("Concluído", { timeout: 30_000 });
  const value = async (id: string) => Number(await page.locator(`[data-counter="${id}"] [data-value]`).getAttribute("data-value"));
  expect(await value("failed")).toBe(0);
  expect((await value("succeeded")) + (await value("skipped"))).toBe(visits);
  await expect(page.getByTestId("bulk-progress")).toHaveText(`${visits} de ${visits} ${visits === 1 ? "item" : "itens"}`);
  await expect(page.getByTestId("bulk-items")).toContainText(/Feito|Ignorado/);
  // Each item names its patient and says when and in which car the visit is.
  const firstItem = page.getByTestId("bulk-items").locator("tbody tr").first();
  await expect(firstItem.getByRole("link")).not.toHaveText("Paciente");
  await expect(firstItem).toContainText(/\d{2}\/\d{2}\/\d{4}.*CARRO \d/);
  await expectAccessible(page, "lote concluído");

  await page.getByRole("link", { name: "← Ações em lote" }).click();
  const list = page.getByTestId("bulk-list");
  await expect(list.getByRole("link", { name: "Confirmar" }).first()).toBeVisible();
  await page.getByRole("combobox", { name: "Situação" }).click();
  await page.getByRole("option", { name: "Concluído" }).click();
  await expect(page).toHaveURL(/situacao=done/);
  await expect(list.getByRole("link", { name: "Confirmar" }).first()).toBeVisible();
  await expect(list.getByRole("button", { name: /^Cancelar/ })).toHaveCount(0);
  await expectAccessible(page, "lista de lotes");
});

test("patients ticked in the search become a bulk job of their own (patient ids)", async ({ page }) => {
  await login(page, "operator", "/pacientes?q=josefa");
  await resultsSettled(page, "josefa");
  const rows = page.getByTestId("results").locator("[data-patient-id]");
  const ids = [await rows.nth(0).getAttribute("data-patient-id")];
  await rows.nth(0).getByRole("checkbox").check();
  await page.getByTestId("search-box").fill("benedita");
  await resultsSettled(page, "benedita");
  ids.push(await rows.nth(0).getAttribute("data-patient-id"));
  await rows.nth(0).getByRole("checkbox").check();
  await page.getByRole("link", { name: "Marcados: ação em lote (2)" }).click();
  await expect(page).toHaveURL(/\/lotes\/novo\?.*paciente=/);
  await expect(page.getByTestId("bulk-target")).toHaveText(/^2 pacientes marcados na busca/);
  await page.getByRole("radio", { name: "Adicionar etiquetas" }).check();
  await page.getByRole("combobox", { name: "Etiquetas" }).fill("lote-marcados");
  await page.getByRole("combobox", { name: "Etiquetas" }).press("Enter");
  await page.getByRole("button", { name: "Revisar e iniciar" }).click();
  await expect(page.getByTestId("bulk-preview")).toHaveAttribute("data-patients", "2");
  await page.getByRole("button", { name: "Iniciar lote" }).click();
  await expect(page.getByTestId("bulk-status")).toHaveText("Concluído", { timeout: 30_000 });
  await expect(page.locator('[data-counter="succeeded"] [data-value]')).toHaveAttribute("data-value", "2");
  for (const id of ids) {
    await page.goto(`/pacientes/${id}`);
    await expect(page.getByText("lote-marcados").first()).toBeVisible();
  }
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
