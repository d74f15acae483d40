import { expect, test } from "@playwright/test";
import { expectAccessible, login, resultsSettled } from "./helpers";

test("keyboard only: search box, suggestions, facets", async ({ page }) => {
  await login(page, "operator");
  await resultsSettled(page);
  // From the top of the page: skip link, then through the header and the menu to the box.
  await page.keyboard.press("Tab");
  await expect(page.getByRole("link", { name: "Pular para o conteúdo" })).toBeFocused();
  const box = page.getByTestId("search-box");
  for (let i = 0; i < 20 && !(await box.evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press("Tab");
  await expect(box).toBeFocused();
  await page.keyboard.type("josefa", { delay: 30 });
  const listbox = page.getByRole("listbox", { name: "Sugestões de pacientes" });
  await expect(listbox.getByRole("option").first()).toBeVisible();
  await expect(box).toHaveAttribute("role", "combobox");
  await expect(box).toHaveAttribute("aria-expanded", "true");
  await expectAccessible(page, "sugestões abertas");
  await page.keyboard.press("ArrowDown");
  const active = await box.getAttribute("aria-activedescendant");
  expect(active).toBeTruthy();
  await expect(page.locator(`[id="${active}"]`)).toContainText("Josefa");
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/pacientes\/[0-9a-f-]{36}/);
  await expect(page.getByTestId("patient-name")).toHaveText("Josefa Gonçalves de Albuquerque");

  // Back to the list; Escape closes suggestions; a facet value toggled with the space bar.
  await page.goBack();
  await resultsSettled(page, "josefa");
  await box.focus();
  await page.keyboard.press("Escape");
  await box.fill("");
  await resultsSettled(page);
  const checkbox = page.locator('[data-facet="neighborhood"]').getByRole("checkbox", { name: /Copacabana/ });
  await checkbox.focus();
  await page.keyboard.press("Space");
  await expect(page).toHaveURL(/neighborhood=copacabana/);
  await expect(checkbox).toBeChecked();
  await expect(checkbox).toBeFocused();

  // A result: Space ticks it for a bulk action; its name is a real link (href: a new tab works),
  // and Enter follows it in the app.
  await resultsSettled(page);
  const row = page.getByTestId("results").locator("tbody tr").first();
  await row.getByRole("checkbox").focus();
  await page.keyboard.press("Space");
  await expect(page.getByRole("link", { name: /Marcados: ação em lote \(1\)/ })).toBeVisible();
  const name = row.getByRole("link");
  await expect(name).toHaveAttribute("href", /^\/pacientes\/[0-9a-f-]{36}$/);
  const href = await name.getAttribute("href");
  await name.focus();
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(new RegExp(`${href}$`));
  await expect(page.getByTestId("patient-name")).toBeVisible();
});
