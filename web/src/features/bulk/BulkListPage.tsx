import { Alert, Badge, Button, Group, Paper, Progress, Select, Stack, Switch, Table, Text, Title } from "@mantine/core";
import { useInfiniteQuery, useMutation } from "@tanstack/react-query";
import { useNavigate, useSearch } from "@tanstack/react-router";
import { api } from "../../api/client";
import { problemMessage, unwrap } from "../../api/errors";
import { Loading, Problem } from "../../components/states";
import { formatDateTime } from "../../lib/dates";
import { formatCount } from "../../lib/format";
import { bulkActionLabel, bulkStatusLabel } from "../../lib/labels";
import { AnchorLink, ButtonLink } from "../../lib/links";
import { queryClient } from "../../queryClient";
import { useMe } from "../../session";
import { bulkStatusColor } from "./BulkJobPage";
import { ACTIONS, JOB_STATUSES, type BulkListSearch } from "./bulkSearch";
import { cancelJob, jobCancellable, jobRunning, type BulkJobSummary } from "./queries";

/** The jobs (one's own; an admin may ask for everyone's), newest first, filtered in the URL (GET /bulk). */
export function BulkListPage() {
  const search = useSearch({ from: "/app/lotes" });
  const navigate = useNavigate({ from: "/lotes" });
  const me = useMe();
  const update = (patch: Partial<BulkListSearch>) => void navigate({ search: (prev) => ({ ...prev, ...patch }), replace: true });
  const all = me.can.administer && !!search.todos;
  const jobs = useInfiniteQuery({
    queryKey: ["bulk", "list", search.situacao ?? null, search.acao ?? null, all],
    queryFn: ({ pageParam, signal }) => unwrap(api.GET("/api/v1/bulk", {
      params: { query: { status: search.situacao, action: search.acao, actor: all ? "all" : "me", limit: 50, cursor: pageParam } }, signal,
    })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    staleTime: 0,
    // While a job runs, the list follows it.
    refetchInterval: (query) => (query.state.data?.pages.some((p) => p.items.some((j) => jobRunning(j.status))) ? 2_000 : false),
  });
  const items = jobs.data?.pages.flatMap((p) => p.items) ?? [];
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
          etiquetar ou exportar), filtre a busca de pacientes e use “Ação em lote” (ou marque pacientes na lista), ou selecione visitas na agenda.
        </Text>
      </Paper>
      <section aria-labelledby="recent-title">
        <Group justify="space-between" align="flex-end" mb="sm">
          <Title order={2} size="h4" id="recent-title">{all ? "Lotes de todos" : "Meus lotes"}</Title>
          <Group gap="sm" align="flex-end">
            <Select label="Situação" w={170} value={search.situacao ?? ""} allowDeselect={false} withCheckIcon={false}
              data={[{ value: "", label: "Todas" }, ...JOB_STATUSES.map((s) => ({ value: s, label: bulkStatusLabel(s) }))]}
              onChange={(v) => update({ situacao: (v || undefined) as BulkListSearch["situacao"] })} />
            <Select label="Ação" w={200} value={search.acao ?? ""} allowDeselect={false} withCheckIcon={false}
              data={[{ value: "", label: "Todas" }, ...ACTIONS.map((a) => ({ value: a, label: bulkActionLabel(a) }))]}
              onChange={(v) => update({ acao: (v || undefined) as BulkListSearch["acao"] })} />
            {me.can.administer && (
              <Switch label="De todos os usuários" checked={all} onChange={(e) => update({ todos: e.currentTarget.checked || undefined })} mb={8} />
            )}
          </Group>
        </Group>
        {jobs.error ? <Problem error={jobs.error} retry={() => void jobs.refetch()} /> : jobs.isPending ? <Loading label="Carregando lotes" /> : !items.length ? (
          <Text c="dimmed">Nenhum lote{search.situacao || search.acao ? " neste filtro" : " ainda"}.</Text>
        ) : (
          <Table.ScrollContainer minWidth={300}>
            <Table verticalSpacing="xs" striped data-testid="bulk-list">
              <Table.Thead><Table.Tr>
                <Table.Th scope="col">Ação</Table.Th><Table.Th scope="col" visibleFrom="sm">Criado em</Table.Th>
                {all && <Table.Th scope="col" visibleFrom="sm">Por</Table.Th>}
                <Table.Th scope="col">Situação</Table.Th>
                <Table.Th scope="col" ta="right" visibleFrom="sm">Feitos</Table.Th><Table.Th scope="col" ta="right">Erros</Table.Th>
                <Table.Th scope="col" ta="right" visibleFrom="sm">Ignorados</Table.Th><Table.Th scope="col"><span className="sr-only">Ações</span></Table.Th>
              </Table.Tr></Table.Thead>
              <Table.Tbody>{items.map((job) => <JobRow key={job.id} job={job} showActor={all} />)}</Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
        {jobs.hasNextPage && (
          <Button mt="sm" variant="default" loading={jobs.isFetchingNextPage} onClick={() => void jobs.fetchNextPage()}>Carregar mais</Button>
        )}
      </section>
    </Stack>
  );
}

function JobRow({ job, showActor }: { job: BulkJobSummary; showActor: boolean }) {
  const cancel = useMutation({
    mutationFn: () => cancelJob(job.id),
    onSettled: () => queryClient.invalidateQueries({ queryKey: ["bulk"] }),
  });
  return (
    <Table.Tr data-job-id={job.id}>
      <Table.Td>
        <AnchorLink to="/lotes/$jobId" params={{ jobId: job.id }} fw={600}>{bulkActionLabel(job.action)}</AnchorLink>
        <Text size="xs" c="dimmed" hiddenFrom="sm">{formatDateTime(job.created_at)}</Text>
        {cancel.error && <Alert mt={4} p={6} color="red" role="alert">{problemMessage(cancel.error)}</Alert>}
      </Table.Td>
      <Table.Td visibleFrom="sm">{formatDateTime(job.created_at)}</Table.Td>
      {showActor && <Table.Td visibleFrom="sm">{job.actor_name ?? "—"}</Table.Td>}
      <Table.Td>
        <Badge color={bulkStatusColor(job.status)}>{bulkStatusLabel(job.status)}</Badge>
        {jobRunning(job.status) && <Progress size="xs" mt={4} value={job.progress * 100} aria-label={`Progresso: ${bulkActionLabel(job.action)}`} />}
      </Table.Td>
      <Table.Td ta="right" visibleFrom="sm">{formatCount(job.succeeded)}</Table.Td>
      <Table.Td ta="right">{formatCount(job.failed)}</Table.Td>
      <Table.Td ta="right" visibleFrom="sm">{formatCount(job.skipped)}</Table.Td>
      <Table.Td>
        {jobCancellable(job.status) && (
          <Button size="compact-sm" variant="subtle" color="red.9" loading={cancel.isPending} onClick={() => cancel.mutate()}
            aria-label={`Cancelar o lote: ${bulkActionLabel(job.action)}, ${formatDateTime(job.created_at)}`}>Cancelar</Button>
        )}
      </Table.Td>
    </Table.Tr>
  );
}
