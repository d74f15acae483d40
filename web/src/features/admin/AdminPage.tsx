import {
  Alert, Autocomplete, Badge, Box, Button, Group, Modal, Paper, PasswordInput, Progress, Select, SimpleGrid, Stack, Switch, Table, Tabs, Text,
  TextInput, Title,
} from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useInfiniteQuery, useMutation, useQuery } from "@tanstack/react-query";
import { useNavigate, useSearch } from "@tanstack/react-router";
import { type ReactNode, useState } from "react";
import { api, type Schemas } from "../../api/client";
import { ApiProblem, problemMessage, unwrap } from "../../api/errors";
import { DayInput } from "../../components/DayInput";
import { Loading, Problem } from "../../components/states";
import { formatDateTime } from "../../lib/dates";
import { formatCount } from "../../lib/format";
import { auditActionLabel, fieldLabel, roleLabel } from "../../lib/labels";
import { AnchorLink } from "../../lib/links";
import { carOption, carsQuery } from "../../lib/reference";
import { queryClient } from "../../queryClient";
import type { AdminSearch } from "../../routeSearch";
import { suggestQuery } from "../search/queries";

type User = Schemas["UserRead"];
const ROLES = ["admin", "operator", "viewer", "driver"] as const;

const usersQuery = {
  queryKey: ["users"],
  queryFn: ({ signal }: { signal: AbortSignal }) => unwrap(api.GET("/api/v1/users", { params: { query: { limit: 500 } }, signal })),
};

export function AdminPage() {
  const search = useSearch({ from: "/app/admin" });
  const navigate = useNavigate({ from: "/admin" });
  const tab = search.aba ?? "usuarios";
  const update = (patch: Partial<AdminSearch>) => void navigate({ search: (prev) => ({ ...prev, ...patch }), replace: true });
  return (
    <Stack gap="md" maw={1200} mx="auto">
      <Title order={1} size="h2">Administração</Title>
      <Tabs value={tab} onChange={(v) => update({ aba: v === "usuarios" ? undefined : (v as AdminSearch["aba"]) })} keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="usuarios">Usuários</Tabs.Tab>
          <Tabs.Tab value="auditoria">Auditoria</Tabs.Tab>
          <Tabs.Tab value="sincronizacao">Sincronização da busca</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="usuarios" pt="md"><Users /></Tabs.Panel>
        <Tabs.Panel value="auditoria" pt="md"><Audit search={search} update={update} /></Tabs.Panel>
        <Tabs.Panel value="sincronizacao" pt="md"><Sync /></Tabs.Panel>
      </Tabs>
    </Stack>
  );
}

// ------------------------------------------------------------------ users

