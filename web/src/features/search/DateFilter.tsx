import { Chip, Group, Loader, Stack, Text } from "@mantine/core";
import { lazy, memo, Suspense } from "react";
import { PERIOD_LABELS, PERIODS, type Period, type SearchFilters } from "./searchParams";
import { useSearchNav } from "./useSearchNav";

// The calendar (and dayjs) load only when someone picks "personalizado".
const RangePicker = lazy(() => import("./RangePicker"));

/** Memoised on the filters (not the words typed): typing does not render it again. */
export const DateFilter = memo(function DateFilter({ filters: search }: { filters: SearchFilters }) {
  const update = useSearchNav();
  return (
    <Stack gap={6} component="fieldset" m={0} p={0} style={{ border: 0, minInlineSize: 0 }}>
      <Text component="legend" fw={600} size="sm" mb={6}>Data da visita</Text>
      <Chip.Group
        multiple={false}
        value={search.periodo ?? "qualquer"}
        onChange={(value) => {
          const periodo = value === "qualquer" ? undefined : (value as Period);
          void update({ periodo, ...(periodo === "personalizado" ? {} : { de: undefined, ate: undefined }) });
        }}
      >
        <Group gap={6}>
          <Chip value="qualquer" size="xs">Qualquer data</Chip>
          {PERIODS.map((p) => <Chip key={p} value={p} size="xs">{PERIOD_LABELS[p]}</Chip>)}
        </Group>
      </Chip.Group>
      {search.periodo === "personalizado" && (
        <Suspense fallback={<Loader size="xs" role="status" aria-label="Carregando calendário" />}>
          <RangePicker from={search.de} to={search.ate} onChange={(de, ate) => void update({ de, ate })} />
        </Suspense>
      )}
    </Stack>
  );
});
