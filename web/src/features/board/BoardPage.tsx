import {
  DndContext, type DragEndEvent, PointerSensor, pointerWithin, useDraggable, useDroppable, useSensor, useSensors,
} from "@dnd-kit/core";
import { CSS } from "@dnd-kit/utilities";
import { Alert, Badge, Box, Button, Checkbox, Group, Stack, Text, Title, UnstyledButton } from "@mantine/core";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useNavigate, useSearch } from "@tanstack/react-router";
import { lazy, Suspense, useState } from "react";
import { api } from "../../api/client";
import { ApiProblem, problemMessage, unwrap } from "../../api/errors";
import { DayPicker, UnitPicker } from "../../components/pickers";
import { Loading, Problem } from "../../components/states";
import { formatLongDate, formatTime, hhmm, localDateTime, localMinutes, todayIso } from "../../lib/dates";
import { plural } from "../../lib/format";
import { carName, confirmationColor, confirmationStatusLabel, visitStatusLabel } from "../../lib/labels";
import { byLabel, carsQuery } from "../../lib/reference";
import { queryClient } from "../../queryClient";
import type { BoardSearch } from "../../routeSearch";
import { useMe } from "../../session";
import { isLive, scheduleQuery, type Schedule, type ScheduleVisit } from "./queries";
import { refreshAfterVisitChange } from "./VisitActions";
import { VisitDrawer } from "./VisitDrawer";

const BookingModal = lazy(() => import("./BookingModal"));

const ROW = 44; // px per 30 minutes
const STEP = 30;
const TIME_COL = 56;

interface Column {
  id: string; // car id, or "" for visits without a car
  label: string;
  base: string | null;
  unit: string | null;
  visits: ScheduleVisit[];
}

interface Conflict {
  message: string;
  other?: string;
}

/** Columns: every car with visits that day, and every active car of the unit (somewhere to drop a visit). */
function columnsOf(schedule: Schedule, cars: { id: string; label: string; base: string | null; unit_name: string | null; unit_code: string | null; status: string }[], unit?: string): Column[] {
  const columns = new Map<string, Column>();
  for (const car of cars) {
    if (car.status !== "active" || (unit && car.unit_code !== unit)) continue;
    columns.set(car.id, { id: car.id, label: car.label, base: car.base, unit: car.unit_name, visits: [] });
  }
  for (const group of schedule.cars) {
    const id = group.car_id ?? "";
    const known = cars.find((c) => c.id === id);
    const column = columns.get(id) ?? { id, label: group.car ?? "Sem carro", base: group.car_base, unit: known?.unit_name ?? null, visits: [] };
    column.visits = group.visits.filter((v) => v.status !== "cancelled");
    columns.set(id, column);
  }
  // The day's working cars first (a phone shows one or two columns), then the empty ones, then visits without a car.
  const rank = (c: Column) => (c.id === "" ? 2 : c.visits.length ? 0 : 1);
  return [...columns.values()].sort((a, b) => rank(a) - rank(b) || byLabel(a, b));
}

