import { DndContext, type DragEndEvent, PointerSensor, useDraggable, useDroppable, useSensor, useSensors } from "@dnd-kit/core";
import { CSS } from "@dnd-kit/utilities";
import {
  Alert, Badge, Button, Grid, Group, Modal, NumberInput, Paper, Select, SimpleGrid, Stack, Table, Tabs, Text, TextInput, Title,
} from "@mantine/core";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useNavigate, useSearch } from "@tanstack/react-router";
import { useState } from "react";
import { api } from "../../api/client";
import { problemMessage, unwrap } from "../../api/errors";
import { DayPicker } from "../../components/pickers";
import { Loading, Problem } from "../../components/states";
import { todayIso } from "../../lib/dates";
import { openRouteSheet } from "../../lib/download";
import { formatPhone } from "../../lib/format";
import { carName, carStatusLabel, personStatusLabel } from "../../lib/labels";
import { byLabel, carsQuery, collectorsQuery, driversQuery, teamsQuery, type Car, type Team } from "../../lib/reference";
import { queryClient } from "../../queryClient";
import type { FleetSearch } from "../../routeSearch";
import { useMe } from "../../session";

export function FleetPage() {
  const search = useSearch({ from: "/app/frota" });
  const navigate = useNavigate({ from: "/frota" });
  const update = (patch: Partial<FleetSearch>) => void navigate({ search: (prev) => ({ ...prev, ...patch }), replace: true });
  const tab = search.aba ?? "equipes";
  return (
    <Stack gap="md" maw={1300} mx="auto">
      <Title order={1} size="h2">Frota e equipes</Title>
      <Tabs value={tab} onChange={(v) => update({ aba: v === "equipes" ? undefined : (v as FleetSearch["aba"]) })} keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="equipes">Equipes do dia</Tabs.Tab>
          <Tabs.Tab value="carros">Carros</Tabs.Tab>
          <Tabs.Tab value="motoristas">Motoristas</Tabs.Tab>
          <Tabs.Tab value="coletoras">Coletoras</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="equipes" pt="md"><Teams date={search.data ?? todayIso()} setDate={(d) => update({ data: d === todayIso() ? undefined : d })} /></Tabs.Panel>
        <Tabs.Panel value="carros" pt="md"><Cars /></Tabs.Panel>
        <Tabs.Panel value="motoristas" pt="md"><People kind="driver" /></Tabs.Panel>
        <Tabs.Panel value="coletoras" pt="md"><People kind="collector" /></Tabs.Panel>
      </Tabs>
    </Stack>
  );
}

// ------------------------------------------------------------------ teams

interface Draft { driver: string | null; collector: string | null }

