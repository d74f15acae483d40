import { expect, test } from "@playwright/test";
import { expectAccessible, login, resultNames, resultsSettled } from "./helpers";

test("an operator edits a patient and the search shows the change; the API's error lands on its field", async ({ page }) => {
  await login(page, "operator");
  await page.getByTestId("search-box").fill("benedita ramos");
  await resultsSettled(page, "benedita ramos");
  await page.getByRole("link", { name: /Benedita/ }).first().click();
  await expect(page.getByTestId("patient-name")).toHaveText("Benedita Conceição Ramos");
  await expectAccessible(page, "perfil: dados");
  for (const tab of ["Visitas", "Confirmações", "Mensagens"]) {
    await page.getByRole("tab", { name: new RegExp(`^${tab}`) }).click();
    await expectAccessible(page, `perfil: ${tab}`);
  }
  await page.getByRole("tab", { name: /^Dados/ }).click();
  await page.getByRole("button", { name: "Editar dados" }).click();
  await expectAccessible(page, "edição do paciente");

  // An invalid CPF: the API refuses it and the message is shown under the CPF field.
  const cpf = page.getByLabel("CPF");
  const originalCpf = await cpf.inputValue();
  await cpf.fill("111.111.111-11");
  await page.getByRole("button", { name: "Salvar alterações" }).click();
  await expect(cpf).toHaveAttribute("aria-invalid", "true");
  await expect(page.locator('[data-path="cpf"]').locator("xpath=ancestor::div[contains(@class,'mantine-InputWrapper-root')]"))
    .toContainText(/CPF/);

  await cpf.fill(originalCpf);
  await page.getByLabel("Bairro").fill("Cosme Velho");
  await page.getByLabel("Nome completo").fill("Benedita Conceição Ramos Filha");
  await page.getByRole("button", { name: "Salvar alterações" }).click();
  await expect(page.getByTestId("patient-name")).toHaveText("Benedita Conceição Ramos Filha");
  await expect(page.getByTestId("patient-data")).toContainText("Cosme Velho");

  await page.getByRole("link", { name: "← Voltar à busca" }).click();
  const box = page.getByTestId("search-box");
  // The index follows within a second or so: search again until it shows.
  await expect(async () => {
    await box.fill("");
    await resultsSettled(page);
    await box.fill("benedita filha");
    await resultsSettled(page, "benedita filha");
    expect((await resultNames(page))[0]).toBe("Benedita Conceição Ramos Filha");
  }).toPass({ timeout: 15_000 });

  // Register a confirmation attempt for her visit of the day after tomorrow.
  await page.getByRole("link", { name: /Benedita/ }).first().click();
  await page.getByRole("tab", { name: "Confirmações" }).click();
  await page.getByRole("combobox", { name: "Resultado" }).click();
  await page.getByRole("option", { name: "Confirmou" }).click();
  await page.getByRole("button", { name: "Registrar" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Tentativa registrada" })).toBeVisible();
  await expect(page.getByRole("table")).toContainText("Confirmou");
});

test("an admin sees the audit trail of a patient", async ({ page }) => {
  await login(page, "admin");
  await page.getByTestId("search-box").fill("josefa");
  await resultsSettled(page, "josefa");
  await page.getByRole("link", { name: /Josefa/ }).first().click();
  await page.getByRole("tab", { name: "Auditoria" }).click();
  await expect(page.getByRole("tabpanel")).toContainText("Consultou");
  await expect(page.getByRole("tabpanel")).toContainText("Administrador");
  await expectAccessible(page, "perfil: auditoria");
  await page.getByRole("tab", { name: /^Visitas/ }).click();
  await page.getByRole("button", { name: "Histórico" }).first().click();
  await expect(page.getByText("Visita registrada")).toBeVisible();
  await expectAccessible(page, "perfil: histórico da visita");
});

test("create a patient", async ({ page }) => {
  await login(page, "operator", "/pacientes/novo");
  await expectAccessible(page, "novo paciente");
  await page.getByRole("button", { name: "Cadastrar paciente" }).click();
  await expect(page.getByLabel("Nome completo")).toHaveAttribute("aria-invalid", "true");
  await page.getByLabel("Nome completo").fill("Heloísa Brandão Teixeira");
  await page.getByRole("textbox", { name: "Telefone 1" }).fill("21 97777-1234");
  await page.getByLabel("Bairro").fill("Urca");
  await page.getByRole("button", { name: "Cadastrar paciente" }).click();
  await expect(page.getByTestId("patient-name")).toHaveText("Heloísa Brandão Teixeira");
  await expect(page.getByTestId("patient-data")).toContainText("(21) 97777-1234");
});

test("a viewer reads masked data and cannot edit", async ({ page }) => {
  await login(page, "viewer");
  await resultsSettled(page);
  await expect(page.getByRole("link", { name: "Novo paciente" })).toHaveCount(0);
  await page.getByTestId("search-box").fill("josefa");
  await resultsSettled(page, "josefa");
  const row = page.getByTestId("results").locator("[data-patient-id]").first();
  await expect(row).toContainText("***.");
  await row.getByRole("link").click();
  await expect(page.getByTestId("patient-name")).toContainText("Josefa");
  await expect(page.getByRole("button", { name: "Editar dados" })).toHaveCount(0);
  await expect(page.getByRole("tab", { name: "Auditoria" })).toHaveCount(0);
  await expect(page.getByTestId("patient-data")).toContainText("*****-5432");
  await page.getByRole("tab", { name: "Confirmações" }).click();
  await expect(page.getByRole("button", { name: "Registrar" })).toHaveCount(0);
  await expectAccessible(page, "perfil (consulta)");
  // The API refuses the change too (not only the menu).
  const status = await page.evaluate(async () => {
    const session = JSON.parse(localStorage.getItem("coleta.session")!);
    const id = location.pathname.split("/").pop();
    const r = await fetch(`/api/v1/patients/${id}`, {
      method: "PATCH", headers: { Authorization: `Bearer ${session.accessToken}`, "Content-Type": "application/json" },
      body: JSON.stringify({ notes: "x" }),
    });
    return r.status;
  });
  expect(status).toBe(403);
});
