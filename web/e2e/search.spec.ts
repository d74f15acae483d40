import { expect, test } from "@playwright/test";
import { expectAccessible, facet, facetCount, login, resultNames, resultsSettled, USERS, PASSWORD } from "./helpers";

test("login brings you back to the page you asked for; a wrong password says so", async ({ page }) => {
  await page.goto("/pacientes?q=maria&ordem=name");
  await expect(page).toHaveURL(/\/login\?redirect=/);
  await expectAccessible(page, "login");
  await page.getByLabel("E-mail").fill(USERS.operator);
  await page.getByLabel("Senha").fill("senha-errada");
  await page.getByRole("button", { name: "Entrar" }).click();
  await expect(page.getByRole("alert")).toContainText("E-mail ou senha incorretos.");
  await page.getByLabel("Senha").fill(PASSWORD);
  await page.getByRole("button", { name: "Entrar" }).click();
  await expect(page).toHaveURL(/\/pacientes\?q=maria&ordem=name$/);
  await expect(page.getByTestId("search-box")).toHaveValue("maria");
});

test("a misspelt name finds the patient, with the typed words highlighted", async ({ page }) => {
  await login(page, "operator");
  await resultsSettled(page);
  await expectAccessible(page, "busca");
  await page.getByTestId("search-box").pressSequentially("josefa goncalvez albuquerqe", { delay: 40 });
  await resultsSettled(page, "josefa goncalvez albuquerqe");
  const names = await resultNames(page);
  expect(names[0]).toBe("Josefa Gonçalves de Albuquerque");
  await expect(page.getByTestId("results").locator("mark").first()).toBeVisible();
  await expect(page.getByTestId("result-count")).toHaveText(/^\d+ pacientes? encontrados?$/);
  await expect(page).toHaveURL(/q=josefa\+goncalvez\+albuquerqe/);
});

test("two values of a facet: OR within, the other values keep their counts, the URL keeps it all", async ({ page }) => {
  await login(page, "operator");
  await resultsSettled(page);
  // Ten neighbourhoods: the first six show, "mostrar mais" the rest.
  await facet(page, "neighborhood").getByRole("button", { name: /Mostrar mais/ }).click();
  const copacabana = await facetCount(page, "neighborhood", "Copacabana");
  const tijuca = await facetCount(page, "neighborhood", "Tijuca");
  const botafogo = await facetCount(page, "neighborhood", "Botafogo");
  expect([copacabana, tijuca, botafogo]).toEqual([5, 5, 5]);

  await facet(page, "neighborhood").getByRole("checkbox", { name: /Copacabana/ }).check();
  await expect(page).toHaveURL(/neighborhood=copacabana/);
  await expect(page.getByTestId("result-count")).toHaveText("5 pacientes encontrados");
  await facet(page, "neighborhood").getByRole("checkbox", { name: /^Tijuca/ }).check();
  await expect(page.getByTestId("result-count")).toHaveText("10 pacientes encontrados");
  await resultsSettled(page);
  // The selected facet still counts its other values (multi-select), and the chips show the filters.
  expect(await facetCount(page, "neighborhood", "Botafogo")).toBe(5);
  await expect(page.getByRole("group", { name: "Filtros aplicados" })).toContainText("Bairro: Copacabana");
  await expect(page.getByRole("group", { name: "Filtros aplicados" })).toContainText("Bairro: Tijuca");
  // Search inside a long facet.
  await facet(page, "neighborhood").getByRole("searchbox", { name: "Procurar em bairro" }).fill("laranj");
  await expect(facet(page, "neighborhood").getByRole("checkbox")).toHaveCount(1); // Laranjeiras
  await facet(page, "neighborhood").getByRole("searchbox", { name: "Procurar em bairro" }).fill("");
  // AND across facets: Copacabana or Tijuca, and AMIL.
  const amil = await facetCount(page, "health_plan", "AMIL");
  await facet(page, "health_plan").getByRole("checkbox", { name: /AMIL/ }).check();
  await expect(page.getByTestId("result-count")).toHaveText(new RegExp(`^${amil} pacientes? encontrados?$`));
  await resultsSettled(page);
  await expectAccessible(page, "busca com filtros");

  // Reload: the same state from the URL.
  const url = page.url();
  await page.reload();
  await resultsSettled(page);
  expect(page.url()).toBe(url);
  await expect(facet(page, "neighborhood").getByRole("checkbox", { name: /Copacabana/ })).toBeChecked();
  await expect(facet(page, "health_plan").getByRole("checkbox", { name: /AMIL/ })).toBeChecked();
  await expect(page.getByTestId("result-count")).toHaveText(new RegExp(`^${amil} pacientes? encontrados?$`));

  // Back: one step of the history per filter.
  await page.goBack();
  await expect(facet(page, "health_plan").getByRole("checkbox", { name: /AMIL/ })).not.toBeChecked();
  await expect(page.getByTestId("result-count")).toHaveText("10 pacientes encontrados");
  await page.goBack();
  await expect(page.getByTestId("result-count")).toHaveText("5 pacientes encontrados");

  await page.getByRole("button", { name: "Limpar tudo" }).click();
  await expect(page).toHaveURL(/\/pacientes$/);
});

test("presets, date range and sort go to the URL", async ({ page }) => {
  await login(page, "operator");
  await page.getByRole("button", { name: "Pendentes de amanhã" }).click();
  await expect(page).toHaveURL(/periodo=amanha/);
  await expect(page).toHaveURL(/confirmation_status=pending/);
  // Tomorrow: 13 visits, 4 of them confirmed.
  await expect(page.getByTestId("result-count")).toHaveText("9 pacientes encontrados");
  await page.getByRole("button", { name: "Recorrentes" }).click();
  await expect(page.getByTestId("result-count")).toHaveText("4 pacientes encontrados");
  await page.getByRole("checkbox", { name: "Amanhã" }).or(page.getByText("Amanhã", { exact: true })).first().click();
  await expect(page).toHaveURL(/periodo=amanha/);
});

test("search down (503) says so, not 'nothing found'", async ({ page }) => {
  await login(page, "operator");
  await page.route("**/api/v1/patients?**", (route) =>
    route.fulfill({
      status: 503, contentType: "application/json",
      body: JSON.stringify({ error: { code: "search_unavailable", message: "Busca indisponível no momento. Tente novamente.", details: null } }),
    }));
  await page.getByTestId("search-box").fill("maria");
  await expect(page.getByRole("alert")).toContainText("A busca está fora do ar no momento");
  await expect(page.getByText("Nenhum paciente encontrado")).toHaveCount(0);
});

test("an expired session goes back to login and then to the same page", async ({ page }) => {
  await login(page, "operator", "/pacientes?q=ana");
  await resultsSettled(page, "ana");
  // Both tokens rejected by the API (a revoked session): the next request must send us to login.
  await page.evaluate(() => {
    const session = JSON.parse(localStorage.getItem("coleta.session")!);
    localStorage.setItem("coleta.session", JSON.stringify({ ...session, accessToken: "x", refreshToken: "y" }));
  });
  await page.getByTestId("search-box").fill("ana lima");
  await expect(page).toHaveURL(/\/login\?redirect=%2Fpacientes/);
  await page.getByLabel("E-mail").fill(USERS.operator);
  await page.getByLabel("Senha").fill(PASSWORD);
  await page.getByRole("button", { name: "Entrar" }).click();
  await expect(page).toHaveURL(/\/pacientes\?q=ana/);
});
