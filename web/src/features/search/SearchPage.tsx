import { ButtonLink } from "../../lib/links";
import { Alert, Box, Button, Drawer, Grid, Group, Loader, Select, SegmentedControl, Stack, Text, Title } from "@mantine/core";
import { useDisclosure, useIntersection, useMediaQuery } from "@mantine/hooks";
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { useSearch } from "@tanstack/react-router";
import { memo, useCallback, useEffect, useMemo, useState } from "react";
import { ApiProblem, problemMessage } from "../../api/errors";
import { formatCount, plural } from "../../lib/format";
import { useMe } from "../../session";
import { DateFilter } from "./DateFilter";
import { Facets } from "./Facets";
import { FilterChips } from "./FilterChips";
import { patientFacetsQuery, patientSearchQuery } from "./queries";
import { Results } from "./Results";
import { SearchBox } from "./SearchBox";
import {
  effectiveSort, filtersOf, hasFilters, PRESETS, rememberSearch, SORT_LABELS, SORTS, type PatientSearch, type SearchFilters, type Sort,
} from "./searchParams";
import { useAfterPaint } from "./useAfterPaint";
import { useSearchNav } from "./useSearchNav";

export function SearchPage() {
  const search = useSearch({ from: "/app/pacientes" });
  const me = useMe();
  const wide = useMediaQuery("(min-width: 62em)", true);
  const [filtersOpen, filtersDrawer] = useDisclosure(false);
  // Results first, then facets: the results (and the count read aloud) are painted as soon as they
  // arrive; the facets (and the suggestions) are asked once that frame is painted (on 2 cores,
  // asking both at once slowed the results by the facets' own time, and an answer rendered before
  // the results' frame delayed it), and painted beside them when theirs arrives.
  const query = useInfiniteQuery(patientSearchQuery(search));
  const first = query.data?.pages[0];
  const resultsPainted = useAfterPaint(
    !query.isPending && !query.isPlaceholderData && !(query.isFetching && !query.isFetchingNextPage), JSON.stringify(search),
  );
  const facetsQuery = useQuery({ ...patientFacetsQuery(search), enabled: resultsPainted });
  const facets = facetsQuery.data;
  // The filters alone, the same object while they are the same: typing renders neither the filter
  // panel nor the chips again (a word typed costs the frame that shows its results).
  const filtersKey = JSON.stringify(filtersOf(search));
  const filters = useMemo(() => JSON.parse(filtersKey) as SearchFilters, [filtersKey]);
  // The same array while the pages are the same, so the facets' answer does not render the list again.
  const items = useMemo(() => (query.data?.pages ?? []).flatMap((p) => p.items), [query.data]);
  const view = search.visao ?? (wide ? "lista" : "cartoes");
  // Shown data belongs to the state in the URL (not the previous state kept while the new one loads).
  const current = !!first && !query.isPlaceholderData;
  const problem = query.error instanceof ApiProblem ? query.error : null;
  // Patients ticked for a bulk action: kept while the search changes, so a list can be built from several searches.
  const [marked, setMarked] = useState<Set<string>>(() => new Set());
  const toggleMark = useCallback((id: string) => setMarked((prev) => {
    const next = new Set(prev);
    if (next.has(id)) next.delete(id); else next.add(id);
    return next;
  }), []);
  rememberSearch(search);

  const filterPanel = (
    <Stack gap="lg">
      <DateFilter filters={filters} />
      {/* Memoised: the results' answer does not render the checkboxes again, only the facets' does. Dimmed
          once the new counts are asked (after the results are painted), not in the results' frame. */}
      <Facets facets={facets} filters={filters} updating={facetsQuery.isPlaceholderData && facetsQuery.isFetching}
        loading={facetsQuery.isPending} failed={facetsQuery.isError && !facets} />
    </Stack>
  );

  return (
    <Stack gap="md" maw={1400} mx="auto">
      <Group justify="space-between" align="flex-end">
        <Title order={1} size="h2">Pacientes</Title>
        {me.can.editPatients && (
          <Group gap="sm">
            {/* "All matching this search": the bulk page takes the same search from the URL. */}
            <ButtonLink to="/lotes/novo" search={{ ...search, ordem: undefined, visao: undefined }} variant="default"
              disabled={!current || !first?.total}>
              Ação em lote{current && first ? ` (${formatCount(first.total)})` : ""}
            </ButtonLink>
            {marked.size > 0 && (
              <>
                {/* Or only the patients ticked in the list (patient_ids). */}
                <ButtonLink to="/lotes/novo" search={{ paciente: [...marked] }} variant="filled">
                  Marcados: ação em lote ({formatCount(marked.size)})
                </ButtonLink>
                <Button variant="subtle" onClick={() => setMarked(new Set())}>Desmarcar</Button>
              </>
            )}
            <ButtonLink to="/pacientes/novo" variant="light">Novo paciente</ButtonLink>
          </Group>
        )}
      </Group>
      <SearchBox search={search} fetching={query.isFetching && !query.isFetchingNextPage} settled={resultsPainted} />
      <Presets active={PRESETS.find((preset) => isPreset(search, preset.search))?.id} />
      <FilterChips filters={filters} facets={facets} />
      <Grid gap="lg">
        {wide && (
          <Grid.Col span={3}>
            <Box component="aside" aria-label="Filtros da busca">{filterPanel}</Box>
          </Grid.Col>
        )}
        <Grid.Col span={wide ? 9 : 12}>
          <Stack gap="sm">
            <Group justify="space-between" gap="sm">
              <Text role="status" aria-live="polite" aria-atomic="true" fw={500} data-testid="result-count">
                {countText(query.isPending, problem, first?.total, current)}
              </Text>
              <Group gap="sm">
                {!wide && (
                  <Button variant="default" size="sm" onClick={filtersDrawer.open}>
                    Filtros{hasFilters(search) ? " (ativos)" : ""}
                  </Button>
                )}
                <ResultsView sort={effectiveSort(search)} view={view} />
              </Group>
            </Group>
            <Box
              data-results-for={current && !query.isFetching ? (search.q ?? "") : undefined}
              aria-busy={query.isFetching && !query.isFetchingNextPage}
              style={{ opacity: query.isPlaceholderData ? 0.6 : 1, transition: "opacity 120ms" }}
            >
              {problem ? (
                <SearchProblem problem={problem} retry={() => { void query.refetch(); void facetsQuery.refetch(); }} />
              ) : query.isPending ? (
                <Group justify="center" py="xl"><Loader role="status" aria-label="Carregando resultados" /></Group>
              ) : items.length === 0 ? (
                <Empty search={search} />
              ) : (
                <Results items={items} view={view} masked={!me.can.seeContactsInFull}
                  {...(me.can.editPatients ? { marked, onMark: toggleMark } : {})} />
              )}
            </Box>
            {query.hasNextPage && !problem && (
              <MoreResults loading={query.isFetchingNextPage} load={() => void query.fetchNextPage()}
                shown={items.length} total={first?.total ?? 0} />
            )}
          </Stack>
        </Grid.Col>
      </Grid>
      <Drawer opened={filtersOpen} onClose={filtersDrawer.close} title="Filtros" position="bottom" size="85%">
        {filterPanel}
        <Button fullWidth mt="lg" onClick={filtersDrawer.close}>
          Ver {first ? plural(first.total, "paciente", "pacientes") : "resultados"}
        </Button>
      </Drawer>
    </Stack>
  );
}

