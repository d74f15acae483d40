// A patient's phones as tel: links, each with its kind (Celular, Fixo…); mobiles first, as texts go to them.
import { Group, Text } from "@mantine/core";
import type { Schemas } from "../api/client";
import { formatPhone } from "../lib/format";
import { phoneKindLabel } from "../lib/labels";

type Phone = Schemas["Phone"];

export function sortPhones(phones: Phone[]): Phone[] {
  const rank = (p: Phone) => (p.kind === "mobile" || p.kind === "whatsapp" ? 0 : 1);
  return [...phones].sort((a, b) => rank(a) - rank(b));
}

/** `link`: tel: links (staff); otherwise the number as text (a viewer sees it masked by the API). */
export function Phones({ phones, link = true, empty = "Sem telefone" }: { phones: Phone[]; link?: boolean; empty?: string }) {
  if (!phones.length) return <Text size="sm" c="dimmed">{empty}</Text>;
  return (
    <Group gap={10}>
      {sortPhones(phones).map((p) => (
        <Text key={p.number} size="sm" span style={{ whiteSpace: "nowrap" }}>
          {link ? <a href={`tel:+55${p.number.replace(/\D/g, "")}`} className="phone-link">{formatPhone(p.number)}</a> : formatPhone(p.number)}
          <Text span size="xs" c="dimmed"> · {phoneKindLabel(p.kind)}</Text>
        </Text>
      ))}
    </Group>
  );
}