export function BoardPage() {
  const search = useSearch({ from: "/app/agenda" });
  const navigate = useNavigate({ from: "/agenda" });
  const me = useMe();
  const date = search.data ?? todayIso();
  const update = (patch: Partial<BoardSearch>, replace = true) => void navigate({ search: (prev) => ({ ...prev, ...patch }), replace });
  // Live: asked again every 3 s while the tab is visible (TanStack Query pauses the interval in a hidden tab).
  // The API answers an unchanged day with a 304 to the browser's If-None-Match (its ETag): the poll is cheap.
  const schedule = useQuery({ ...scheduleQuery(date, search.unidade), refetchInterval: 3_000, staleTime: 0 });
  const cars = useQuery(carsQuery);
  const [conflict, setConflict] = useState<Conflict | null>(null);
  const selecting = !!search.selecionar;
  const selected = new Set(search.selecao ?? []);

  const move = useMutation({
    mutationFn: ({ visit, start, carId }: { visit: ScheduleVisit; start: number; carId: string }) => {
      const duration = (new Date(visit.end).getTime() - new Date(visit.start).getTime()) / 60_000;
      return unwrap(api.PATCH("/api/v1/visits/{visit_id}", {
        params: { path: { visit_id: visit.id } },
        body: { start: localDateTime(date, start), end: localDateTime(date, start + duration), car_id: carId },
      }));
    },
    onMutate: async ({ visit, start, carId }) => {
      // Show the move at once; a refusal puts the card back where it was.
      const key = scheduleQuery(date, search.unidade).queryKey;
      await queryClient.cancelQueries({ queryKey: key });
      const before = queryClient.getQueryData(key);
      if (before) queryClient.setQueryData(key, moved(before, visit, start, carId));
      return { before, key };
    },
    onError: (error, { visit }, context) => {
      if (context?.before) queryClient.setQueryData(context.key, context.before);
      setConflict(describeConflict(error, visit, schedule.data));
    },
    onSuccess: () => setConflict(null),
    onSettled: (_d, _e, { visit }) => refreshAfterVisitChange(visit.id),
  });

  const sensors = useSensors(useSensor(PointerSensor, { activationConstraint: { distance: 6 } }));
  const onDragEnd = (event: DragEndEvent) => {
    const visit = event.active.data.current?.visit as ScheduleVisit | undefined;
    const target = event.over?.id;
    if (!visit || target === undefined || target === "sem-carro") return;
    const rows = Math.round(event.delta.y / ROW);
    const start = localMinutes(visit.start) + rows * STEP;
    const sameCar = String(target) === (schedule.data?.cars.find((c) => c.visits.some((v) => v.id === visit.id))?.car_id ?? "");
    if (rows === 0 && sameCar) return;
    move.mutate({ visit, start, carId: String(target) });
  };

  const columns = schedule.data && cars.data ? columnsOf(schedule.data, cars.data.items, search.unidade) : [];
  const all = columns.flatMap((c) => c.visits);
  const first = Math.min(6 * 60, ...all.map((v) => Math.floor(localMinutes(v.start) / STEP) * STEP));
  const last = Math.max(13 * 60, ...all.map((v) => Math.ceil(localMinutes(v.end) / STEP) * STEP));
  const rows = Array.from({ length: (last - first) / STEP }, (_, i) => first + i * STEP);
  const live = all.filter(isLive).length;
  const canDrag = me.can.operate && !selecting;

  const toggle = (id: string) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id); else next.add(id);
    update({ selecao: next.size ? [...next] : undefined });
  };

  return (
    <Stack gap="md">
      <Group justify="space-between" align="flex-end">
        <div>
          <Title order={1} size="h2">Agenda</Title>
          <Text c="dimmed" size="sm">{formatLongDate(date)} · {schedule.data ? plural(live, "visita", "visitas") : "…"}</Text>
        </div>
        <Group gap="sm" align="flex-end">
          <DayPicker value={date} onChange={(d) => update({ data: d === todayIso() ? undefined : d, selecao: undefined, visita: undefined })} />
          <UnitPicker value={search.unidade} onChange={(u) => update({ unidade: u })} />
          {me.can.operate && (
            <>
              <Button variant={selecting ? "filled" : "default"} aria-pressed={selecting}
                onClick={() => update(selecting ? { selecionar: undefined, selecao: undefined } : { selecionar: true })}>
                {selecting ? "Sair da seleção" : "Selecionar visitas"}
              </Button>
              <Button onClick={() => update({ nova: true }, false)}>Nova visita</Button>
            </>
          )}
        </Group>
      </Group>
      {selecting && (
        <Group gap="sm" role="region" aria-label="Seleção">
          <Text size="sm" role="status" aria-live="polite">{plural(selected.size, "visita selecionada", "visitas selecionadas")}</Text>
          <Button size="xs" variant="default" onClick={() => update({ selecao: all.filter(isLive).map((v) => v.id) })}>Selecionar todas do dia</Button>
          <Button size="xs" disabled={!selected.size}
            onClick={() => void navigate({ to: "/lotes/novo", search: { visita: [...selected] } })}>
            Ações em lote…
          </Button>
        </Group>
      )}
      {conflict && (
        <Alert color="red" role="alert" title="Não foi possível mover a visita" data-testid="board-conflict"
          withCloseButton closeButtonLabel="Fechar aviso" onClose={() => setConflict(null)}>
          <Text size="sm">{conflict.message}</Text>
          {conflict.other && <Text size="sm" fw={600} mt={4}>{conflict.other}</Text>}
        </Alert>
      )}
      {canDrag && <Text size="xs" c="dimmed">Arraste uma visita para outro horário ou carro para remarcar; clique nela para ver detalhes (ou remarcar pelo teclado).</Text>}
      {schedule.error ? <Problem error={schedule.error} retry={() => void schedule.refetch()} />
        : schedule.isPending || cars.isPending ? <Loading label="Carregando agenda" /> : columns.length === 0 ? (
          <Text c="dimmed">Nenhum carro ativo nem visita neste dia.</Text>
        ) : (
          <DndContext sensors={sensors} collisionDetection={pointerWithin} onDragEnd={onDragEnd}>
            <Box className="board" data-testid="board" style={{ gridTemplateColumns: `${TIME_COL}px repeat(${columns.length}, minmax(190px, 1fr))` }}
              role="region" aria-label={`Agenda de ${formatLongDate(date)} por carro`} tabIndex={0}>
              <div className="board-corner" />
              {columns.map((c) => (
                <div key={c.id} className="board-head" data-car-head={c.id}>
                  <Text fw={700} size="sm">{c.label}</Text>
                  <Text size="xs" c="dimmed">{[c.base, c.unit].filter(Boolean).join(" · ") || " "}</Text>
                  <Text size="xs">{plural(c.visits.filter(isLive).length, "visita", "visitas")}</Text>
                </div>
              ))}
              <div className="board-times" style={{ height: rows.length * ROW }}>
                {rows.map((m) => <div key={m} className="board-time" style={{ height: ROW }}>{hhmm(m)}</div>)}
              </div>
              {columns.map((c) => (
                <CarColumn key={c.id} column={c} first={first} height={rows.length * ROW} canDrag={canDrag}
                  selecting={selecting} selected={selected} onToggle={toggle} onOpen={(id) => update({ visita: id }, false)} />
              ))}
            </Box>
          </DndContext>
        )}
      <VisitDrawer visitId={search.visita} onClose={() => update({ visita: undefined })} />
      {search.nova && (
        <Suspense fallback={null}>
          <BookingModal date={date} unit={search.unidade} onClose={() => update({ nova: undefined })} />
        </Suspense>
      )}
    </Stack>
  );
}