/** The saved filters; memoised on which one is in force, so typing does not render them again. */
const Presets = memo(function Presets({ active }: { active: string | undefined }) {
  const update = useSearchNav();
  return (
    <Group gap="xs" aria-label="Filtros salvos" role="group">
      <Text size="sm" c="dimmed">Filtros salvos:</Text>
      {PRESETS.map((preset) => (
        <Button key={preset.id} size="compact-sm" variant={active === preset.id ? "filled" : "default"}
          aria-pressed={active === preset.id}
          onClick={() => void update((prev) => ({ ...preset.search, q: prev.q, visao: prev.visao }))}>
          {preset.label}
        </Button>
      ))}
    </Group>
  );
});

/** Order and list/cards; memoised on their values, so typing does not render the select again. */
const ResultsView = memo(function ResultsView({ sort, view }: { sort: Sort; view: "lista" | "cartoes" }) {
  const update = useSearchNav();
  return (
    <>
      <Select
        size="sm" label="Ordenar por" data={SORT_OPTIONS}
        value={sort} allowDeselect={false} withCheckIcon={false} comboboxProps={{ width: 230 }}
        onChange={(value) => void update({ ordem: value as Sort })}
        styles={{ root: { display: "flex", alignItems: "center", gap: 8 }, label: { whiteSpace: "nowrap" }, input: { width: 205 } }}
      />
      <SegmentedControl
        size="sm" value={view} aria-label="Modo de exibição"
        data={[{ value: "lista", label: "Lista" }, { value: "cartoes", label: "Cartões" }]}
        onChange={(value) => void update({ visao: value as "lista" | "cartoes" }, { replace: true })}
      />
    </>
  );
});
const SORT_OPTIONS = SORTS.map((s) => ({ value: s, label: SORT_LABELS[s] }));

