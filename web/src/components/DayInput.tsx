// Day and time fields that read the same in every browser: dd/mm/aaaa (Mantine's calendar in
// pt-BR) and 24-hour times. The browser's own date and time inputs follow the browser's language,
// not the page's, and showed 12/06/2026 and 06:40 AM to staff.
import "@mantine/dates/styles.css";
import "dayjs/locale/pt-br";
import { Select } from "@mantine/core";
import { DatePickerInput, DatesProvider } from "@mantine/dates";
import { hhmm } from "../lib/dates";

/** `clearable`: an ✕ empties it (onChange("")), for optional filters. */
export function DayInput({ label, value, onChange, required, w, minDate, clearable }: {
  label: string; value: string; onChange: (day: string) => void; required?: boolean; w?: number | "100%"; minDate?: string; clearable?: boolean;
}) {
  return (
    <DatesProvider settings={{ locale: "pt-br", firstDayOfWeek: 0 }}>
      <DatePickerInput
        label={label} value={value || null} onChange={(d) => (d ? onChange(d) : clearable && onChange(""))} valueFormat="DD/MM/YYYY"
        clearable={clearable} clearButtonProps={{ "aria-label": `Limpar ${label.toLowerCase()}` }}
        required={required} w={w ?? 150} minDate={minDate} placeholder="dd/mm/aaaa"
        nextLabel="Próximo mês" previousLabel="Mês anterior"
      />
    </DatesProvider>
  );
}

const TIMES = Array.from({ length: (21 - 5) * 6 }, (_, i) => hhmm(5 * 60 + i * 10));

/** A start time, 24-hour, in steps of 10 minutes (the export's 40-minute grid falls on them). */
export function TimeSelect({ label, value, onChange }: { label: string; value: string; onChange: (time: string) => void }) {
  const data = TIMES.includes(value) ? TIMES : [...TIMES, value].sort();
  return (
    <Select label={label} value={value} data={data} onChange={(v) => v && onChange(v)} allowDeselect={false}
      searchable withCheckIcon={false} required maxDropdownHeight={240} />
  );
}