function Teams({ date, setDate }: { date: string; setDate: (d: string) => void }) {
  const me = useMe();
  const cars = useQuery(carsQuery);
  const teams = useQuery(teamsQuery(date));
  const drivers = useQuery(driversQuery);
  const collectors = useQuery(collectorsQuery);
  const [drafts, setDrafts] = useState<Record<string, Draft>>({});
  const sensors = useSensors(useSensor(PointerSensor, { activationConstraint: { distance: 6 } }));
  const loading = cars.isPending || teams.isPending || drivers.isPending || collectors.isPending;
  const error = cars.error ?? teams.error ?? drivers.error ?? collectors.error;
  const activeCars = (cars.data?.items ?? []).filter((c) => c.status === "active").sort(byLabel);
  const teamOf = (carId: string) => teams.data?.items.find((t) => t.car.id === carId);
  const draftOf = (carId: string): Draft => drafts[carId] ?? { driver: teamOf(carId)?.driver.id ?? null, collector: teamOf(carId)?.collector.id ?? null };
  const setDraft = (carId: string, patch: Partial<Draft>) => setDrafts((all) => ({ ...all, [carId]: { ...draftOf(carId), ...patch } }));
  const onDragEnd = (event: DragEndEvent) => {
    const person = event.active.data.current as { kind: "driver" | "collector"; id: string } | undefined;
    if (!person || !event.over) return;
    setDraft(String(event.over.id), person.kind === "driver" ? { driver: person.id } : { collector: person.id });
  };
  const busy = new Set((teams.data?.items ?? []).flatMap((t) => [t.driver.id, t.collector.id]));

  return (
    <Stack gap="md">
      <Group justify="space-between" align="flex-end">
        <DayPicker value={date} onChange={(d) => { setDrafts({}); setDate(d); }} />
        {me.can.operate && <Text size="sm" c="dimmed" maw={520}>Escolha motorista e coletora de cada carro, ou arraste um nome da lista para o carro; depois salve.</Text>}
      </Group>
      {error ? <Problem error={error} /> : loading ? <Loading label="Carregando equipes" /> : (
        <DndContext sensors={sensors} onDragEnd={onDragEnd}>
          <Grid gap="md">
            <Grid.Col span={{ base: 12, md: me.can.operate ? 9 : 12 }}>
              <Stack gap="sm" component="ul" p={0} m={0} style={{ listStyle: "none" }}>
                {activeCars.map((car) => (
                  <TeamRow key={car.id} car={car} date={date} team={teamOf(car.id)} draft={draftOf(car.id)} canEdit={me.can.operate}
                    setDraft={(p) => setDraft(car.id, p)} clearDraft={() => setDrafts(({ [car.id]: _gone, ...rest }) => rest)}
                    drivers={(drivers.data?.items ?? []).filter((d) => d.status === "active")}
                    collectors={(collectors.data?.items ?? []).filter((c) => c.status === "active")} />
                ))}
                {activeCars.length === 0 && <Text c="dimmed">Nenhum carro ativo.</Text>}
              </Stack>
            </Grid.Col>
            {me.can.operate && (
              <Grid.Col span={{ base: 12, md: 3 }}>
                <Paper withBorder p="sm" radius="md" component="aside" aria-label="Pessoas para arrastar">
                  <Title order={2} size="h5" mb={6}>Motoristas</Title>
                  <Group gap={6}>{(drivers.data?.items ?? []).filter((d) => d.status === "active").map((d) => <PersonChip key={d.id} kind="driver" id={d.id} name={d.name} busy={busy.has(d.id)} />)}</Group>
                  <Title order={2} size="h5" mt="md" mb={6}>Coletoras</Title>
                  <Group gap={6}>{(collectors.data?.items ?? []).filter((c) => c.status === "active").map((c) => <PersonChip key={c.id} kind="collector" id={c.id} name={c.name} busy={busy.has(c.id)} />)}</Group>
                  <Text size="xs" c="dimmed" mt="sm">Em cinza: já numa equipe neste dia.</Text>
                </Paper>
              </Grid.Col>
            )}
          </Grid>
        </DndContext>
      )}
    </Stack>
  );
}

function PersonChip({ kind, id, name, busy }: { kind: "driver" | "collector"; id: string; name: string; busy: boolean }) {
  const { setNodeRef, listeners, transform, isDragging } = useDraggable({ id: `${kind}:${id}`, data: { kind, id } });
  return (
    <Badge ref={setNodeRef} {...listeners} size="lg" color={busy ? "gray" : kind === "driver" ? "indigo" : "teal"} variant="light"
      style={{ transform: CSS.Translate.toString(transform), cursor: "grab", touchAction: "none", zIndex: isDragging ? 10 : undefined, textTransform: "none" }}
      data-person={id}>
      {name}
    </Badge>
  );
}

