import { Alert, Badge, Button, Group, Paper, Progress, SegmentedControl, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useNavigate, useParams, useSearch } from "@tanstack/react-router";
import { problemMessage } from "../../api/errors";
import { Loading, Problem } from "../../components/states";
import { formatDateTime } from "../../lib/dates";
import { downloadFile } from "../../lib/download";
import { formatCount, plural } from "../../lib/format";
import { bulkActionLabel, bulkOutcomeLabel, bulkStatusLabel, carName } from "../../lib/labels";
import { AnchorLink } from "../../lib/links";
import { queryClient } from "../../queryClient";
import { bulkJobQuery, cancelJob, jobCancellable, jobRunning, type BulkJob } from "./queries";

export function bulkStatusColor(status: string) {
  return { queued: "gray", running: "blue", cancelling: "orange", done: "teal", failed: "red", cancelled: "gray" }[status] ?? "gray";
}

export function BulkJobPage() {
  const { jobId } = useParams({ from: "/app/lotes/$jobId" });
  const { resultado } = useSearch({ from: "/app/lotes/$jobId" });
  const navigate = useNavigate({ from: "/lotes/$jobId" });
  const query = useQuery(bulkJobQuery(jobId, resultado));
  const cancel = useMutation({ mutationFn: () => cancelJob(jobId), onSettled: () => queryClient.invalidateQueries({ queryKey: ["bulk"] }) });
  if (query.error) return <Problem error={query.error} title="Não foi possível abrir o lote" retry={() => void query.refetch()} />;
  if (query.isPending) return <Loading label="Carregando lote" />;
  const job = query.data;
  const percent = Math.round(job.progress * 100);
  return (
    <Stack gap="lg" maw={1100} mx="auto">
      <AnchorLink to="/lotes" size="sm" w="fit-content">← Ações em lote</AnchorLink>
      <div>
        <Group gap="sm">
          <Title order={1} size="h2">{bulkActionLabel(job.action)}</Title>
          <Badge size="lg" color={bulkStatusColor(job.status)} data-testid="bulk-status">{bulkStatusLabel(job.status)}</Badge>
          {jobCancellable(job.status) && (
            <Button size="xs" variant="light" color="red.9" loading={cancel.isPending} onClick={() => cancel.mutate()}>Cancelar lote</Button>
          )}
        </Group>
        <Text size="sm" c="dimmed">
          Criado em {formatDateTime(job.created_at)} · {job.target === "visit_ids" ? plural(job.visit_count ?? 0, "visita escolhida", "visitas escolhidas")
            : job.target === "patient_ids" ? plural(job.patient_count ?? 0, "paciente marcado", "pacientes marcados") : "sobre uma busca de pacientes"}
          {job.finished_at ? ` · terminado em ${formatDateTime(job.finished_at)}` : ""}
        </Text>
      </div>
      <Paper withBorder p="md" radius="md">
        <Group justify="space-between" mb={6}>
          <Text fw={600}>{jobRunning(job.status) ? "Processando…" : "Processamento encerrado"}</Text>
          <Text size="sm" role="status" aria-live="polite" data-testid="bulk-progress">
            {job.total == null ? "Calculando os alvos…" : `${formatCount(job.processed)} de ${plural(job.total, "item", "itens")}`}
          </Text>
        </Group>
        <Progress value={percent} animated={jobRunning(job.status)} aria-label="Itens processados" color={job.status === "failed" ? "red" : "indigo"} />
        <SimpleGrid cols={{ base: 3 }} mt="md">
          <Counter id="succeeded" label="Feitos" value={job.succeeded} color="teal.9" />
          <Counter id="failed" label="Com erro" value={job.failed} color="red.9" />
          <Counter id="skipped" label="Ignorados" value={job.skipped} />
        </SimpleGrid>
      </Paper>
      {cancel.error && <Alert color="red" role="alert" title="Não foi possível cancelar">{problemMessage(cancel.error)}</Alert>}
      {job.status === "cancelling" && <Alert color="orange" role="status">Cancelando: o lote para antes do próximo item.</Alert>}
      {job.status === "cancelled" && <Alert color="gray" role="status">Lote cancelado: os itens não feitos ficaram como “Aguardando”.</Alert>}
      {job.failure && <Alert color="red" role="alert" title="O lote falhou">{job.failure.message}</Alert>}
      {job.download && <Download job={job} />}
      <Paper withBorder p="md" radius="md" component="section" aria-labelledby="items-title">
        <Group justify="space-between" mb="sm">
          <Title order={2} size="h4" id="items-title">Resultado por item</Title>
          <SegmentedControl size="xs" aria-label="Filtrar resultado" value={resultado ?? "all"}
            data={[{ value: "all", label: "Todos" }, { value: "ok", label: "Feitos" }, { value: "error", label: "Erros" }, { value: "skipped", label: "Ignorados" }]}
            onChange={(v) => void navigate({ search: v === "all" ? {} : { resultado: v as "ok" }, replace: true })} />
        </Group>
        <Items job={job} />
      </Paper>
    </Stack>
  );
}

