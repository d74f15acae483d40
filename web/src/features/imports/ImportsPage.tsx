import "@mantine/dropzone/styles.css";
import { Alert, Badge, Button, Group, Paper, Progress, Stack, Table, Text, Title } from "@mantine/core";
import { Dropzone } from "@mantine/dropzone";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useNavigate } from "@tanstack/react-router";
import { useRef, useState } from "react";
import { problemMessage } from "../../api/errors";
import { Loading, Problem } from "../../components/states";
import { formatDateTime } from "../../lib/dates";
import { formatCount } from "../../lib/format";
import { importStatusLabel, layoutLabel } from "../../lib/labels";
import { AnchorLink } from "../../lib/links";
import { queryClient } from "../../queryClient";
import { useMe } from "../../session";
import { importsQuery, running, uploadImport, type ImportSummary } from "./queries";

const ACCEPT = {
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": [".xlsx"],
  "application/vnd.ms-excel": [".xls"],
  "text/csv": [".csv"],
};

export function importStatusColor(status: string) {
  return { queued: "gray", processing: "blue", succeeded: "teal", failed: "red" }[status] ?? "gray";
}

export function ImportsPage() {
  const me = useMe();
  const list = useQuery(importsQuery);
  return (
    <Stack gap="lg" maw={1200} mx="auto">
      <Title order={1} size="h2">Importações de agenda</Title>
      {me.can.operate && <Upload />}
      <section aria-labelledby="past-title">
        <Title order={2} size="h4" mb="sm" id="past-title">Importações anteriores</Title>
        {list.error ? <Problem error={list.error} retry={() => void list.refetch()} /> : list.isPending ? <Loading label="Carregando importações" /> : (
          list.data.items.length === 0 ? <Text c="dimmed">Nenhuma importação ainda.</Text> : <ImportsTable items={list.data.items} />
        )}
      </section>
    </Stack>
  );
}

function Upload() {
  const navigate = useNavigate();
  const open = useRef<() => void>(null);
  const [rejected, setRejected] = useState(false);
  const upload = useMutation({
    mutationFn: uploadImport,
    onSuccess: async (queued) => {
      await queryClient.invalidateQueries({ queryKey: ["imports"] });
      void navigate({ to: "/importacoes/$importId", params: { importId: queued.id } });
    },
  });
  return (
    <Paper withBorder p="md" radius="md">
      <Dropzone
        openRef={open}
        onDrop={(files) => { setRejected(false); if (files[0]) upload.mutate(files[0]); }}
        onReject={() => setRejected(true)}
        accept={ACCEPT}
        multiple={false}
        loading={upload.isPending}
        activateOnClick={false}
        data-testid="dropzone"
      >
        <Stack align="center" gap={6} py="lg" style={{ pointerEvents: "none" }}>
          <Text fw={600} size="lg">Arraste a planilha da agenda para cá</Text>
          <Text size="sm" c="dimmed" ta="center">
            Relatório de agendamento do DasaExp ou layout simplificado: .xlsx, .xls ou .csv (separado por ; ou ,).
            Importar o mesmo arquivo de novo não altera nada.
          </Text>
        </Stack>
      </Dropzone>
      <Group justify="center" mt="sm">
        <Button onClick={() => open.current?.()} loading={upload.isPending}>Escolher arquivo</Button>
      </Group>
      {rejected && <Alert mt="sm" color="red" role="alert" title="Arquivo não aceito">Envie uma planilha .xlsx, .xls ou .csv, um arquivo por vez.</Alert>}
      {upload.error && <Alert mt="sm" color="red" role="alert" title="O arquivo não foi aceito">{problemMessage(upload.error)}</Alert>}
    </Paper>
  );
}

function ImportsTable({ items }: { items: ImportSummary[] }) {
  return (
    // A phone shows the file, its state and its errors; the other counts are in the report.
    <Table.ScrollContainer minWidth={320}>
      <Table verticalSpacing="xs" striped data-testid="imports-table">
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">Arquivo</Table.Th><Table.Th scope="col" visibleFrom="sm">Enviado em</Table.Th><Table.Th scope="col">Situação</Table.Th>
            <Table.Th scope="col" ta="right" visibleFrom="sm">Linhas</Table.Th><Table.Th scope="col" ta="right" visibleFrom="sm">Visitas novas</Table.Th>
            <Table.Th scope="col" ta="right" visibleFrom="sm">Atualizadas</Table.Th><Table.Th scope="col" ta="right" visibleFrom="sm">Ignoradas</Table.Th>
            <Table.Th scope="col" ta="right">Erros</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {items.map((i) => (
            <Table.Tr key={i.id}>
              <Table.Td>
                <AnchorLink to="/importacoes/$importId" params={{ importId: i.id }} fw={600} style={{ overflowWrap: "anywhere" }}>{i.filename}</AnchorLink>
                <Text size="xs" c="dimmed">{i.layout ? layoutLabel(i.layout) : "Layout a identificar"}</Text>
                <Text size="xs" c="dimmed" hiddenFrom="sm">{formatDateTime(i.uploaded_at)}</Text>
              </Table.Td>
              <Table.Td style={{ whiteSpace: "nowrap" }} visibleFrom="sm">{formatDateTime(i.uploaded_at)}</Table.Td>
              <Table.Td>
                <Badge color={importStatusColor(i.status)}>{importStatusLabel(i.status)}</Badge>
                {running(i.status) && i.total_rows ? <Progress size="xs" mt={4} value={(i.processed_rows / i.total_rows) * 100} aria-label={`Progresso de ${i.filename}`} /> : null}
              </Table.Td>
              <Table.Td ta="right" visibleFrom="sm">{i.total_rows == null ? "—" : formatCount(i.total_rows)}</Table.Td>
              <Table.Td ta="right" visibleFrom="sm">{formatCount(i.visits_created)}</Table.Td>
              <Table.Td ta="right" visibleFrom="sm">{formatCount(i.visits_updated)}</Table.Td>
              <Table.Td ta="right" visibleFrom="sm">{formatCount(i.skipped)}</Table.Td>
              <Table.Td ta="right">{formatCount(i.errors)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
