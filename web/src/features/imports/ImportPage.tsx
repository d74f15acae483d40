import {
  Alert, Badge, Button, Group, Paper, Progress, Select, SimpleGrid, Stack, Table, Text, TextInput, Title,
} from "@mantine/core";
import { useDebouncedCallback } from "@mantine/hooks";
import { keepPreviousData, useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../../api/client";
import { unwrap } from "../../api/errors";
import { useNavigate, useParams, useSearch } from "@tanstack/react-router";
import { Loading, Problem } from "../../components/states";
import { formatDate, formatDateTime, formatTime } from "../../lib/dates";
import { formatCount, plural } from "../../lib/format";
import { carName, importStatusLabel, issueLevelLabel, layoutLabel } from "../../lib/labels";
import { AnchorLink } from "../../lib/links";
import type { ImportSearch } from "../../routeSearch";
import { importStatusColor } from "./ImportsPage";
import { importQuery, running, type ImportRead } from "./queries";

const PAGE = 50;

type VisitChange = "created" | "updated" | "unchanged" | "missing";

export function ImportPage() {
  const { importId } = useParams({ from: "/app/importacoes/$importId" });
  const query = useQuery(importQuery(importId));
  if (query.error) return <Problem error={query.error} title="Não foi possível abrir a importação" retry={() => void query.refetch()} />;
  if (query.isPending) return <Loading label="Carregando importação" />;
  const item = query.data;
  return (
    <Stack gap="lg" maw={1200} mx="auto">
      <AnchorLink to="/importacoes" size="sm" w="fit-content">← Todas as importações</AnchorLink>
      <div>
        <Group gap="sm">
          <Title order={1} size="h2" style={{ wordBreak: "break-word" }}>{item.filename}</Title>
          <Badge color={importStatusColor(item.status)} size="lg" data-testid="import-status">{importStatusLabel(item.status)}</Badge>
        </Group>
        <Text size="sm" c="dimmed">
          Enviado em {formatDateTime(item.uploaded_at)}{item.layout ? ` · ${layoutLabel(item.layout)}` : ""} · {formatCount(Math.round(item.size / 1024))} kB
        </Text>
      </div>
      <ProgressPanel item={item} />
      {item.failure && (
        <Alert color="red" role="alert" title="A importação falhou">{item.failure.message}</Alert>
      )}
      {!running(item.status) && (
        <>
          <Counts item={item} />
          <ChangedVisits importId={item.id} />
          <ByCarDay item={item} />
          <SkippedReasons item={item} />
          <Issues item={item} />
        </>
      )}
    </Stack>
  );
}

function ProgressPanel({ item }: { item: ImportRead }) {
  const total = item.total_rows;
  const value = total ? Math.round((item.processed_rows / total) * 100) : item.status === "succeeded" ? 100 : 0;
  return (
    <Paper withBorder p="md" radius="md">
      <Group justify="space-between" mb={6}>
        <Text fw={600}>{running(item.status) ? (item.status === "queued" ? "Na fila do processamento…" : "Processando linhas…") : "Processamento encerrado"}</Text>
        <Text size="sm" role="status" aria-live="polite" data-testid="import-progress">
          {total == null ? "Contando linhas…" : `${formatCount(item.processed_rows)} de ${plural(total, "linha", "linhas")}`}
        </Text>
      </Group>
      <Progress value={value} animated={running(item.status)} aria-label="Linhas processadas" color={item.status === "failed" ? "red" : "indigo"} />
    </Paper>
  );
}

function Count({ label, value, id, change }: { label: string; value: number; id: string; change?: VisitChange }) {
  return (
    <div data-count={id}>
      <Text size="xs" c="dimmed" fw={500}>{label}</Text>
      <Text fw={700} size="xl" data-value={value}>
        {change && value > 0
          ? <AnchorLink from="/importacoes/$importId" to="." search={(prev) => ({ ...prev, mudanca: change, dia: undefined, carro: undefined })}
              replace aria-label={`${label}: ${formatCount(value)} (ver a lista)`}>{formatCount(value)}</AnchorLink>
          : formatCount(value)}
      </Text>
    </div>
  );
}

function Counts({ item }: { item: ImportRead }) {
  return (
    <Paper withBorder p="md" radius="md" component="section" aria-labelledby="counts-title">
      <Title order={2} size="h4" mb="sm" id="counts-title">Resultado</Title>
      <SimpleGrid cols={{ base: 2, sm: 4, md: 6 }} spacing="sm">
        <Count id="imported" label="Linhas importadas" value={item.imported} />
        <Count id="skipped" label="Ignoradas (não são visitas domiciliares)" value={item.skipped} />
        <Count id="errors" label="Linhas com erro" value={item.errors} />
        <Count id="warnings" label="Avisos" value={item.warnings} />
        <Count id="duplicates" label="Duplicadas" value={item.duplicates} />
        <Count id="visits_created" label="Visitas novas" value={item.visits_created} change="created" />
        <Count id="visits_updated" label="Visitas atualizadas" value={item.visits_updated} change="updated" />
        <Count id="visits_unchanged" label="Visitas sem mudança" value={item.visits_unchanged} change="unchanged" />
        <Count id="visits_missing" label="Fora da nova agenda" value={item.visits_missing} change="missing" />
        <Count id="patients_created" label="Pacientes novos" value={item.patients_created} />
        <Count id="patients_updated" label="Pacientes atualizados" value={item.patients_updated} />
      </SimpleGrid>
      {item.dates.length > 0 && (
        <Text size="sm" mt="sm">
          Dias tocados:{" "}
          {item.dates.map((d, n) => (
            <span key={d}>{n > 0 && ", "}<AnchorLink to="/agenda" search={{ data: d }}>{formatDate(d)}</AnchorLink></span>
          ))}
        </Text>
      )}
    </Paper>
  );
}

const CHANGE_TITLES: Record<VisitChange, string> = {
  created: "Visitas novas", updated: "Visitas atualizadas", unchanged: "Visitas sem mudança", missing: "Visitas fora da nova agenda",
};

/** What the import did to each visit of a car on a day; each count opens the list of those visits. */
function ByCarDay({ item }: { item: ImportRead }) {
  if (!item.by_car_day.length) return null;
  const cell = (row: ImportRead["by_car_day"][number], change: VisitChange, value: number) => (
    <Table.Td ta="right">
      {value > 0
        ? <AnchorLink from="/importacoes/$importId" to="." replace search={(prev) => ({ ...prev, mudanca: change, dia: row.date, carro: row.car_id ?? undefined })}
            aria-label={`${CHANGE_TITLES[change]}, ${carName(row.label, row.base)}, ${formatDate(row.date)}: ${formatCount(value)}`}>{formatCount(value)}</AnchorLink>
        : "0"}
    </Table.Td>
  );
  return (
    <Paper withBorder p={{ base: "sm", sm: "md" }} radius="md" component="section" aria-labelledby="by-car-title">
      <Title order={2} size="h4" id="by-car-title" mb="sm">Por carro e dia</Title>
      <Table.ScrollContainer type="native" minWidth={320} maxHeight={420} tabIndex={0} role="region" aria-label="Tabela por carro e dia">
        <Table verticalSpacing={4} horizontalSpacing={6} striped stickyHeader data-testid="by-car-day">
          <Table.Thead><Table.Tr>
            <Table.Th scope="col">Dia</Table.Th><Table.Th scope="col">Carro</Table.Th>
            <Table.Th scope="col" ta="right">Novas</Table.Th><Table.Th scope="col" ta="right">Atualizadas</Table.Th>
            <Table.Th scope="col" ta="right" visibleFrom="sm">Sem mudança</Table.Th><Table.Th scope="col" ta="right">Fora</Table.Th>
          </Table.Tr></Table.Thead>
          <Table.Tbody>
            {item.by_car_day.map((row) => (
              <Table.Tr key={`${row.date}-${row.car_id ?? ""}`} data-car-day={`${row.date} ${row.car_id ?? ""}`}>
                <Table.Td><AnchorLink to="/agenda" search={{ data: row.date, unidade: row.unit ?? undefined }}>{formatDate(row.date)}</AnchorLink></Table.Td>
                <Table.Td>
                  {row.car_id ? carName(row.label, row.base) : "Sem carro"}
                  {/* Labels repeat across units: the unit tells two CARRO 1 apart. */}
                  {row.unit && <Text span size="xs" c="dimmed"> · unidade {row.unit}</Text>}
                </Table.Td>
                {cell(row, "created", row.created)}{cell(row, "updated", row.updated)}
                <Table.Td ta="right" visibleFrom="sm">{formatCount(row.unchanged)}</Table.Td>
                {cell(row, "missing", row.missing)}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Paper>
  );
}

/** The visits behind a count (`?mudanca=`), optionally of one car and day: paged by the API. */
function ChangedVisits({ importId }: { importId: string }) {
  const search = useSearch({ from: "/app/importacoes/$importId" });
  const change = search.mudanca;
  const list = useInfiniteQuery({
    queryKey: ["imports", importId, "visits", change ?? null, search.dia ?? null, search.carro ?? null],
    queryFn: ({ pageParam, signal }) => unwrap(api.GET("/api/v1/imports/{import_id}/visits", {
      params: { path: { import_id: importId }, query: { change, date: search.dia, car_id: search.carro, limit: 100, cursor: pageParam } }, signal,
    })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    enabled: !!change,
  });
  if (!change) return null;
  const items = list.data?.pages.flatMap((p) => p.items) ?? [];
  const first = items[0];
  return (
    <Paper withBorder p={{ base: "sm", sm: "md" }} radius="md" component="section" aria-labelledby="changed-title" data-testid="changed-visits">
      <Group justify="space-between" mb="sm">
        <Title order={2} size="h4" id="changed-title">
          {CHANGE_TITLES[change]}{search.dia ? ` em ${formatDate(search.dia)}` : ""}{search.carro && first?.car ? ` · ${carName(first.car.label, first.car.base)}` : ""}
        </Title>
        <AnchorLink from="/importacoes/$importId" to="." replace search={(prev) => ({ ...prev, mudanca: undefined, dia: undefined, carro: undefined })} size="sm">
          Fechar lista
        </AnchorLink>
      </Group>
      {list.error ? <Problem error={list.error} /> : list.isPending ? <Loading label="Carregando visitas" /> : items.length === 0 ? (
        <Text c="dimmed">Nenhuma visita.</Text>
      ) : (
        <Table.ScrollContainer minWidth={300}>
          <Table verticalSpacing={4} striped>
            <Table.Thead><Table.Tr>
              <Table.Th scope="col">Dia e hora</Table.Th><Table.Th scope="col">Paciente</Table.Th><Table.Th scope="col" visibleFrom="sm">Carro</Table.Th>
            </Table.Tr></Table.Thead>
            <Table.Tbody>
              {items.map((v) => (
                <Table.Tr key={v.visit_id} data-visit-id={v.visit_id}>
                  <Table.Td style={{ whiteSpace: "nowrap" }}>
                    <AnchorLink to="/agenda" search={{ data: v.date, visita: v.visit_id }}>{formatDate(v.date)} {formatTime(v.start)}</AnchorLink>
                  </Table.Td>
                  <Table.Td>
                    <AnchorLink to="/pacientes/$patientId" params={{ patientId: v.patient_id }}>{v.patient_name ?? "Paciente sem nome"}</AnchorLink>
                    <Text size="xs" c="dimmed" hiddenFrom="sm">{v.car ? carName(v.car.label, v.car.base) : "Sem carro"}</Text>
                  </Table.Td>
                  <Table.Td visibleFrom="sm">{v.car ? carName(v.car.label, v.car.base) : "Sem carro"}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {list.hasNextPage && (
        <Button mt="sm" size="xs" variant="default" loading={list.isFetchingNextPage} onClick={() => void list.fetchNextPage()}>Carregar mais</Button>
      )}
    </Paper>
  );
}

function SkippedReasons({ item }: { item: ImportRead }) {
  if (!item.skipped_by_reason.length) return null;
  return (
    <Paper withBorder p={{ base: "sm", sm: "md" }} radius="md" component="section" aria-labelledby="skipped-title">
      <Title order={2} size="h4" id="skipped-title" mb="sm">Ignoradas por motivo</Title>
      <Table verticalSpacing={4} data-testid="skipped-table">
        <Table.Thead><Table.Tr><Table.Th scope="col">Motivo</Table.Th><Table.Th scope="col" ta="right">Linhas</Table.Th></Table.Tr></Table.Thead>
        <Table.Tbody>
          {item.skipped_by_reason.map((r) => (
            <Table.Tr key={r.code}>
              <Table.Td>{r.message}</Table.Td>
              <Table.Td ta="right">
                <AnchorLink from="/importacoes/$importId" to="." replace search={(prev) => ({ ...prev, nivel: "skipped" as const, codigo: r.code, busca: undefined })}
                  aria-label={`${r.message}: ${formatCount(r.count)} (ver as linhas)`}>{formatCount(r.count)}</AnchorLink>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Paper>
  );
}

const LEVEL_COLORS: Record<string, string> = { error: "red", warning: "yellow", skipped: "gray" };

/** The report's issues and skipped rows, filtered (in the URL) and paged by the API. */
function Issues({ item }: { item: ImportRead }) {
  const search = useSearch({ from: "/app/importacoes/$importId" });
  const navigate = useNavigate({ from: "/importacoes/$importId" });
  const update = (patch: Partial<ImportSearch>) => void navigate({ search: (prev) => ({ ...prev, ...patch }), replace: true });
  const [text, setText] = useState(search.busca ?? "");
  const setBusca = useDebouncedCallback((v: string) => update({ busca: v.trim() || undefined }), 300);
  const issues = useInfiniteQuery({
    queryKey: ["imports", item.id, "issues", search.nivel ?? null, search.codigo ?? null, search.busca ?? null],
    queryFn: ({ pageParam, signal }) => unwrap(api.GET("/api/v1/imports/{import_id}/issues", {
      params: { path: { import_id: item.id }, query: { level: search.nivel, code: search.codigo, q: search.busca, limit: PAGE, cursor: pageParam } }, signal,
    })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    placeholderData: keepPreviousData,
  });
  const problems = item.issue_codes.reduce((n, c) => n + c.count, 0);
  const codes = search.nivel === "skipped"
    ? item.skipped_by_reason.map((r) => ({ value: r.code, label: r.message }))
    : item.issue_codes.filter((c) => !search.nivel || c.level === search.nivel).map((c) => ({ value: c.code, label: `${c.code} (${formatCount(c.count)})` }));
  const rows = issues.data?.pages.flatMap((p) => p.items) ?? [];
  const total = issues.data?.pages[0]?.total ?? 0;
  return (
    <Paper withBorder p={{ base: "sm", sm: "md" }} radius="md" component="section" aria-labelledby="issues-title">
      <Title order={2} size="h4" id="issues-title">
        {/* The table below lists the skipped rows too: the title counts both, as the table does. */}
        Problemas encontrados ({formatCount(problems)}){item.skipped > 0 ? ` e linhas ignoradas (${formatCount(item.skipped)})` : ""}
      </Title>
      {problems === 0 && item.skipped === 0 ? <Text mt="sm">Nenhum problema: todas as linhas de visita domiciliar foram importadas.</Text> : (
        <>
          <Group gap="sm" my="sm" align="flex-end">
            <Select label="Tipo" w={170} value={search.nivel ?? ""} allowDeselect={false} withCheckIcon={false}
              data={[{ value: "", label: "Todos" }, { value: "error", label: "Erros" }, { value: "warning", label: "Avisos" }, { value: "skipped", label: "Linhas ignoradas" }]}
              onChange={(v) => update({ nivel: (v || undefined) as ImportSearch["nivel"], codigo: undefined })} />
            <Select label="Código" w={{ base: "100%", xs: 300 }} value={search.codigo ?? ""} allowDeselect={false} withCheckIcon={false} searchable
              data={[{ value: "", label: "Todos os códigos" }, ...codes]}
              onChange={(v) => update({ codigo: v || undefined })} />
            <TextInput label="Buscar na mensagem ou linha" w={{ base: "100%", xs: 260 }} value={text}
              onChange={(e) => { setText(e.currentTarget.value); setBusca(e.currentTarget.value); }} />
          </Group>
          <Text size="sm" role="status" aria-live="polite" mb={4} data-testid="issues-total" data-value={issues.data ? total : undefined}>
            {issues.data ? plural(total, "linha", "linhas") : "Carregando…"}{search.nivel || search.codigo || search.busca ? " no filtro" : ""}
          </Text>
          {issues.error ? <Problem error={issues.error} /> : (
            <Table.ScrollContainer minWidth={320}>
              <Table verticalSpacing="xs" horizontalSpacing={8} striped data-testid="issues-table">
                <Table.Thead><Table.Tr>
                  <Table.Th scope="col">Linha<Text span inherit visibleFrom="sm"> da planilha</Text></Table.Th><Table.Th scope="col">Tipo</Table.Th>
                  <Table.Th scope="col" visibleFrom="sm">Código</Table.Th><Table.Th scope="col">Mensagem</Table.Th>
                </Table.Tr></Table.Thead>
                <Table.Tbody>
                  {rows.map((i, n) => (
                    <Table.Tr key={`${i.row}-${i.code}-${n}`}>
                      <Table.Td>{i.row}{i.sheet ? <Text size="xs" c="dimmed">{i.sheet}</Text> : null}</Table.Td>
                      <Table.Td><Badge color={LEVEL_COLORS[i.level] ?? "gray"}>{issueLevelLabel(i.level)}</Badge></Table.Td>
                      <Table.Td ff="monospace" fz="sm" visibleFrom="sm">{i.code}</Table.Td>
                      <Table.Td style={{ overflowWrap: "anywhere" }}>
                        {i.message}
                        {i.patient_id && <> · <AnchorLink to="/pacientes/$patientId" params={{ patientId: i.patient_id }} size="sm">ver paciente</AnchorLink></>}
                        <Text ff="monospace" size="xs" c="dimmed" hiddenFrom="sm">{i.code}</Text>
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          )}
          {issues.hasNextPage && (
            <Button mt="sm" size="xs" variant="default" loading={issues.isFetchingNextPage} onClick={() => void issues.fetchNextPage()}>
              Carregar mais ({formatCount(total - rows.length)} restantes)
            </Button>
          )}
        </>
      )}
    </Paper>
  );
}