function Counter({ id, label, value, color }: { id: string; label: string; value: number; color?: string }) {
  return (
    <div data-counter={id}>
      <Text size="xs" c="dimmed" fw={500}>{label}</Text>
      <Text fw={700} size="xl" c={color} data-value={value}>{formatCount(value)}</Text>
    </div>
  );
}

function Download({ job }: { job: BulkJob }) {
  const d = job.download!;
  const download = useMutation({ mutationFn: () => downloadFile(d.url, d.filename) });
  return (
    <Paper withBorder p="md" radius="md">
      <Group justify="space-between">
        <div>
          <Text fw={600}>{d.filename}</Text>
          <Text size="sm" c="dimmed">{d.format.toUpperCase()} · {formatCount(Math.max(1, Math.round(d.size / 1024)))} kB</Text>
        </div>
        <Button onClick={() => download.mutate()} loading={download.isPending}>Baixar arquivo</Button>
      </Group>
      {download.error && <Alert mt="sm" color="red" role="alert">{problemMessage(download.error)}</Alert>}
    </Paper>
  );
}

function Items({ job }: { job: BulkJob }) {
  if (!job.items.length) return <Text size="sm" c="dimmed">{job.total == null ? "Os itens aparecem quando os alvos forem calculados." : "Nenhum item neste filtro."}</Text>;
  return (
    <>
      <Table.ScrollContainer minWidth={300}>
        <Table verticalSpacing={4} striped data-testid="bulk-items">
          <Table.Thead><Table.Tr>
            <Table.Th scope="col">#</Table.Th><Table.Th scope="col">Item</Table.Th><Table.Th scope="col">Resultado</Table.Th><Table.Th scope="col" visibleFrom="sm">Detalhe</Table.Th>
          </Table.Tr></Table.Thead>
          <Table.Tbody>
            {job.items.map((i) => (
              <Table.Tr key={i.position}>
                <Table.Td>{i.position + 1}</Table.Td>
                <Table.Td>
                  {i.patient_id
                    ? <AnchorLink to="/pacientes/$patientId" params={{ patientId: i.patient_id }}>{i.patient_name ?? "Paciente"}</AnchorLink>
                    : i.kind === "visit" ? "Visita não encontrada" : "Paciente não encontrado"}
                  {i.start && (
                    <Text size="xs" c="dimmed">
                      {formatDateTime(i.start)}{i.car ? ` · ${carName(i.car.label, i.car.base)}` : " · sem carro"}
                    </Text>
                  )}
                  {i.message && <Text size="xs" c="dimmed" hiddenFrom="sm">{i.message}</Text>}
                </Table.Td>
                <Table.Td><Badge color={i.outcome === "ok" ? "teal" : i.outcome === "error" ? "red" : "gray"}>{bulkOutcomeLabel(i.outcome)}</Badge></Table.Td>
                <Table.Td visibleFrom="sm">{i.message ?? "—"}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {job.next_cursor && <Text size="sm" c="dimmed" mt="xs">Mostrando os primeiros {job.items.length} itens.</Text>}
    </>
  );
}
