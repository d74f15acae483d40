import { DatePickerInput, DatesProvider } from "@mantine/dates";
import "@mantine/dates/styles.css";
import "dayjs/locale/pt-br";

/** From–to calendar in pt-BR (dd/mm/aaaa, weeks from Sunday as Brazilian calendars print them). */
export default function RangePicker({ from, to, onChange }: {
  from?: string | undefined; to?: string | undefined; onChange: (from?: string, to?: string) => void;
}) {
  return (
    <DatesProvider settings={{ locale: "pt-br", firstDayOfWeek: 0 }}>
      <DatePickerInput
        type="range"
        label="Período da visita"
        placeholder="dd/mm/aaaa – dd/mm/aaaa"
        valueFormat="DD/MM/YYYY"
        value={[from ?? null, to ?? null]}
        onChange={([start, end]) => onChange(start ?? undefined, end ?? undefined)}
        allowSingleDateInRange
        clearable
        size="sm"
      />
    </DatesProvider>
  );
}
