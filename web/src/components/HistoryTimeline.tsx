// A visit's history (GET /visits/{id} `history`): created, status changes, reschedules; shown by the
// board's drawer and by the patient's visits tab.
import { Text, Timeline } from "@mantine/core";
import type { Schemas } from "../api/client";
import { formatDateTime } from "../lib/dates";
import { historyKindLabel, visitStatusLabel } from "../lib/labels";

export function HistoryTimeline({ history }: { history: Schemas["HistoryRead"][] }) {
  return (
    <Timeline bulletSize={12} lineWidth={2} active={history.length}>
      {history.map((h, i) => (
        <Timeline.Item key={i} title={historyKindLabel(h.kind)}>
          <Text size="sm">
            {h.kind === "status" && `${visitStatusLabel(h.from_status)} → ${visitStatusLabel(h.to_status)}`}
            {h.kind === "rescheduled" && `${formatDateTime(h.old_start)} → ${formatDateTime(h.new_start)}${h.old_car_id !== h.new_car_id ? " (troca de carro)" : ""}`}
            {h.kind === "created" && "Visita registrada"}
            {h.reason && ` · ${h.reason}`}
          </Text>
          <Text size="xs" c="dimmed">{formatDateTime(h.at)}</Text>
        </Timeline.Item>
      ))}
    </Timeline>
  );
}
