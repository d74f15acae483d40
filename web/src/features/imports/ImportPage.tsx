import {
  Alert, Badge, Group, Pagination, Paper, Progress, Select, SimpleGrid, Stack, Table, Text, TextInput, Title,
} from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useNavigate, useParams, useSearch } from "@tanstack/react-router";
import { Loading, Problem } from "../../components/states";
import { formatDateTime } from "../../lib/dates";
import { fold, formatCount, plural } from "../../lib/format";
import { importStatusLabel, issueLevelLabel, layoutLabel } from "../../lib/labels";
import { AnchorLink } from "../../lib/links";
import type { ImportSearch } from "../../routeSearch";
import { importStatusColor } from "./ImportsPage";
import { importQuery, running, type ImportRead } from "./queries";

const PAGE = 25;

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
      {!running(item.status) && <Counts item={item} />}
      {!running(item.status) && <Issues item={item} />}
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

function Count({ label, value, id }: { label: string; value: number; id: string }) {
  return (
    <div data-count={id}>
      <Text size="xs" c="dimmed" fw={500}>{label}</Text>
      <Text fw={700} size="xl" data-value={value}>{formatCount(value)}</Text>
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
        <Count id="visits_created" label="Visitas novas" value={item.visits_created} />
        <Count id="visits_updated" label="Visitas atualizadas" value={item.visits_updated} />
        <Count id="visits_unchanged" label="Visitas sem mudança" value={item.visits_unchanged} />
        <Count id="visits_missing" label="Fora da nova agenda" value={item.visits_missing} />
        <Count id="patients_created" label="Pacientes novos" value={item.patients_created} />
        <Count id="patients_updated" label="Pacientes atualizados" value={item.patients_updated} />
      </SimpleGrid>
    </Paper>
  );
}

/** The report's issues, filtered and paged here (the API sends them all: web/API-NEEDS.md §2). */
function Issues({ item }: { item: ImportRead }) {
  const search = useSearch({ from: "/app/importacoes/$importId" });
  const navigate = useNavigate({ from: "/importacoes/$importId" });
  const update = (patch: Partial<ImportSearch>) => void navigate({ search: (prev) => ({ ...prev, pagina: undefined, ...patch }), replace: true });
  const codes = [...new Set(item.issues.map((i) => i.code))].sort();
  const words = fold(search.busca ?? "");
  const shown = item.issues.filter((i) => (!search.nivel || i.level === search.nivel) && (!search.codigo || i.code === search.codigo)
    && (!words || fold(i.message).includes(words) || String(i.row) === words));
  const pages = Math.max(1, Math.ceil(shown.length / PAGE));
  const page = Math.min(search.pagina ?? 1, pages);
  return (
    <Paper withBorder p="md" radius="md" component="section" aria-labelledby="issues-title">
      <Title order={2} size="h4" id="issues-title">Problemas encontrados ({formatCount(item.issues.length)})</Title>
      {item.issues.length === 0 ? <Text mt="sm">Nenhum problema: todas as linhas de visita domiciliar foram importadas.</Text> : (
        <>
          <Group gap="sm" my="sm" align="flex-end">
            <Select label="Tipo" w={150} value={search.nivel ?? ""} allowDeselect={false} withCheckIcon={false}
              data={[{ value: "", label: "Todos" }, { value: "error", label: "Erros" }, { value: "warning", label: "Avisos" }]}
              onChange={(v) => update({ nivel: (v || undefined) as ImportSearch["nivel"] })} />
            <Select label="Código" w={260} value={search.codigo ?? ""} allowDeselect={false} withCheckIcon={false} searchable
              data={[{ value: "", label: "Todos os códigos" }, ...codes.map((c) => ({ value: c, label: c }))]}
              onChange={(v) => update({ codigo: v || undefined })} />
            <TextInput label="Buscar na mensagem ou linha" w={260} defaultValue={search.busca ?? ""}
              onChange={(e) => update({ busca: e.currentTarget.value || undefined })} />
          </Group>
          <Text size="sm" role="status" aria-live="polite" mb={4}>{plural(shown.length, "problema", "problemas")} {shown.length === item.issues.length ? "" : "no filtro"}</Text>
          <Table.ScrollContainer minWidth={320}>
            <Table verticalSpacing="xs" striped data-testid="issues-table">
              <Table.Thead><Table.Tr>
                <Table.Th scope="col">Linha da planilha</Table.Th><Table.Th scope="col">Tipo</Table.Th>
                <Table.Th scope="col" visibleFrom="sm">Código</Table.Th><Table.Th scope="col">Mensagem</Table.Th>
              </Table.Tr></Table.Thead>
              <Table.Tbody>
                {shown.slice((page - 1) * PAGE, page * PAGE).map((i, n) => (
                  <Table.Tr key={`${i.row}-${i.code}-${n}`}>
                    <Table.Td>{i.row}</Table.Td>
                    <Table.Td><Badge color={i.level === "error" ? "red" : "yellow"}>{issueLevelLabel(i.level)}</Badge></Table.Td>
                    <Table.Td ff="monospace" fz="sm" visibleFrom="sm">{i.code}</Table.Td>
                    <Table.Td>{i.message}<Text ff="monospace" size="xs" c="dimmed" hiddenFrom="sm">{i.code}</Text></Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
          {pages > 1 && (
            <Pagination mt="sm" total={pages} value={page} onChange={(p) => update({ pagina: p === 1 ? undefined : p })}
              getControlProps={(control) => ({ "aria-label": control === "previous" ? "Página anterior" : control === "next" ? "Próxima página" : control })}
              getItemProps={(p) => ({ "aria-label": `Página ${p}` })} />
          )}
        </>
      )}
    </Paper>
  );
}
