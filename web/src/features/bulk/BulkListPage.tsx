import { Badge, Group, Paper, Progress, Stack, Table, Text, Title } from "@mantine/core";
import { useQueries } from "@tanstack/react-query";
import { formatDateTime } from "../../lib/dates";
import { formatCount } from "../../lib/format";
import { bulkActionLabel, bulkStatusLabel } from "../../lib/labels";
import { AnchorLink, ButtonLink } from "../../lib/links";
import { bulkStatusColor } from "./BulkJobPage";
import { recentJobs } from "./bulkSearch";
import { bulkJobQuery } from "./queries";

export function BulkListPage() {
  const ids = recentJobs();
  const jobs = useQueries({ queries: ids.map((id) => bulkJobQuery(id, undefined, 1)) });
  return (
    <Stack gap="lg" maw={1100} mx="auto">
      <Group justify="space-between" align="flex-end">
        <Title order={1} size="h2">Ações em lote</Title>
        <Group gap="sm">
          <ButtonLink to="/pacientes" variant="default">A partir de uma busca</ButtonLink>
          <ButtonLink to="/agenda" search={{ selecionar: true }} variant="default">Escolher visitas na agenda</ButtonLink>
        </Group>
      </Group>
      <Paper withBorder p="md" radius="md">
        <Text size="sm">
          Para agir sobre muitos pacientes ou visitas de uma vez (confirmar, enviar mensagem, remarcar, trocar de carro,
          etiquetar ou exportar), filtre a busca de pacientes e use “Ação em lote”, ou selecione visitas na agenda.
        </Text>
      </Paper>
      <section aria-labelledby="recent-title">
        <Title order={2} size="h4" id="recent-title">Lotes iniciados neste navegador</Title>
        {ids.length === 0 ? <Text c="dimmed" mt="sm">Nenhum lote iniciado ainda.</Text> : (
          <Table.ScrollContainer minWidth={300}>
            <Table verticalSpacing="xs" striped mt="sm">
              <Table.Thead><Table.Tr>
                <Table.Th scope="col">Ação</Table.Th><Table.Th scope="col" visibleFrom="sm">Criado em</Table.Th><Table.Th scope="col">Situação</Table.Th>
                <Table.Th scope="col" ta="right" visibleFrom="sm">Feitos</Table.Th><Table.Th scope="col" ta="right">Erros</Table.Th><Table.Th scope="col" ta="right" visibleFrom="sm">Ignorados</Table.Th>
              </Table.Tr></Table.Thead>
              <Table.Tbody>
                {jobs.map((q, n) => q.data ? (
                  <Table.Tr key={ids[n]}>
                    <Table.Td>
                      <AnchorLink to="/lotes/$jobId" params={{ jobId: q.data.id }} fw={600}>{bulkActionLabel(q.data.action)}</AnchorLink>
                      <Text size="xs" c="dimmed" hiddenFrom="sm">{formatDateTime(q.data.created_at)}</Text>
                    </Table.Td>
                    <Table.Td visibleFrom="sm">{formatDateTime(q.data.created_at)}</Table.Td>
                    <Table.Td>
                      <Badge color={bulkStatusColor(q.data.status)}>{bulkStatusLabel(q.data.status)}</Badge>
                      {q.data.status === "running" && <Progress size="xs" mt={4} value={q.data.progress * 100} aria-label="Progresso" />}
                    </Table.Td>
                    <Table.Td ta="right" visibleFrom="sm">{formatCount(q.data.succeeded)}</Table.Td>
                    <Table.Td ta="right">{formatCount(q.data.failed)}</Table.Td>
                    <Table.Td ta="right" visibleFrom="sm">{formatCount(q.data.skipped)}</Table.Td>
                  </Table.Tr>
                ) : (
                  <Table.Tr key={ids[n]}><Table.Td colSpan={6}><Text size="sm" c="dimmed">{q.error ? "Lote não encontrado." : "Carregando…"}</Text></Table.Td></Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </section>
    </Stack>
  );
}
