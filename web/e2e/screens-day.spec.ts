// Part 2's screens (running the day), laptop and phone, into docs/screens/ (`make screens`).
import { expect, type Page, test } from "@playwright/test";
import { fileURLToPath } from "node:url";
import { login, resultsSettled } from "./helpers";
import { sample } from "./samples";

const OUT = fileURLToPath(new URL("../../docs/screens", import.meta.url));
const SIZES = [
  { name: "laptop", viewport: { width: 1366, height: 768 } },
  { name: "celular", viewport: { width: 390, height: 844 } },
] as const;

async function shot(page: Page, name: string, size: string, fullPage = false) {
  await page.addStyleTag({ content: "*{caret-color:transparent!important;transition:none!important;animation:none!important}" });
  // A whole page from its top: scrolled, the fixed header and menu would be drawn mid-page.
  if (fullPage) await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(300);
  await page.screenshot({ path: `${OUT}/${name}-${size}.png`, fullPage });
}

test.describe.configure({ mode: "serial" });

for (const size of SIZES) {
  test.describe(size.name, () => {
    test.use({ viewport: size.viewport, deviceScaleFactor: 1 });
    const phone = size.name === "celular";

    test(`running the day (${size.name})`, async ({ page }) => {
      test.setTimeout(180_000);
      await login(page, "operator", "/");
      await expect(page.locator('[data-kpi="visits"] [data-value]')).toBeVisible();
      await expect(page.locator("[data-car]").first()).toBeVisible();
      await shot(page, "20-painel", size.name);
      await page.getByRole("heading", { name: "Últimos 30 dias" }).scrollIntoViewIfNeeded();
      await expect(page.locator(".recharts-surface").first()).toBeVisible();
      await shot(page, "21-painel-inteiro", size.name, true);

      await page.goto("/agenda");
      await expect(page.getByTestId("board").locator("[data-visit-id]").first()).toBeVisible();
      await shot(page, "22-agenda", size.name);
      if (!phone) {
        const board = page.getByTestId("board");
        // Two cars that both have a visit at 06:40 (the seed books every car from 06:40).
        const taken = board.locator("[data-car]").filter({ has: page.getByRole("button", { name: /^06:40–/ }) });
        const card = taken.nth(0).getByRole("button", { name: /^06:40–/ });
        const target = taken.nth(1).getByRole("button", { name: /^06:40–/ });
        const from = (await card.boundingBox())!;
        const to = (await target.boundingBox())!;
        await page.mouse.move(from.x + from.width / 2, from.y + 10);
        await page.mouse.down();
        await page.mouse.move(from.x + from.width / 2 + 20, from.y + 12, { steps: 4 });
        await page.mouse.move(to.x + to.width / 2, from.y + 10, { steps: 12 });
        await page.mouse.up();
        await expect(page.getByTestId("board-conflict")).toBeVisible();
        await shot(page, "23-agenda-conflito", size.name);
      }
      await page.getByTestId("board").locator("[data-visit-id]").first().getByRole("button").click();
      await expect(page.getByTestId("visit-details").getByText("Visita registrada")).toBeVisible();
      await shot(page, "24-agenda-visita", size.name);
      await page.getByRole("button", { name: "Fechar", exact: true }).click();
      await page.getByRole("button", { name: "Nova visita" }).click();
      await expect(page.getByRole("dialog", { name: "Nova visita" })).toBeVisible();
      await shot(page, "25-nova-visita", size.name);
      await page.keyboard.press("Escape");

      await page.goto("/confirmacoes");
      await expect(page.getByTestId("queue").locator("[data-visit-id]").first()).toBeVisible();
      await shot(page, "26-confirmacoes", size.name);
      await page.getByTestId("queue").locator("[data-visit-id]").first().getByRole("button", { name: "Mensagem…" }).click();
      await expect(page.getByRole("dialog", { name: "Mensagem ao paciente" })).toBeVisible();
      await shot(page, "27-mensagem", size.name);
      await page.keyboard.press("Escape");

      await page.goto("/pacientes?periodo=amanha&confirmation_status=pending");
      await resultsSettled(page);
      await page.getByRole("link", { name: /^Ação em lote/ }).click();
      await expect(page.getByTestId("bulk-target")).toContainText("pacientes");
      await page.getByRole("radio", { name: "Enviar mensagem" }).check();
      await shot(page, "28-lote-novo", size.name, true);
      await page.getByRole("button", { name: "Revisar e iniciar" }).click();
      await expect(page.getByTestId("bulk-preview")).toBeVisible();
      await shot(page, "39-lote-revisao", size.name, true);
      await page.getByRole("button", { name: "Iniciar lote" }).click();
      await expect(page.getByTestId("bulk-status")).toHaveText("Concluído", { timeout: 30_000 });
      await shot(page, "29-lote-resultado", size.name, true);
      await page.getByRole("link", { name: "← Ações em lote" }).click();
      await expect(page.getByRole("heading", { name: "Meus lotes" })).toBeVisible();
      await expect(page.getByRole("link", { name: "Enviar mensagem" }).first()).toBeVisible();
      await shot(page, "38-lotes", size.name);

      await page.goto("/frota");
      await expect(page.locator("[data-team-car]").first()).toBeVisible();
      await shot(page, "30-frota-equipes", size.name, true);
      await page.getByRole("tab", { name: "Carros" }).click();
      await expect(page.getByTestId("cars-table")).toBeVisible();
      await shot(page, "31-frota-carros", size.name);

      await page.goto("/importacoes");
      await page.locator('[data-testid="dropzone"] input[type=file]').setInputFiles(sample("agenda_exportada_excel_br.csv"));
      await expect(page.getByTestId("import-status")).toHaveText("Concluída", { timeout: 60_000 });
      await shot(page, "32-importacao-relatorio", size.name, true);
      await page.locator('[data-count="visits_created"], [data-count="visits_unchanged"]').getByRole("link").first().click();
      await expect(page.getByTestId("changed-visits").locator("tbody tr").first()).toBeVisible();
      await shot(page, "40-importacao-visitas", size.name, true);
      await page.getByRole("link", { name: "← Todas as importações" }).click();
      await expect(page.getByTestId("imports-table")).toBeVisible();
      await shot(page, "33-importacoes", size.name);
    });

    test(`admin and driver (${size.name})`, async ({ page }) => {
      test.setTimeout(120_000);
      await login(page, "admin", "/admin");
      await expect(page.getByTestId("users-table")).toBeVisible();
      await shot(page, "34-admin-usuarios", size.name);
      await page.getByRole("tab", { name: "Auditoria" }).click();
      await page.getByRole("combobox", { name: "Paciente" }).pressSequentially("josefa", { delay: 30 });
      await page.getByRole("option", { name: /Josefa/ }).first().click();
      await expect(page.getByTestId("audit-table")).toBeVisible();
      await shot(page, "35-admin-auditoria", size.name);
      await page.getByRole("tab", { name: "Sincronização da busca" }).click();
      await expect(page.getByTestId("sync-table")).toBeVisible();
      const before = await page.locator('[data-reindex="visits"]').getAttribute("data-job-id", { timeout: 2_000 }).catch(() => null);
      await page.getByRole("button", { name: "Reconstruir índice de visitas" }).click();
      // This job (not an earlier one of the same stack) followed to its end.
      await expect(page.locator('[data-reindex="visits"]')).not.toHaveAttribute("data-job-id", before ?? "none");
      await expect(page.getByTestId("reindex-status-visits")).toHaveText("Concluída", { timeout: 60_000 });
      await shot(page, "36-admin-sincronizacao", size.name);

      await page.evaluate(() => localStorage.clear());
      await login(page, "driver", "/");
      await expect(page.getByTestId("driver-visits").locator("[data-visit-id]").first()).toBeVisible();
      await shot(page, "37-motorista", size.name, phone);
    });
  });
}
