import { Anchor, Box, Checkbox, Group, Loader, Stack, Text, TextInput, VisuallyHidden } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useQuery } from "@tanstack/react-query";
import { useSearch } from "@tanstack/react-router";
import { memo, useState } from "react";
import { fold, formatCount } from "../../lib/format";
import { FACET_LABELS, facetValueLabel } from "../../lib/labels";
import { facetValuesQuery, type FacetBucket } from "./queries";
import { FACETS, type FacetName, type SearchFilters } from "./searchParams";
import { useSearchNav } from "./useSearchNav";

const FIRST = 6;
// The search returns this many values a facet; "mostrar mais" beyond them asks the facet endpoint.
const RETURNED = 20;
const MORE = 200;

/** What a value reads as: the API's label when it sends one, else the value (enumerations translated). */
export function bucketLabel(name: string, bucket: { value: string; label?: string | null; base?: string | null }): string {
  const label = bucket.label || facetValueLabel(name, bucket.value);
  // "CARRO 1" runs in several bases: the base tells them apart.
  return name === "car" && bucket.base ? `${label} · ${bucket.base}` : label;
}
const SEARCHABLE_FROM = 8;

interface FacetsProps {
  facets: Record<string, FacetBucket[]> | undefined;
  filters: SearchFilters;
  /** The counts shown are the previous search's, while this one's load: dimmed, still usable. */
  updating?: boolean;
  /** Nothing to show yet (the first search's facets are on their way). */
  loading?: boolean;
  failed?: boolean;
}

/**
 * Multi-select facets: values OR within a facet, facets AND across. Each facet is counted under
 * every filter but its own, so picking one car still shows how many the other cars have.
 * Their own request, after the results': memoised on the filters, so neither the results' answer nor
 * the words typed render them again.
 */
export const Facets = memo(function Facets({ facets, filters, updating = false, loading = false, failed = false }: FacetsProps) {
  return (
    <Stack gap="lg" component="section" aria-label="Filtros" aria-busy={updating || loading}
      data-facets-state={loading ? "loading" : updating ? "updating" : "ready"}
      style={{ opacity: updating ? 0.55 : 1, transition: "opacity 120ms" }}>
      {loading && !failed && (
        <Group gap="xs"><Loader size="xs" role="status" aria-label="Carregando filtros" /><Text size="sm" c="dimmed">Carregando filtros…</Text></Group>
      )}
      {failed && <Text size="sm" c="dimmed" role="status">Não foi possível carregar os filtros desta busca.</Text>}
      {FACETS.map((name) => (
        <Facet key={name} name={name} buckets={facets?.[name] ?? NO_BUCKETS} selected={filters[name] ?? NONE} />
      ))}
    </Stack>
  );
});

const NONE: string[] = [];
const NO_BUCKETS: FacetBucket[] = [];

/** Memoised too: the panel renders again in the frame that shows a new search's results (the frame the
 * person waits for); its facets, with their checkboxes, need not, while their values are the same. */
const Facet = memo(function Facet({ name, buckets, selected }: { name: FacetName; buckets: FacetBucket[]; selected: string[] }) {
  const update = useSearchNav();
  const [expanded, setExpanded] = useState(false);
  const [filter, setFilter] = useState("");
  const [prefix] = useDebouncedValue(filter.trim(), 200);
  const label = FACET_LABELS[name] ?? name;
  // A long facet: values typed (any word starting so) or all of them, from the facet endpoint.
  const asked = !!prefix || (expanded && buckets.length >= RETURNED);
  // The whole search (the words typed too) only while values are asked: otherwise typing does not
  // render the facets again (the panel is memoised on the filters).
  const search = useSearch({ from: "/app/pacientes", select: (s) => (asked ? s : null) });
  const more = useQuery({ ...facetValuesQuery(name, search ?? {}, prefix, MORE), enabled: asked && !!search });
  const source = asked && more.data ? more.data.items : buckets;

  // Selected values beyond the counted ones stay visible (and removable), counted as unknown.
  const known = new Set(source.map((b) => b.value));
  const all: (FacetBucket & { counted: boolean })[] = [
    ...source.map((b) => ({ ...b, counted: true })),
    ...selected.filter((v) => !known.has(v) && !buckets.some((b) => b.value === v)).map((value) => ({ value, label: value, count: 0, counted: false })),
    ...buckets.filter((b) => selected.includes(b.value) && !known.has(b.value)).map((b) => ({ ...b, counted: true })),
  ];
  const wanted = fold(filter.trim());
  // Right away on what is shown; the endpoint's answer (words starting so, beyond the first 20) follows.
  const matching = wanted ? all.filter((b) => fold(bucketLabel(name, b)).split(/\s+/).some((w) => w.startsWith(wanted)) || fold(bucketLabel(name, b)).includes(wanted)) : all;
  // Selected values first among the visible ones, so a choice never hides behind "mostrar mais".
  const ordered = [...matching.filter((b) => selected.includes(b.value)), ...matching.filter((b) => !selected.includes(b.value))];
  const visible = expanded || wanted ? ordered : ordered.slice(0, Math.max(FIRST, selected.length));
  if (!all.length) return null;

  const toggle = (value: string, on: boolean) =>
    update((prev) => {
      const current = prev[name] ?? [];
      return { ...prev, [name]: on ? [...current, value] : current.filter((v) => v !== value) };
    });

  const headingId = `facet-${name}`;
  return (
    <Box component="fieldset" m={0} p={0} style={{ border: 0, minInlineSize: 0 }} data-facet={name}>
      <Text component="legend" fw={600} size="sm" mb={6} id={headingId}>{label}</Text>
      {all.length >= SEARCHABLE_FROM && (
        <TextInput
          size="xs" mb={6} type="search" value={filter} onChange={(e) => setFilter(e.currentTarget.value)}
          placeholder={`Procurar em ${label.toLowerCase()}`} aria-label={`Procurar em ${label.toLowerCase()}`}
        />
      )}
      <Stack gap={6}>
        {visible.map((bucket) => {
          const checked = selected.includes(bucket.value);
          const text = bucketLabel(name, bucket);
          return (
            <Checkbox
              key={bucket.value}
              checked={checked}
              onChange={(e) => toggle(bucket.value, e.currentTarget.checked)}
              size="sm"
              wrapperProps={{ "data-value": bucket.value, "data-label": bucket.label }}
              label={
                <Group gap={6} wrap="nowrap" justify="space-between" w="100%">
                  <Text size="sm" span lineClamp={1}>{text}</Text>
                  {bucket.counted && (
                    <Text size="xs" c="dimmed" span data-count>
                      {formatCount(bucket.count)}<VisuallyHidden> pacientes</VisuallyHidden>
                    </Text>
                  )}
                </Group>
              }
              styles={{ body: { width: "100%" }, labelWrapper: { flex: 1 } }}
            />
          );
        })}
        {asked && more.isFetching && <Loader size="xs" role="status" aria-label={`Buscando valores de ${label.toLowerCase()}`} />}
        {wanted && matching.length === 0 && !more.isFetching && <Text size="sm" c="dimmed">Nenhum valor com “{filter}”.</Text>}
      </Stack>
      {!wanted && ordered.length > visible.length && (
        <Anchor component="button" type="button" size="sm" mt={6} onClick={() => setExpanded(true)}>
          Mostrar mais ({ordered.length - visible.length})
        </Anchor>
      )}
      {!wanted && expanded && ordered.length > FIRST && (
        <Anchor component="button" type="button" size="sm" mt={6} onClick={() => setExpanded(false)}>
          Mostrar menos
        </Anchor>
      )}
    </Box>
  );
});
