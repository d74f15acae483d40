import {
  Alert, Autocomplete, Badge, Box, Button, Group, Modal, Paper, PasswordInput, Select, SimpleGrid, Stack, Switch, Table, Tabs, Text,
  TextInput, Title,
} from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useInfiniteQuery, useMutation, useQuery } from "@tanstack/react-query";
import { useNavigate, useSearch } from "@tanstack/react-router";
import { useState } from "react";
import { api, type Schemas } from "../../api/client";
import { problemMessage, unwrap } from "../../api/errors";
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
        <Tabs.Panel value="auditoria" pt="md"><Audit patientId={search.paciente} setPatient={(id) => update({ paciente: id })} /></Tabs.Panel>
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
        <Table striped verticalSpacing="xs" data-testid="users-table">
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
                <Table.Td><Badge color="gray">{roleLabel(u.role)}</Badge></Table.Td>
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

function Audit({ patientId, setPatient }: { patientId?: string; setPatient: (id: string | undefined) => void }) {
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
  const audit = useInfiniteQuery({
    queryKey: ["patient", patientId, "audit", "admin"],
    queryFn: ({ pageParam, signal }) => unwrap(api.GET("/api/v1/patients/{patient_id}/audit", {
      params: { path: { patient_id: patientId! }, query: { limit: 50, cursor: pageParam } }, signal,
    })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    enabled: !!patientId,
  });
  const who = (id: string | null) => users.data?.items.find((u) => u.id === id)?.name ?? "—";
  const rows = audit.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <Stack gap="sm">
      <Autocomplete label="Paciente" placeholder="Busque pelo nome, CPF ou telefone" w={{ base: "100%", sm: 480 }}
        value={text} data={options.map((o) => o.label)} filter={({ options: all }) => all}
        onChange={(v) => { setText(v); const hit = options.find((o) => o.label === v); if (hit) setPatient(hit.id); }} />
      {!patientId ? <Text c="dimmed">Escolha um paciente para ver quem consultou ou alterou o cadastro.</Text> : (
        <>
          {patient.data && (
            <Text>Trilha de <AnchorLink to="/pacientes/$patientId" params={{ patientId }} fw={600}>{patient.data.name}</AnchorLink></Text>
          )}
          {audit.error ? <Problem error={audit.error} /> : audit.isPending ? <Loading label="Carregando auditoria" /> : (
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
                        <Text size="xs" c="dimmed" hiddenFrom="sm">{who(e.actor_id)} ({roleLabel(e.actor_role)})</Text>
                      </Table.Td>
                      <Table.Td visibleFrom="sm">{who(e.actor_id)}</Table.Td><Table.Td visibleFrom="sm">{roleLabel(e.actor_role)}</Table.Td>
                      <Table.Td>
                        {auditActionLabel(e.action)}
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
        </>
      )}
    </Stack>
  );
}

const CHANGE_LABELS: Record<string, string> = {
  "visit.create": "agendou visita", "visit.update": "alterou visita", "visit.confirmation_attempt": "registrou tentativa de confirmação",
};

function auditDetail(details: Record<string, unknown>): string {
  const parts: string[] = [];
  if (typeof details.change === "string") parts.push(CHANGE_LABELS[details.change] ?? details.change);
  if (Array.isArray(details.fields) && details.fields.length) parts.push(`campos: ${details.fields.map((f) => fieldLabel(String(f))).join(", ")}`);
  if (typeof details.view === "string") parts.push(`tela: ${details.view}`);
  if (typeof details.job_id === "string") parts.push("lote");
  return parts.join(" · ") || "—";
}

// ------------------------------------------------------------------ sync

function Sync() {
  const sync = useQuery({
    queryKey: ["admin", "sync"],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/admin/sync", { signal })),
    refetchInterval: 3_000, staleTime: 0,
  });
  const [queued, setQueued] = useState<string | null>(null);
  const reindex = useMutation({
    mutationFn: (index: "patients" | "visits") => unwrap(api.POST("/api/v1/admin/reindex", { body: { index } })),
    onSuccess: (r) => setQueued(`Reconstrução do índice de ${r.index === "patients" ? "pacientes" : "visitas"} na fila. As contagens abaixo mostram o índice ao vivo; a busca continua respondendo durante a reconstrução.`),
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
              // A phone shows the state and the button under the index's name; wider screens in columns of their own.
              const badge = <Badge color={equal ? "teal" : "yellow"}>{equal ? "Em dia" : `Diferença de ${formatCount(Math.abs((counts.index ?? 0) - counts.postgres))}`}</Badge>;
              const button = (name === "patients" || name === "visits") && (
                <Button size="compact-sm" variant="light" loading={reindex.isPending && reindex.variables === name}
                  onClick={() => { setQueued(null); reindex.mutate(name); }}>Reconstruir índice</Button>
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
      {queued && <Alert color="teal" role="status">{queued}</Alert>}
      {reindex.error && <Alert color="red" role="alert" title="Não foi possível reconstruir">{problemMessage(reindex.error)}</Alert>}
    </Stack>
  );
}
