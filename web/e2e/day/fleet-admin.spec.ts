import { expect, test } from "@playwright/test";
import { expectAccessible, login } from "../helpers";

test("fleet: a team for the car without one, and a 409 in words when a person is taken", async ({ page }) => {
  await login(page, "operator", "/frota");
  const car3 = page.locator("[data-team-car]").filter({ hasText: "CARRO 3" });
  await expect(car3).toContainText("Sem equipe");
  await expectAccessible(page, "frota: equipes");
  // Roberto Alves already drives CARRO 2 today: the API refuses, and says so.
  await car3.getByRole("combobox", { name: "Motorista" }).click();
  await page.getByRole("option", { name: "Roberto Alves" }).click();
  await car3.getByRole("combobox", { name: "Coletora" }).click();
  await page.getByRole("option", { name: "Vânia Castro" }).click();
  await car3.getByRole("button", { name: "Salvar" }).click();
  await expect(car3.getByRole("alert")).toBeVisible();
  await car3.getByRole("combobox", { name: "Motorista" }).click();
  await page.getByRole("option", { name: "Sérgio Nunes" }).click();
  await car3.getByRole("button", { name: "Salvar" }).click();
  await expect(car3).toContainText("Equipe definida");
  for (const tab of ["Carros", "Motoristas", "Coletoras"]) {
    await page.getByRole("tab", { name: tab }).click();
    await expect(page.getByRole("tabpanel").getByRole("table")).toBeVisible();
    await expectAccessible(page, `frota: ${tab}`);
  }
});

test("the route sheet opens from the app in a new tab", async ({ page, context, playwright }) => {
  await login(page, "operator", "/frota");
  const car1 = page.locator("[data-team-car]").filter({ hasText: "CARRO 1" });
  const popup = context.waitForEvent("page");
  await car1.getByRole("button", { name: "Folha de rota" }).click();
  const sheet = await popup;
  await expect(sheet.locator("body")).toContainText("CARRO 1", { timeout: 15_000 });
  // A signed link of the API: it opens without the session's token (another browser, a print).
  expect(sheet.url()).toMatch(/\/api\/v1\/route-sheets\/[^/]+$/);
  const bare = await playwright.request.newContext();
  const response = await bare.get(sheet.url());
  expect(response.status()).toBe(200);
  expect(await response.text()).toContain("CARRO 1");
  await bare.dispose();
});

test("admin: users, a patient's audit trail, sync status and a reindex", async ({ page }) => {
  await login(page, "admin", "/admin");
  await expect(page.getByTestId("users-table")).toContainText("motorista@coleta.test");
  await expectAccessible(page, "admin: usuários");
  await page.getByRole("tab", { name: "Auditoria" }).click();
  await page.getByRole("combobox", { name: "Paciente" }).pressSequentially("josefa", { delay: 30 });
  await page.getByRole("option", { name: /Josefa/ }).first().click();
  await expect(page).toHaveURL(/paciente=/);
  await expect(page.getByTestId("audit-table")).toContainText("Cadastrou");
  await expectAccessible(page, "admin: auditoria");
  // Everyone's events, by one person: every row is theirs.
  await page.getByRole("button", { name: "Limpar filtros" }).click();
  await expect(page).not.toHaveURL(/paciente=/);
  await page.getByRole("combobox", { name: "Quem" }).click();
  await page.getByRole("option", { name: "Olga Operadora" }).click();
  await expect(page).toHaveURL(/quem=/);
  const who = page.getByTestId("audit-table").locator("tbody tr td:nth-child(2)");
  await expect(who.first()).toBeVisible();
  expect(new Set(await who.allInnerTexts())).toEqual(new Set(["Olga Operadora"]));
  await page.getByRole("tab", { name: "Sincronização da busca" }).click();
  await expect(page.getByTestId("sync-table")).toContainText("Pacientes");
  await expect(page.locator('[data-reindex="patients"]')).toHaveCount(0);
  await page.getByRole("button", { name: "Reconstruir índice de pacientes" }).click();
  // The job is followed to its end: copied rows, the swap, done; the counts still match.
  const card = page.locator('[data-reindex="patients"]');
  await expect(card).toBeVisible();
  await expect(page.getByTestId("reindex-status-patients")).toHaveText("Concluída", { timeout: 60_000 });
  await expect(card.getByRole("status")).toContainText(/(\d+) de \1 linhas/);
  await expect(page.getByTestId("sync-table").locator("tr", { hasText: "Pacientes" })).toContainText("Em dia", { timeout: 15_000 });
  await expectAccessible(page, "admin: sincronização");
});

test("an operator has no admin menu and the viewer no operator actions", async ({ page }) => {
  await login(page, "viewer", "/agenda");
  const menu = page.getByRole("navigation", { name: "Principal" });
  await expect(menu.getByRole("link")).toHaveText(["Painel", "Agenda", "Pacientes", "Importações", "Frota"]);
  await expect(page.getByRole("button", { name: "Nova visita" })).toHaveCount(0);
  await expectAccessible(page, "agenda (consulta)");
});
