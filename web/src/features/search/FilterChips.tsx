import { Button, Group, Pill } from "@mantine/core";
import { memo } from "react";
import { formatDate } from "../../lib/dates";
import { FACET_LABELS } from "../../lib/labels";
import { bucketLabel } from "./Facets";
import type { FacetBucket } from "./queries";
import { FACETS, PERIOD_LABELS, type SearchFilters, visitRange } from "./searchParams";
import { useSearchNav } from "./useSearchNav";

/** The filters in force, each removable, and "limpar tudo". Memoised: typing does not render it again. */
export const FilterChips = memo(function FilterChips({ filters: search, facets }: {
  filters: SearchFilters; facets?: Record<string, FacetBucket[]> | undefined;
}) {
  const update = useSearchNav();
  const chips: { key: string; label: string; remove: () => void }[] = [];
  for (const name of FACETS) {
    for (const value of search[name] ?? []) {
      chips.push({
        key: `${name}:${value}`,
        label: `${FACET_LABELS[name]}: ${bucketLabel(name, facets?.[name]?.find((b) => b.value === value) ?? { value })}`,
        remove: () => void update((prev) => ({ ...prev, [name]: (prev[name] ?? []).filter((v) => v !== value) })),
      });
    }
  }
  if (search.periodo) {
    const { from, to } = visitRange(search);
    const label = search.periodo === "personalizado"
      ? `Visita: ${from ? formatDate(from) : "…"} a ${to ? formatDate(to) : "…"}`
      : `Visita: ${PERIOD_LABELS[search.periodo].toLowerCase()}`;
    chips.push({ key: "periodo", label, remove: () => void update({ periodo: undefined, de: undefined, ate: undefined }) });
  }
  if (search.recorrentes) {
    chips.push({ key: "recorrentes", label: "Recorrentes", remove: () => void update({ recorrentes: undefined }) });
  }
  if (!chips.length) return null;
  return (
    <Group gap="xs" aria-label="Filtros aplicados" role="group">
      {chips.map((chip) => (
        <Pill key={chip.key} withRemoveButton onRemove={chip.remove} size="md"
          removeButtonProps={{ "aria-label": `Remover filtro ${chip.label}` }}>
          {chip.label}
        </Pill>
      ))}
      <Button variant="subtle" size="compact-sm"
        onClick={() => void update((prev) => ({ q: prev.q, ordem: prev.ordem, visao: prev.visao }))}>
        Limpar tudo
      </Button>
    </Group>
  );
});