function Users() {
  const users = useQuery(usersQuery);
  const [editing, setEditing] = useState<User | "new" | null>(null);
  if (users.error) return <Problem error={users.error} />;
  if (users.isPending) return <Loading label="Carregando usuários" />;
  return (
    <Stack gap="sm">
      <Group justify="flex-end"><Button onClick={() => setEditing("new")}>Novo usuário</Button></Group>
      <Table.ScrollContainer minWidth={320}>
        <Table striped verticalSpacing="xs" horizontalSpacing={8} data-testid="users-table">
          <Table.Thead><Table.Tr>
            <Table.Th scope="col">Nome</Table.Th><Table.Th scope="col" visibleFrom="sm">E-mail</Table.Th><Table.Th scope="col">Perfil</Table.Th>
            <Table.Th scope="col" visibleFrom="sm">Situação</Table.Th><Table.Th scope="col" visibleFrom="sm">Último acesso</Table.Th><Table.Th scope="col"><span className="sr-only">Ações</span></Table.Th>
          </Table.Tr></Table.Thead>
          <Table.Tbody>
            {users.data.items.map((u) => (
              <Table.Tr key={u.id}>
                <Table.Td>
                  <Text fw={600} size="sm">{u.name}</Text>
                  <Text size="xs" c="dimmed" hiddenFrom="sm" style={{ overflowWrap: "anywhere" }}>{u.email}{u.active ? "" : " · Desativado"}</Text>
                </Table.Td>
                <Table.Td visibleFrom="sm">{u.email}</Table.Td>
                <Table.Td><Badge color="gray" size="sm">{roleLabel(u.role)}</Badge></Table.Td>
                <Table.Td visibleFrom="sm"><Badge color={u.active ? "teal" : "gray"}>{u.active ? "Ativo" : "Desativado"}</Badge></Table.Td>
                <Table.Td visibleFrom="sm">{formatDateTime(u.last_login_at)}</Table.Td>
                <Table.Td><Button size="compact-sm" variant="subtle" onClick={() => setEditing(u)} aria-label={`Editar ${u.name}`}>Editar</Button></Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {editing && <UserForm user={editing === "new" ? null : editing} onClose={() => setEditing(null)} />}
    </Stack>
  );
}

function UserForm({ user, onClose }: { user: User | null; onClose: () => void }) {
  const cars = useQuery(carsQuery);
  const [form, setForm] = useState({ name: user?.name ?? "", email: user?.email ?? "", role: user?.role ?? "operator", active: user?.active ?? true, car_id: user?.car_id ?? null, password: "" });
  const set = (patch: Partial<typeof form>) => setForm({ ...form, ...patch });
  const save = useMutation({
    mutationFn: () => user
      ? unwrap(api.PATCH("/api/v1/users/{user_id}", { params: { path: { user_id: user.id } }, body: {
        name: form.name.trim(), role: form.role, active: form.active, car_id: form.role === "driver" ? form.car_id : null,
        ...(form.password ? { password: form.password } : {}),
      } }))
      : unwrap(api.POST("/api/v1/users", { body: {
        name: form.name.trim(), email: form.email.trim(), role: form.role, password: form.password, active: form.active,
        car_id: form.role === "driver" ? form.car_id : null,
      } })),
    onSuccess: async () => { await queryClient.invalidateQueries({ queryKey: ["users"] }); onClose(); },
  });
  return (
    <Modal opened onClose={onClose} title={user ? `Editar ${user.name}` : "Novo usuário"} closeButtonProps={{ "aria-label": "Fechar" }}>
      <form onSubmit={(e) => { e.preventDefault(); save.mutate(); }}>
        <Stack gap="sm">
          <TextInput label="Nome" required value={form.name} onChange={(e) => set({ name: e.currentTarget.value })} />
          <TextInput label="E-mail" type="email" required disabled={!!user} value={form.email} onChange={(e) => set({ email: e.currentTarget.value })} />
          <Select label="Perfil" value={form.role} allowDeselect={false} onChange={(v) => v && set({ role: v as User["role"] })}
            data={ROLES.map((r) => ({ value: r, label: roleLabel(r) }))} />
          {form.role === "driver" && (
            <Select label="Carro fixo (quando não houver equipe do dia)" clearable placeholder="Nenhum" value={form.car_id}
              onChange={(v) => set({ car_id: v })} data={(cars.data?.items ?? []).map(carOption)} searchable />
          )}
          <PasswordInput label={user ? "Nova senha (deixe em branco para manter)" : "Senha"} required={!user} value={form.password}
            onChange={(e) => set({ password: e.currentTarget.value })} autoComplete="new-password" />
          <Switch label="Conta ativa" checked={form.active} onChange={(e) => set({ active: e.currentTarget.checked })} />
          {save.error && <Alert color="red" role="alert">{problemMessage(save.error)}</Alert>}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>Cancelar</Button>
            <Button type="submit" loading={save.isPending} disabled={!form.name.trim() || (!user && (!form.email || !form.password))}>Salvar</Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

// ------------------------------------------------------------------ audit

const AUDIT_ACTIONS = [
  "patient.read", "patient.create", "patient.update", "patient.delete", "patient.export", "patient.bulk",
  "patient.merge", "patient.unmerge", "duplicate.decide", "user.create", "user.update",
] as const;

/** Who did what, when: every audit event, filtered by person, action, patient and days (GET /audit), in the URL. */
function Audit({ search, update }: { search: AdminSearch; update: (patch: Partial<AdminSearch>) => void }) {
  const patientId = search.paciente;
  const [text, setText] = useState("");
  const [debounced] = useDebouncedValue(text, 200);
  const suggestions = useQuery(suggestQuery(debounced));
  const options = (suggestions.data?.items ?? []).map((s) => ({ id: s.id, label: `${s.name}${s.cpf_masked ? ` · CPF ${s.cpf_masked}` : ""}` }));
  const users = useQuery(usersQuery);
  const patient = useQuery({
    queryKey: ["patient", patientId],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/patients/{patient_id}", { params: { path: { patient_id: patientId! } }, signal })),
    enabled: !!patientId,
  });
  const filters = {
    actor_id: search.quem, action: search.acao as (typeof AUDIT_ACTIONS)[number] | undefined,
    entity_type: patientId ? "patient" : undefined, entity_id: patientId, from: search.de, to: search.ate,
  };
  const audit = useInfiniteQuery({
    queryKey: ["audit", filters],
    queryFn: ({ pageParam, signal }) => unwrap(api.GET("/api/v1/audit", { params: { query: { ...filters, limit: 50, cursor: pageParam } }, signal })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const rows = audit.data?.pages.flatMap((p) => p.items) ?? [];
  const filtered = !!(search.quem || search.acao || patientId || search.de || search.ate);
  return (
    <Stack gap="sm">
      <Group gap="sm" align="flex-end">
        <Autocomplete label="Paciente" placeholder="Busque pelo nome, CPF ou telefone" w={{ base: "100%", sm: 360 }}
          value={text} data={options.map((o) => o.label)} filter={({ options: all }) => all}
          onChange={(v) => { setText(v); const hit = options.find((o) => o.label === v); if (hit) update({ paciente: hit.id }); }} />
        <Select label="Quem" w={{ base: "100%", xs: 220 }} value={search.quem ?? ""} allowDeselect={false} withCheckIcon={false} searchable
          data={[{ value: "", label: "Todos" }, ...(users.data?.items ?? []).map((u) => ({ value: u.id, label: u.name }))]}
          onChange={(v) => update({ quem: v || undefined })} />
        <Select label="Ação" w={{ base: "100%", xs: 200 }} value={search.acao ?? ""} allowDeselect={false} withCheckIcon={false}
          data={[{ value: "", label: "Todas" }, ...AUDIT_ACTIONS.map((a) => ({ value: a, label: auditActionLabel(a) }))]}
          onChange={(v) => update({ acao: v || undefined })} />
        <DayInput label="De" value={search.de ?? ""} onChange={(d) => update({ de: d || undefined })} clearable />
        <DayInput label="Até" value={search.ate ?? ""} onChange={(d) => update({ ate: d || undefined })} clearable />
        {filtered && <Button variant="subtle" onClick={() => { setText(""); update({ paciente: undefined, quem: undefined, acao: undefined, de: undefined, ate: undefined }); }}>Limpar filtros</Button>}
      </Group>
      {patientId && patient.data && (
        <Text>Trilha de <AnchorLink to="/pacientes/$patientId" params={{ patientId }} fw={600}>{patient.data.name}</AnchorLink></Text>
      )}
      {audit.error ? <Problem error={audit.error} /> : audit.isPending ? <Loading label="Carregando auditoria" /> : !rows.length ? (
        <Text c="dimmed">Nenhum evento{filtered ? " neste filtro" : ""}.</Text>
      ) : (
        <Table.ScrollContainer minWidth={320}>
          <Table striped verticalSpacing="xs" data-testid="audit-table">
            <Table.Thead><Table.Tr>
              <Table.Th scope="col">Quando</Table.Th><Table.Th scope="col" visibleFrom="sm">Quem</Table.Th><Table.Th scope="col" visibleFrom="sm">Perfil</Table.Th>
              <Table.Th scope="col">Ação</Table.Th><Table.Th scope="col" visibleFrom="sm">Detalhe</Table.Th><Table.Th scope="col" visibleFrom="sm">IP</Table.Th>
            </Table.Tr></Table.Thead>
            <Table.Tbody>
              {rows.map((e) => (
                <Table.Tr key={e.id}>
                  <Table.Td>
                    <Text size="sm" style={{ whiteSpace: "nowrap" }}>{formatDateTime(e.occurred_at)}</Text>
                    <Text size="xs" c="dimmed" hiddenFrom="sm">{e.actor_name ?? "—"} ({roleLabel(e.actor_role)})</Text>
                  </Table.Td>
                  <Table.Td visibleFrom="sm">{e.actor_name ?? "—"}</Table.Td><Table.Td visibleFrom="sm">{roleLabel(e.actor_role)}</Table.Td>
                  <Table.Td>
                    {auditActionLabel(e.action)}
                    {!patientId && e.entity_type === "patient" && e.entity_id && (
                      <> · <AnchorLink to="/admin" search={{ aba: "auditoria", paciente: e.entity_id }} size="sm">trilha do paciente</AnchorLink></>
                    )}
                    <Text size="xs" c="dimmed" hiddenFrom="sm">{auditDetail(e.details)}</Text>
                  </Table.Td>
                  <Table.Td visibleFrom="sm"><Text size="sm">{auditDetail(e.details)}</Text></Table.Td>
                  <Table.Td visibleFrom="sm">{e.ip ?? "—"}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {audit.hasNextPage && <Button variant="default" w="fit-content" loading={audit.isFetchingNextPage} onClick={() => void audit.fetchNextPage()}>Carregar mais</Button>}
    </Stack>
  );
}

const CHANGE_LABELS: Record<string, string> = {
  "visit.create": "agendou visita", "visit.update": "alterou visita", "visit.confirmation_attempt": "registrou tentativa de confirmação",
};

function auditDetail(details: Record<string, unknown>): ReactNode {
  const parts: string[] = [];
  if (typeof details.change === "string") parts.push(CHANGE_LABELS[details.change] ?? details.change);
  if (Array.isArray(details.fields) && details.fields.length) parts.push(`campos: ${details.fields.map((f) => fieldLabel(String(f))).join(", ")}`);
  if (typeof details.view === "string") parts.push(`tela: ${details.view}`);
  const job = typeof details.job_id === "string" ? details.job_id : null;
  if (!parts.length && !job) return "—";
  return (
    <>
      {parts.join(" · ")}
      {job && <>{parts.length ? " · " : ""}<AnchorLink to="/lotes/$jobId" params={{ jobId: job }} size="sm">ver o lote</AnchorLink></>}
    </>
  );
}

// ------------------------------------------------------------------ sync

type ReindexIndex = "patients" | "visits";
type ReindexJob = Schemas["ReindexJobRead"];
const INDEXES: ReindexIndex[] = ["patients", "visits"];
const reindexActive = (status: string) => status === "queued" || status === "backfilling" || status === "swapping";

/** The latest rebuild of an index: followed every second while it runs. */
function useLatestReindex(index: ReindexIndex) {
  return useQuery({
    queryKey: ["admin", "reindex", index],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/admin/reindex", { params: { query: { index, limit: 1 } }, signal })),
    select: (page) => page.items[0] ?? null,
    refetchInterval: (query) => (query.state.data?.items[0] && reindexActive(query.state.data.items[0].status) ? 1_000 : 10_000),
    staleTime: 0,
  });
}

function Sync() {
  const sync = useQuery({
    queryKey: ["admin", "sync"],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/admin/sync", { signal })),
    refetchInterval: 3_000, staleTime: 0,
  });
  const jobs = { patients: useLatestReindex("patients"), visits: useLatestReindex("visits") };
  const reindex = useMutation({
    mutationFn: (index: ReindexIndex) => unwrap(api.POST("/api/v1/admin/reindex", { body: { index } })),
    onSettled: (_job, _error, index) => queryClient.invalidateQueries({ queryKey: ["admin", "reindex", index] }),
  });
  if (sync.error) return <Problem error={sync.error} retry={() => void sync.refetch()} />;
  if (sync.isPending) return <Loading label="Carregando sincronização" />;
  const s = sync.data;
  const names: Record<string, string> = { patients: "Pacientes", visits: "Visitas" };
  return (
    <Stack gap="md">
      <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="sm">
        <Paper withBorder p="sm" radius="md" data-sync="outbox">
          <Text size="sm" c="dimmed">Alterações a enviar para a busca</Text>
          <Text fz={28} fw={700}>{formatCount(s.outbox_pending)}</Text>
          <Text size="xs" c="dimmed">{s.oldest_pending_seconds == null ? "Nada pendente" : `Mais antiga há ${Math.round(s.oldest_pending_seconds)} s`}</Text>
        </Paper>
      </SimpleGrid>
      <Table.ScrollContainer minWidth={300}>
        <Table verticalSpacing="xs" data-testid="sync-table">
          <Table.Thead><Table.Tr>
            <Table.Th scope="col">Índice</Table.Th><Table.Th scope="col" ta="right">Banco de dados</Table.Th><Table.Th scope="col" ta="right">Busca</Table.Th>
            <Table.Th scope="col" visibleFrom="sm">Situação</Table.Th><Table.Th scope="col" visibleFrom="sm"><span className="sr-only">Ações</span></Table.Th>
          </Table.Tr></Table.Thead>
          <Table.Tbody>
            {Object.entries(s.documents).map(([name, counts]) => {
              const equal = counts.index === counts.postgres;
              const index = INDEXES.find((x) => x === name);
              const running = index ? jobs[index].data && reindexActive(jobs[index].data.status) : false;
              // A phone shows the state and the button under the index's name; wider screens in columns of their own.
              const badge = <Badge color={equal ? "teal" : "yellow"}>{equal ? "Em dia" : `Diferença de ${formatCount(Math.abs((counts.index ?? 0) - counts.postgres))}`}</Badge>;
              const button = index && (
                <Button size="compact-sm" variant="light" loading={reindex.isPending && reindex.variables === index} disabled={!!running}
                  onClick={() => reindex.mutate(index)} aria-label={`Reconstruir índice de ${names[index]!.toLowerCase()}`}>Reconstruir índice</Button>
              );
              return (
                <Table.Tr key={name}>
                  <Table.Td>
                    <Text fw={600} size="sm">{names[name] ?? name}</Text>
                    <Box hiddenFrom="sm" mt={4}>{badge}</Box>
                    <Box hiddenFrom="sm" mt={6}>{button}</Box>
                  </Table.Td>
                  <Table.Td ta="right">{formatCount(counts.postgres)}</Table.Td>
                  <Table.Td ta="right">{counts.index == null ? "indisponível" : formatCount(counts.index)}</Table.Td>
                  <Table.Td visibleFrom="sm">{badge}</Table.Td>
                  <Table.Td visibleFrom="sm">{button}</Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {reindex.error && <Alert color="red" role="alert" title="Não foi possível reconstruir">{reindexProblem(reindex.error)}</Alert>}
      <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="sm">
        {INDEXES.map((index) => jobs[index].data ? <ReindexCard key={index} name={names[index]!} job={jobs[index].data} /> : null)}
      </SimpleGrid>
    </Stack>
  );
}

function reindexProblem(error: unknown): string {
  if (error instanceof ApiProblem && error.code === "reindex_running") return "Já há uma reconstrução deste índice na fila ou em andamento: acompanhe abaixo.";
  return problemMessage(error);
}

const REINDEX_STATUS: Record<string, string> = {
  queued: "Na fila", backfilling: "Copiando do banco de dados", swapping: "Trocando o índice", done: "Concluída", failed: "Falhou",
};

/** A rebuild and how far it got: rows copied, then the swap; the search keeps answering meanwhile. */
function ReindexCard({ name, job }: { name: string; job: ReindexJob }) {
  const active = reindexActive(job.status);
  const value = job.status === "done" ? 100 : job.total ? (job.processed / job.total) * 100 : 0;
  return (
    <Paper withBorder p="sm" radius="md" data-reindex={job.index} data-job-id={job.job_id} aria-label={`Última reconstrução: ${name}`} component="section">
      <Group justify="space-between" gap="xs">
        <Text size="sm" fw={600}>Última reconstrução: {name}</Text>
        <Badge color={job.status === "done" ? "teal" : job.status === "failed" ? "red" : "blue"} data-testid={`reindex-status-${job.index}`}>
          {REINDEX_STATUS[job.status] ?? job.status}
        </Badge>
      </Group>
      <Progress mt={8} value={value} animated={active} color={job.status === "failed" ? "red" : "indigo"} aria-label={`Progresso da reconstrução: ${name}`} />
      <Text size="xs" c="dimmed" mt={4} role="status" aria-live="polite">
        {job.total == null ? "Contando as linhas…" : `${formatCount(job.processed)} de ${formatCount(job.total)} linhas`}
        {" · pedida em "}{formatDateTime(job.created_at)}
        {job.finished_at ? ` · terminou em ${formatDateTime(job.finished_at)}` : ""}
        {active ? " · a busca continua respondendo" : ""}
      </Text>
      {job.failure && <Text size="sm" c="red.9" mt={4}>{job.failure.message}</Text>}
    </Paper>
  );
}