function CarColumn({ column, first, height, canDrag, selecting, selected, onToggle, onOpen }: {
  column: Column; first: number; height: number; canDrag: boolean; selecting: boolean;
  selected: Set<string>; onToggle: (id: string) => void; onOpen: (id: string) => void;
}) {
  const { setNodeRef, isOver } = useDroppable({ id: column.id || "sem-carro", disabled: column.id === "" });
  return (
    <div ref={setNodeRef} className="board-col" data-car={column.id} data-over={isOver || undefined}
      style={{ height, backgroundSize: `100% ${ROW}px` }}>
      {column.visits.map((v) => (
        <VisitCard key={v.id} visit={v} carLabel={carName(column.label, column.base)} first={first} canDrag={canDrag}
          selecting={selecting} checked={selected.has(v.id)} onToggle={onToggle} onOpen={onOpen} />
      ))}
    </div>
  );
}

function VisitCard({ visit, carLabel, first, canDrag, selecting, checked, onToggle, onOpen }: {
  visit: ScheduleVisit; carLabel: string; first: number; canDrag: boolean; selecting: boolean; checked: boolean;
  onToggle: (id: string) => void; onOpen: (id: string) => void;
}) {
  const { setNodeRef, listeners, transform, isDragging } = useDraggable({ id: visit.id, data: { visit }, disabled: !canDrag });
  const start = localMinutes(visit.start);
  const end = localMinutes(visit.end);
  const top = ((start - first) / STEP) * ROW;
  const h = Math.max(((end - start) / STEP) * ROW - 3, 30);
  const name = visit.patient.name ?? "Paciente sem nome";
  const label = `${formatTime(visit.start)}–${formatTime(visit.end)}, ${name}, ${carLabel}, ${visitStatusLabel(visit.status)}, ${confirmationStatusLabel(visit.confirmation.status)}`;
  const body = (
    <>
      <Group gap={4} justify="space-between" wrap="nowrap">
        <Text size="xs" fw={700}>{formatTime(visit.start)}–{formatTime(visit.end)}</Text>
        {visit.status === "scheduled"
          ? <Badge size="xs" color={confirmationColor(visit.confirmation.status)}>{confirmationStatusLabel(visit.confirmation.status)}</Badge>
          : <Badge size="xs" color={visit.status === "collected" ? "teal" : "orange"}>{visitStatusLabel(visit.status)}</Badge>}
      </Group>
      <Text size="xs" fw={600} lineClamp={1}>{name}</Text>
      {h > 44 && <Text size="xs" c="dimmed" lineClamp={1}>{visit.address.neighborhood ?? ""}</Text>}
    </>
  );
  return (
    <div ref={setNodeRef} className="board-visit" data-visit-id={visit.id} data-status={visit.status}
      data-confirmation={visit.confirmation.status} data-missing={visit.missing_from_latest_export || undefined}
      style={{ top, height: h, transform: CSS.Translate.toString(transform), zIndex: isDragging ? 10 : undefined, opacity: isDragging ? 0.85 : 1 }}
      {...(canDrag ? listeners : {})}>
      {selecting ? (
        <Checkbox size="xs" checked={checked} onChange={() => onToggle(visit.id)} aria-label={`Selecionar: ${label}`}
          label={<Box>{body}</Box>} styles={{ body: { alignItems: "flex-start" }, labelWrapper: { width: "100%" } }} />
      ) : (
        <UnstyledButton w="100%" h="100%" onClick={() => onOpen(visit.id)} aria-label={label} style={{ display: "block", textAlign: "left" }}>
          {body}
        </UnstyledButton>
      )}
    </div>
  );
}

