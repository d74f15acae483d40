// The day and unit pickers of the day screens: values live in the URL, the pickers only change it.
import { ActionIcon, Button, Group, Select } from "@mantine/core";
import { DayInput } from "./DayInput";
import { useQuery } from "@tanstack/react-query";
import { addDays, isoDateRe, todayIso } from "../lib/dates";
import { unitsQuery } from "../lib/reference";

/** A day with a previous/next step and "Hoje"; the field reads dd/mm/aaaa whatever the browser's language. */
export function DayPicker({ value, onChange, label = "Dia" }: { value: string; onChange: (day: string) => void; label?: string }) {
  const today = todayIso();
  return (
    <Group gap={6} align="flex-end" wrap="nowrap">
      <ActionIcon variant="default" size="lg" aria-label="Dia anterior" onClick={() => onChange(addDays(value, -1))}>‹</ActionIcon>
      <DayInput label={label} value={value} onChange={(v) => { if (isoDateRe.test(v)) onChange(v); }} />
      <ActionIcon variant="default" size="lg" aria-label="Dia seguinte" onClick={() => onChange(addDays(value, 1))}>›</ActionIcon>
      {value !== today && <Button variant="subtle" size="sm" onClick={() => onChange(today)}>Hoje</Button>}
    </Group>
  );
}

/** The lab unit (GET /units); empty = every unit. */
export function UnitPicker({ value, onChange }: { value: string | undefined; onChange: (unit: string | undefined) => void }) {
  const units = useQuery(unitsQuery).data?.items ?? [];
  return (
    <Select
      label="Unidade" w={240} value={value ?? ""} allowDeselect={false} withCheckIcon={false}
      data={[{ value: "", label: "Todas as unidades" }, ...units.map((u) => ({ value: u.code, label: u.name ? `${u.name} (${u.code})` : `Unidade ${u.code}` }))]}
      onChange={(v) => onChange(v || undefined)}
    />
  );
}