function TeamRow({ car, date, team, draft, setDraft, clearDraft, drivers, collectors, canEdit }: {
  car: Car; date: string; team: Team | undefined; draft: Draft; setDraft: (p: Partial<Draft>) => void; clearDraft: () => void;
  drivers: { id: string; name: string }[]; collectors: { id: string; name: string }[]; canEdit: boolean;
}) {
  const { setNodeRef, isOver } = useDroppable({ id: car.id, disabled: !canEdit });
  const changed = draft.driver !== (team?.driver.id ?? null) || draft.collector !== (team?.collector.id ?? null);
  const refresh = () => Promise.all([queryClient.invalidateQueries({ queryKey: ["teams", date] }), queryClient.invalidateQueries({ queryKey: ["schedule"] })]);
  const save = useMutation({
    mutationFn: () => team
      ? unwrap(api.PATCH("/api/v1/teams/{team_id}", { params: { path: { team_id: team.id } }, body: { driver_id: draft.driver, collector_id: draft.collector } }))
      : unwrap(api.POST("/api/v1/teams", { body: { car_id: car.id, date, driver_id: draft.driver!, collector_id: draft.collector! } })),
    onSuccess: async () => { clearDraft(); await refresh(); },
  });
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE("/api/v1/teams/{team_id}", { params: { path: { team_id: team!.id } } })),
    onSuccess: async () => { clearDraft(); await refresh(); },
  });
  const sheet = useMutation({ mutationFn: () => openRouteSheet(car.id, date) });
  const name = carName(car.label, car.base);
  return (
    <Paper component="li" ref={setNodeRef} withBorder p="sm" radius="md" data-team-car={car.id} aria-label={name}
      style={{ background: isOver ? "var(--mantine-color-indigo-0)" : undefined }}>
      <Group justify="space-between" align="flex-end" gap="sm">
        <div style={{ minWidth: 160 }}>
          <Text fw={700}>{name}</Text>
          <Text size="xs" c="dimmed">{car.unit_name ?? "—"}{car.plate ? ` · ${car.plate}` : ""}</Text>
          {team ? <Badge color="teal" size="sm" mt={4}>Equipe definida</Badge> : <Badge color="gray" size="sm" mt={4}>Sem equipe</Badge>}
        </div>
        {canEdit ? (
          <>
            <Select label="Motorista" w={200} placeholder="Escolha" searchable value={draft.driver} onChange={(v) => setDraft({ driver: v })}
              data={drivers.map((d) => ({ value: d.id, label: d.name }))} />
            <Select label="Coletora" w={200} placeholder="Escolha" searchable value={draft.collector} onChange={(v) => setDraft({ collector: v })}
              data={collectors.map((c) => ({ value: c.id, label: c.name }))} />
            <Group gap={6}>
              <Button size="sm" disabled={!changed || !draft.driver || !draft.collector} loading={save.isPending} onClick={() => save.mutate()}>Salvar</Button>
              {team && <Button size="sm" variant="default" loading={remove.isPending} onClick={() => remove.mutate()}>Desfazer</Button>}
              <Button size="sm" variant="light" loading={sheet.isPending} onClick={() => sheet.mutate()}>Folha de rota</Button>
            </Group>
          </>
        ) : (
          <Text size="sm">{team ? `Motorista: ${team.driver.name} · Coletora: ${team.collector.name}` : "—"}</Text>
        )}
      </Group>
      {(save.error ?? remove.error ?? sheet.error) && (
        <Alert mt="xs" color="red" role="alert" title="Não foi possível salvar a equipe">{problemMessage(save.error ?? remove.error ?? sheet.error)}</Alert>
      )}
    </Paper>
  );
}

// ------------------------------------------------------------------ cars