function countText(pending: boolean, problem: ApiProblem | null, total: number | undefined, current: boolean): string {
  if (problem) return problem.searchDown ? "Busca indisponível" : "Erro na busca";
  if (pending || total === undefined) return "Buscando…";
  if (!current) return "Atualizando…";
  if (total === 0) return "Nenhum paciente encontrado";
  return `${plural(total, "paciente encontrado", "pacientes encontrados")}`;
}

function isPreset(search: PatientSearch, preset: PatientSearch): boolean {
  const keys = Object.keys(search).filter((k) => k !== "q" && k !== "visao");
  return keys.length === Object.keys(preset).length
    && Object.entries(preset).every(([k, v]) => JSON.stringify(search[k as keyof PatientSearch]) === JSON.stringify(v));
}

function MoreResults({ loading, load, shown, total }: { loading: boolean; load: () => void; shown: number; total: number }) {
  // Scrolling to the end loads the next page; the button does the same for keyboards and screen readers.
  const { ref, entry } = useIntersection({ rootMargin: "300px" });
  useEffect(() => {
    if (entry?.isIntersecting && !loading) load();
  }, [entry?.isIntersecting, loading, load]);
  return (
    <Stack align="center" gap={4} ref={ref} py="sm">
      <Text size="sm" c="dimmed">Mostrando {formatCount(shown)} de {formatCount(total)}</Text>
      <Button variant="default" onClick={load} loading={loading}>Carregar mais</Button>
    </Stack>
  );
}

function SearchProblem({ problem, retry }: { problem: ApiProblem; retry: () => void }) {
  if (problem.searchDown) {
    return (
      <Alert color="orange" title="A busca está fora do ar no momento" role="alert">
        <Text size="sm" mb="sm">
          Não foi possível consultar o índice de pacientes. Isso não quer dizer que o paciente não exista:
          os cadastros continuam guardados. Tente de novo em instantes; se persistir, avise a equipe técnica.
        </Text>
        <Button size="xs" variant="white" color="orange" onClick={retry}>Tentar de novo</Button>
      </Alert>
    );
  }
  return (
    <Alert color="red" title="Não foi possível buscar" role="alert">
      <Text size="sm" mb="sm">{problemMessage(problem)}</Text>
      <Button size="xs" variant="white" color="red" onClick={retry}>Tentar de novo</Button>
    </Alert>
  );
}

function Empty({ search }: { search: PatientSearch }) {
  const update = useSearchNav();
  return (
    <Stack align="center" py="xl" gap="xs">
      <Text fw={600}>Nenhum paciente encontrado{search.q ? ` para “${search.q}”` : ""}.</Text>
      <Text size="sm" c="dimmed" ta="center">
        Confira a grafia, busque só pelo primeiro e o último nome, pelos 4 últimos dígitos do telefone ou pelo CPF.
      </Text>
      {hasFilters(search) && (
        <Button variant="light" onClick={() => void update((prev) => ({ q: prev.q, ordem: prev.ordem, visao: prev.visao }))}>
          Limpar filtros
        </Button>
      )}
    </Stack>
  );
}
