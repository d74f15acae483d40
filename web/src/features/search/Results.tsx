import { memo, type MouseEvent } from "react";
import { Badge, Card, Group, SimpleGrid, Stack, Table, Text } from "@mantine/core";
import { useRouter } from "@tanstack/react-router";
import { formatDate } from "../../lib/dates";
import { formatCpf, formatPhone, maskCpf, maskPhone, plural } from "../../lib/format";
import { priorityLabel } from "../../lib/labels";
import { ApiHighlight } from "./Highlight";
import type { PatientSummary } from "./queries";

interface Props {
  items: PatientSummary[];
  view: "lista" | "cartoes";
  masked: boolean;
  /** Staff: patients ticked for a bulk action (patient_ids). */
  marked?: Set<string>;
  onMark?: (id: string) => void;
}

// A native checkbox in the theme's colour (app.css), not Mantine's Checkbox: 25 of those, rendered
// again with each keystroke's new rows, cost more of the frame than the rest of the row.
function Mark({ item, checked, onMark }: { item: PatientSummary; checked: boolean; onMark: (id: string) => void }) {
  return (
    <input type="checkbox" className="result-mark mantine-focus-auto" checked={checked} onChange={() => onMark(item.id)}
      aria-label={`Marcar ${item.name} para ação em lote`} />
  );
}

function cpfOf(item: PatientSummary, masked: boolean) {
  return masked ? maskCpf(item.cpf) : formatCpf(item.cpf);
}
function phoneOf(item: PatientSummary, masked: boolean) {
  const phone = item.phones?.[0];
  return masked ? maskPhone(phone) : formatPhone(phone);
}

// The patient's page: the route the link navigates to and, with the id put in, its href.
const PROFILE = "/pacientes/$patientId";

// A plain anchor (styled as Mantine's Anchor in app.css) that the router follows, not a router Link:
// every Link recomputes its target on each change of the URL (typing moves it), and 25 of them, with
// Mantine's Anchor, were a visible part of the frame a person waits for after each keystroke. A
// modified or middle click opens a tab, as any link does.
function PatientLink({ item }: { item: PatientSummary }) {
  const router = useRouter();
  const target = { to: PROFILE, params: { patientId: item.id } } as const;
  const follow = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    void router.navigate(target);
  };
  const preload = () => void router.preloadRoute(target).catch(() => undefined);
  return (
    <a className="result-link mantine-focus-auto" href={PROFILE.replace("$patientId", encodeURIComponent(item.id))}
      onClick={follow} onMouseEnter={preload} onFocus={preload}>
      <ApiHighlight html={item.highlight?.name?.[0]} fallback={item.name} />
    </a>
  );
}

function StatusBadge({ status }: { status?: string | null | undefined }) {
  return status === "inactive" ? <Badge color="gray" size="sm">Inativo</Badge> : null;
}

function PriorityBadge({ priority }: { priority?: string | null | undefined }) {
  if (!priority || priority === "normal") return null;
  return (
    <Badge color={priority === "urgent" ? "red" : priority === "high" ? "orange" : "gray"} size="sm" style={{ flexShrink: 0 }}>
      {priorityLabel(priority)}
    </Badge>
  );
}

// A row is plain table elements with the Table's own classes and data attributes (what Table.Tr and
// Table.Td would render): 25 rows of eight Mantine cells cost a visible part of the frame a person
// waits for after each keystroke. Memoised: ticking one patient renders that row only.
const ROW = { className: Table.classes.tr, "data-striped": "odd", "data-with-row-border": true, "data-hover": true } as const;
const CELL = Table.classes.td;
const NOWRAP = { whiteSpace: "nowrap" } as const;