function Cars() {
  const me = useMe();
  const cars = useQuery(carsQuery);
  const [editing, setEditing] = useState<Car | "new" | null>(null);
  if (cars.error) return <Problem error={cars.error} />;
  if (cars.isPending) return <Loading label="Carregando carros" />;
  return (
    <Stack gap="sm">
      {me.can.operate && <Group justify="flex-end"><Button onClick={() => setEditing("new")}>Novo carro</Button></Group>}
      <Table.ScrollContainer minWidth={320}>
        <Table striped verticalSpacing="xs" data-testid="cars-table">
          <Table.Thead><Table.Tr>
            <Table.Th scope="col">Carro</Table.Th><Table.Th scope="col" visibleFrom="sm">Base</Table.Th><Table.Th scope="col" visibleFrom="sm">Unidade</Table.Th>
            <Table.Th scope="col" visibleFrom="sm">Placa</Table.Th><Table.Th scope="col" visibleFrom="sm">Modelo</Table.Th><Table.Th scope="col">Situação</Table.Th>
            <Table.Th scope="col" ta="right" visibleFrom="sm">Capacidade/dia</Table.Th><Table.Th scope="col"><span className="sr-only">Ações</span></Table.Th>
          </Table.Tr></Table.Thead>
          <Table.Tbody>
            {[...cars.data.items].sort(byLabel).map((c) => (
              <Table.Tr key={c.id}>
                <Table.Td>
                  <Text fw={600} size="sm" span>{c.label}</Text>{c.imported && <Badge size="xs" color="gray" ml={6}>da agenda</Badge>}
                  <Text size="xs" c="dimmed" hiddenFrom="sm">{[c.base, c.unit_name ?? c.unit_code, c.plate].filter(Boolean).join(" · ") || "Sem base nem unidade"}</Text>
                </Table.Td>
                <Table.Td visibleFrom="sm">{c.base ?? "—"}</Table.Td><Table.Td visibleFrom="sm">{c.unit_name ?? c.unit_code ?? "—"}</Table.Td>
                <Table.Td ff="monospace" visibleFrom="sm">{c.plate ?? "—"}</Table.Td><Table.Td visibleFrom="sm">{c.model ?? "—"}</Table.Td>
                <Table.Td><Badge color={c.status === "active" ? "teal" : c.status === "maintenance" ? "yellow" : "gray"}>{carStatusLabel(c.status)}</Badge></Table.Td>
                <Table.Td ta="right" visibleFrom="sm">{c.daily_capacity}</Table.Td>
                <Table.Td>{me.can.operate && <Button size="compact-sm" variant="subtle" onClick={() => setEditing(c)} aria-label={`Editar ${carName(c.label, c.base)}`}>Editar</Button>}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {editing && <CarForm car={editing === "new" ? null : editing} onClose={() => setEditing(null)} />}
    </Stack>
  );
}

function CarForm({ car, onClose }: { car: Car | null; onClose: () => void }) {
  const [form, setForm] = useState({
    label: car?.label ?? "", base: car?.base ?? "", plate: car?.plate ?? "", model: car?.model ?? "",
    status: car?.status ?? "active", daily_capacity: car?.daily_capacity ?? 7, unit_code: car?.unit_code ?? "", unit_name: car?.unit_name ?? "",
  });
  const set = (patch: Partial<typeof form>) => setForm({ ...form, ...patch });
  const nil = (v: string) => v.trim() || null;
  const save = useMutation({
    mutationFn: () => car
      ? unwrap(api.PATCH("/api/v1/cars/{car_id}", { params: { path: { car_id: car.id } }, body: {
        label: form.label.trim(), base: nil(form.base), plate: nil(form.plate), model: nil(form.model), status: form.status, daily_capacity: form.daily_capacity,
      } }))
      : unwrap(api.POST("/api/v1/cars", { body: {
        label: form.label.trim(), base: nil(form.base), plate: nil(form.plate), model: nil(form.model), status: form.status,
        daily_capacity: form.daily_capacity, unit_code: nil(form.unit_code), unit_name: nil(form.unit_name),
      } })),
    onSuccess: async () => { await queryClient.invalidateQueries({ queryKey: ["cars"] }); onClose(); },
  });
  return (
    <Modal opened onClose={onClose} title={car ? `Editar ${carName(car.label, car.base)}` : "Novo carro"} closeButtonProps={{ "aria-label": "Fechar" }}>
      <form onSubmit={(e) => { e.preventDefault(); save.mutate(); }}>
        <SimpleGrid cols={2} spacing="sm">
          <TextInput label="Rótulo" required value={form.label} onChange={(e) => set({ label: e.currentTarget.value })} placeholder="CARRO 4" />
          <TextInput label="Base" value={form.base} onChange={(e) => set({ base: e.currentTarget.value })} placeholder="AV CENTER 1" />
          <TextInput label="Placa" value={form.plate} onChange={(e) => set({ plate: e.currentTarget.value.toUpperCase() })} placeholder="ABC1D23" />
          <TextInput label="Modelo" value={form.model} onChange={(e) => set({ model: e.currentTarget.value })} />
          <Select label="Situação" value={form.status} allowDeselect={false} onChange={(v) => v && set({ status: v as typeof form.status })}
            data={["active", "maintenance", "inactive"].map((s) => ({ value: s, label: carStatusLabel(s) }))} />
          <NumberInput label="Capacidade por dia" min={1} max={50} value={form.daily_capacity} onChange={(v) => set({ daily_capacity: Number(v) || 1 })} />
          {!car && <TextInput label="Código da unidade" value={form.unit_code} onChange={(e) => set({ unit_code: e.currentTarget.value })} />}
          {!car && <TextInput label="Nome da unidade" value={form.unit_name} onChange={(e) => set({ unit_name: e.currentTarget.value })} />}
        </SimpleGrid>
        {save.error && <Alert mt="sm" color="red" role="alert">{problemMessage(save.error)}</Alert>}
        <Group justify="flex-end" mt="md">
          <Button variant="default" onClick={onClose}>Cancelar</Button>
          <Button type="submit" loading={save.isPending} disabled={!form.label.trim()}>Salvar</Button>
        </Group>
      </form>
    </Modal>
  );
}

// ------------------------------------------------------------------ drivers and collectors

interface Person { id: string; name: string; phone: string | null; phone_masked: string | null; status: string; detail: string }

function People({ kind }: { kind: "driver" | "collector" }) {
  const me = useMe();
  const drivers = useQuery({ ...driversQuery, enabled: kind === "driver" });
  const collectors = useQuery({ ...collectorsQuery, enabled: kind === "collector" });
  const list = kind === "driver" ? drivers : collectors;
  const [adding, setAdding] = useState(false);
  if (list.error) return <Problem error={list.error} />;
  if (list.isPending) return <Loading label="Carregando" />;
  const rows: Person[] = kind === "driver"
    ? (drivers.data?.items ?? []).map((d) => ({ ...d, detail: d.user_id ? "Vinculada" : "Sem conta" }))
    : (collectors.data?.items ?? []).map((c) => ({ ...c, detail: c.registration?.display ?? "—" }));
  const items = rows.sort((a, b) => a.name.localeCompare(b.name, "pt-BR"));
  return (
    <Stack gap="sm">
      {me.can.operate && <Group justify="flex-end"><Button onClick={() => setAdding(true)}>{kind === "driver" ? "Novo motorista" : "Nova coletora"}</Button></Group>}
      <Table.ScrollContainer minWidth={300}>
        <Table striped verticalSpacing="xs">
          <Table.Thead><Table.Tr>
            <Table.Th scope="col">Nome</Table.Th><Table.Th scope="col" visibleFrom="sm">Telefone</Table.Th>
            <Table.Th scope="col" visibleFrom="sm">{kind === "driver" ? "Conta no aplicativo" : "Registro profissional"}</Table.Th><Table.Th scope="col">Situação</Table.Th>
          </Table.Tr></Table.Thead>
          <Table.Tbody>
            {items.map((p) => (
              <Table.Tr key={p.id}>
                <Table.Td>
                  <Text fw={600} size="sm">{p.name}</Text>
                  <Text size="xs" c="dimmed" hiddenFrom="sm">{p.phone ? formatPhone(p.phone) : p.phone_masked ?? "Sem telefone"} · {p.detail}</Text>
                </Table.Td>
                <Table.Td style={{ whiteSpace: "nowrap" }} visibleFrom="sm">{p.phone ? formatPhone(p.phone) : p.phone_masked ?? "—"}</Table.Td>
                <Table.Td visibleFrom="sm">{p.detail}</Table.Td>
                <Table.Td><Badge color={p.status === "active" ? "teal" : "gray"}>{personStatusLabel(p.status)}</Badge></Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {adding && <PersonForm kind={kind} onClose={() => setAdding(false)} />}
    </Stack>
  );
}

function PersonForm({ kind, onClose }: { kind: "driver" | "collector"; onClose: () => void }) {
  const me = useMe();
  const [name, setName] = useState("");
  const [phone, setPhone] = useState("");
  const [user, setUser] = useState<string | null>(null);
  const [reg, setReg] = useState({ council: "COREN", number: "", state: "RJ" });
  const users = useQuery({
    queryKey: ["users"], enabled: kind === "driver" && me.can.administer,
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/users", { params: { query: { limit: 500 } }, signal })),
  });
  const save = useMutation({
    mutationFn: async () => {
      if (kind === "driver") await unwrap(api.POST("/api/v1/drivers", { body: { name: name.trim(), phone: phone.trim() || null, user_id: user, status: "active" } }));
      else await unwrap(api.POST("/api/v1/collectors", { body: { name: name.trim(), phone: phone.trim() || null, registration: reg.number.trim() ? reg : null, status: "active" } }));
    },
    onSuccess: async () => { await queryClient.invalidateQueries({ queryKey: [kind === "driver" ? "drivers" : "collectors"] }); onClose(); },
  });
  return (
    <Modal opened onClose={onClose} title={kind === "driver" ? "Novo motorista" : "Nova coletora"} closeButtonProps={{ "aria-label": "Fechar" }}>
      <form onSubmit={(e) => { e.preventDefault(); save.mutate(); }}>
        <Stack gap="sm">
          <TextInput label="Nome" required value={name} onChange={(e) => setName(e.currentTarget.value)} />
          <TextInput label="Telefone" value={phone} onChange={(e) => setPhone(e.currentTarget.value)} placeholder="(21) 98765-4321" />
          {kind === "driver" && me.can.administer && (
            <Select label="Conta de motorista no aplicativo" clearable placeholder="Nenhuma" value={user} onChange={setUser}
              data={(users.data?.items ?? []).filter((u) => u.role === "driver").map((u) => ({ value: u.id, label: `${u.name} (${u.email})` }))} />
          )}
          {kind === "collector" && (
            <SimpleGrid cols={3} spacing="sm">
              <TextInput label="Conselho" value={reg.council} onChange={(e) => setReg({ ...reg, council: e.currentTarget.value.toUpperCase() })} />
              <TextInput label="Número" value={reg.number} onChange={(e) => setReg({ ...reg, number: e.currentTarget.value })} />
              <TextInput label="UF" maxLength={2} value={reg.state} onChange={(e) => setReg({ ...reg, state: e.currentTarget.value.toUpperCase() })} />
            </SimpleGrid>
          )}
          {save.error && <Alert color="red" role="alert">{problemMessage(save.error)}</Alert>}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>Cancelar</Button>
            <Button type="submit" loading={save.isPending} disabled={!name.trim()}>Salvar</Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