/** The schedule with one visit moved (what the board shows while the API answers). */
function moved(schedule: Schedule, visit: ScheduleVisit, start: number, carId: string): Schedule {
  // Same day: the move is a shift of whole minutes, whatever the zone's offset.
  const shift = (start - localMinutes(visit.start)) * 60_000;
  const shifted: ScheduleVisit = {
    ...visit,
    start: new Date(new Date(visit.start).getTime() + shift).toISOString(),
    end: new Date(new Date(visit.end).getTime() + shift).toISOString(),
  };
  const cars = schedule.cars.map((c) => ({ ...c, visits: c.visits.filter((v) => v.id !== visit.id) }));
  const target = cars.find((c) => c.car_id === carId);
  if (target) target.visits = [...target.visits, shifted];
  else cars.push({ car_id: carId, car: null, car_base: null, visits: [shifted] });
  return { ...schedule, cars };
}

/** A refusal in words: the API's message and, for an overlap, the visit it clashes with. */
function describeConflict(error: unknown, visit: ScheduleVisit, schedule: Schedule | undefined): Conflict {
  const message = problemMessage(error);
  if (!(error instanceof ApiProblem) || error.status !== 409) return { message };
  const otherId = (error.details as { visit_id?: string } | null)?.visit_id;
  for (const car of schedule?.cars ?? []) {
    const other = car.visits.find((v) => v.id === otherId);
    if (other) {
      return {
        message: `${visit.patient.name ?? "A visita"} voltou ao horário de antes. ${message}`,
        other: `Conflito com: ${other.patient.name ?? "paciente sem nome"}, ${formatTime(other.start)}–${formatTime(other.end)}, ${carName(car.car, car.car_base)}.`,
      };
    }
  }
  return { message: `${visit.patient.name ?? "A visita"} voltou ao horário de antes. ${message}` };
}