const ResultRow = memo(function ResultRow({ item, masked, checked, onMark }: {
  item: PatientSummary; masked: boolean; checked: boolean | undefined; onMark: ((id: string) => void) | undefined;
}) {
  return (
    <tr {...ROW} data-patient-id={item.id}>
      {checked !== undefined && onMark && (
        <td className={CELL}><Mark item={item} checked={checked} onMark={onMark} /></td>
      )}
      <td className={CELL}>
        <span className="result-name"><PatientLink item={item} /><StatusBadge status={item.status} /><PriorityBadge priority={item.priority} /></span>
      </td>
      <td className={CELL} style={{ ...NOWRAP, fontFamily: "var(--mantine-font-family-monospace)" }}>{cpfOf(item, masked)}</td>
      <td className={CELL} style={NOWRAP}>{phoneOf(item, masked)}</td>
      <td className={CELL}>{item.neighborhood ?? "—"}</td>
      <td className={CELL}>{item.health_plan ?? "—"}</td>
      <td className={CELL}>{formatDate(item.next_visit)}</td>
      <td className={CELL}>{formatDate(item.last_visit)}</td>
    </tr>
  );
});

/** The columns' headings: the same with every keystroke's rows, so rendered once. */
const ResultsHead = memo(function ResultsHead({ marking }: { marking: boolean }) {
  return (
    <Table.Thead>
      <Table.Tr>
        {marking && <Table.Th scope="col" w={40}><span className="sr-only">Marcar</span></Table.Th>}
        <Table.Th scope="col">Nome</Table.Th>
        <Table.Th scope="col">CPF</Table.Th>
        <Table.Th scope="col">Telefone</Table.Th>
        <Table.Th scope="col">Bairro</Table.Th>
        <Table.Th scope="col">Convênio</Table.Th>
        <Table.Th scope="col">Próxima visita</Table.Th>
        <Table.Th scope="col">Última visita</Table.Th>
      </Table.Tr>
    </Table.Thead>
  );
});

/** Memoised: the page renders again when the facets arrive, the list need not. */
export const Results = memo(function Results({ items, view, masked, marked, onMark }: Props) {
  const marking = !!marked && !!onMark;
  if (view === "cartoes") {
    return (
      <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }} spacing="sm" component="ul" style={{ listStyle: "none", padding: 0, margin: 0 }} data-testid="results">
        {items.map((item) => (
          <Card component="li" key={item.id} withBorder padding="sm" radius="md" data-patient-id={item.id}>
            <Stack gap={4}>
              <Group justify="space-between" wrap="nowrap" align="flex-start">
                <Group gap={8} wrap="nowrap" align="flex-start">
                  {marking && <Mark item={item} checked={marked.has(item.id)} onMark={onMark} />}
                  <PatientLink item={item} />
                </Group>
                <Group gap={4}><StatusBadge status={item.status} /><PriorityBadge priority={item.priority} /></Group>
              </Group>
              <Text size="sm" ff="monospace">{cpfOf(item, masked)}</Text>
              <Text size="sm">{phoneOf(item, masked)}</Text>
              <Text size="sm" c="dimmed">{[item.neighborhood, item.city].filter(Boolean).join(" · ") || "Endereço não informado"}</Text>
              <Text size="sm">{item.health_plan ?? "Sem convênio"}</Text>
              <Group gap={6} mt={4}>
                <Text size="xs">Próxima visita: <strong>{formatDate(item.next_visit)}</strong></Text>
                <Text size="xs" c="dimmed">· {plural(item.visit_count ?? 0, "visita", "visitas")}</Text>
              </Group>
              {!!item.tags?.length && (
                <Group gap={4}>{item.tags.map((t) => <Badge key={t} size="xs" color="gray">{t}</Badge>)}</Group>
              )}
            </Stack>
          </Card>
        ))}
      </SimpleGrid>
    );
  }
  return (
    // Native scrolling, not Mantine's ScrollArea: its bars and viewport rendered again with every keystroke's rows.
    <Table.ScrollContainer type="native" minWidth={marking ? 920 : 880}>
      <Table striped highlightOnHover verticalSpacing="xs" data-testid="results">
        <ResultsHead marking={marking} />
        <Table.Tbody>
          {items.map((item) => (
            <ResultRow key={item.id} item={item} masked={masked} checked={marking ? marked.has(item.id) : undefined} onMark={onMark} />
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
});
