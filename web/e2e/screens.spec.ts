// `npm run screens` / `make screens`: a PNG of every screen at laptop and phone sizes, in docs/screens/.
import { expect, type Page, test } from "@playwright/test";
import { fileURLToPath } from "node:url";
import { login, resultsSettled } from "./helpers";

const OUT = fileURLToPath(new URL("../../docs/screens", import.meta.url));
const SIZES = [
  { name: "laptop", viewport: { width: 1366, height: 768 } },
  { name: "celular", viewport: { width: 390, height: 844 } },
] as const;

async function shot(page: Page, name: string, size: string, fullPage = false) {
  // No blinking caret or half-finished transition in a committed picture.
  await page.addStyleTag({ content: "*{caret-color:transparent!important;transition:none!important;animation:none!important}" });
  await page.waitForTimeout(150);
  await page.screenshot({ path: `${OUT}/${name}-${size}.png`, fullPage });
}

for (const size of SIZES) {
  test.describe(size.name, () => {
    test.use({ viewport: size.viewport, deviceScaleFactor: 1 });

    test(`staff screens (${size.name})`, async ({ page }) => {
      await page.goto("/pacientes");
      await expect(page.getByRole("button", { name: "Entrar" })).toBeVisible();
      await shot(page, "01-login", size.name);

      await login(page, "operator");
      await resultsSettled(page);
      await shot(page, "02-busca", size.name);

      const box = page.getByTestId("search-box");
      await box.pressSequentially("mari", { delay: 20 });
      await expect(page.getByRole("listbox", { name: "Sugestões de pacientes" }).getByRole("option").first()).toBeVisible();
      await page.keyboard.press("ArrowDown");
      await shot(page, "03-sugestoes", size.name);
      await page.keyboard.press("Escape");

      await page.goto("/pacientes?neighborhood=copacabana&neighborhood=tijuca&periodo=amanha&ordem=next_visit");
      await resultsSettled(page);
      await shot(page, "04-busca-filtros", size.name, size.name === "laptop");

      await page.goto("/pacientes?visao=cartoes&health_plan=amil");
      await resultsSettled(page);
      await shot(page, "05-busca-cartoes", size.name);

      if (size.name === "celular") {
        await page.getByRole("button", { name: /^Filtros/ }).click();
        await expect(page.getByRole("dialog", { name: "Filtros" })).toBeVisible();
        await shot(page, "06-filtros", size.name);
        await page.keyboard.press("Escape");
      }

      await page.goto("/pacientes?q=xyzzy+quux");
      await resultsSettled(page, "xyzzy quux");
      await shot(page, "07-nenhum-resultado", size.name);

      await page.route("**/api/v1/patients?**", (route) => route.fulfill({
        status: 503, contentType: "application/json",
        body: JSON.stringify({ error: { code: "search_unavailable", message: "Busca indisponível no momento. Tente novamente.", details: null } }),
      }));
      await page.goto("/pacientes?q=ana");
      await expect(page.getByRole("alert")).toBeVisible();
      await shot(page, "08-busca-fora-do-ar", size.name);
      await page.unrouteAll();

      await page.goto("/pacientes?q=josefa");
      await resultsSettled(page, "josefa");
      await page.getByRole("link", { name: /Josefa/ }).first().click();
      await expect(page.getByTestId("patient-name")).toBeVisible();
      await shot(page, "09-perfil-dados", size.name, true);
      await page.getByRole("button", { name: "Editar dados" }).click();
      await page.getByLabel("CPF").fill("111.111.111-11");
      await page.getByRole("button", { name: "Salvar alterações" }).click();
      await expect(page.getByLabel("CPF")).toHaveAttribute("aria-invalid", "true");
      await page.getByLabel("CPF").scrollIntoViewIfNeeded();
      await shot(page, "10-perfil-edicao-erro", size.name);
      await page.getByRole("button", { name: "Cancelar" }).click();

      await page.getByRole("tab", { name: /^Visitas/ }).click();
      await page.getByRole("button", { name: "Histórico" }).first().click();
      await expect(page.getByText("Visita registrada").first()).toBeVisible();
      await shot(page, "11-perfil-visitas", size.name);
      await page.getByRole("tab", { name: "Confirmações" }).click();
      await shot(page, "12-perfil-confirmacoes", size.name, true);
      await page.getByRole("tab", { name: /^Mensagens/ }).click();
      await shot(page, "13-perfil-mensagens", size.name);

      await page.goto("/pacientes/novo");
      await expect(page.getByRole("heading", { name: "Novo paciente" })).toBeVisible();
      await shot(page, "14-novo-paciente", size.name);
    });

    test(`admin and viewer (${size.name})`, async ({ page }) => {
      await login(page, "admin", "/pacientes?q=josefa");
      await resultsSettled(page, "josefa");
      await page.getByRole("link", { name: /Josefa/ }).first().click();
      await page.getByRole("tab", { name: "Auditoria" }).click();
      await expect(page.getByRole("tabpanel")).toContainText("Consultou");
      await shot(page, "15-perfil-auditoria", size.name);

      await page.evaluate(() => localStorage.clear());
      await login(page, "viewer", "/pacientes?q=josefa");
      await resultsSettled(page, "josefa");
      await shot(page, "16-busca-consulta", size.name);
      await page.getByRole("link", { name: /Josefa/ }).first().click();
      await expect(page.getByTestId("patient-name")).toBeVisible();
      await shot(page, "17-perfil-consulta", size.name);
    });
  });
}
