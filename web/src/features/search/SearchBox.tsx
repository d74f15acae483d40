import { CloseButton, Combobox, Group, Loader, Text, TextInput, useCombobox } from "@mantine/core";
import { useIsFetching, useQuery } from "@tanstack/react-query";
import { useNavigate, useRouter } from "@tanstack/react-router";
import { useDeferredValue, useEffect, useRef, useState } from "react";
import { formatCpf } from "../../lib/format";
import { PrefixHighlight } from "./Highlight";
import { queryClient } from "../../queryClient";
import { prefetchSearch, suggestQuery } from "./queries";
import type { PatientSearch } from "./searchParams";
import { useSearchNav } from "./useSearchNav";

export const DEBOUNCE_MS = 200;
// An answer slower than this shows the wait (the list dimmed, the spinner) instead of the old list unchanged.
const SHOW_WAIT_MS = 150;
const PATH = "/pacientes";

/**
 * The one search box: what is typed goes to the URL (and so to the results) 200 ms after the last
 * keystroke; the suggestions open below it (↓/↑ to move, Enter to open the patient, Esc to close).
 * `settled`: this search's results are painted, so the suggestions may be asked (see below).
 */
export function SearchBox({ search, fetching, settled }: { search: PatientSearch; fetching: boolean; settled: boolean }) {
  const q = search.q ?? "";
  const update = useSearchNav();
  const navigate = useNavigate();
  const router = useRouter();
  const [text, setText] = useState(q);
  // What the suggestions are for: the search in the URL (the text of the last pause). Deferred, so
  // the results' frame does not also mark the new words in the suggestions still shown.
  const suggestFor = useDeferredValue(q.trim());
  const pushed = useRef(q);
  const combobox = useCombobox({ onDropdownClose: () => combobox.resetSelectedOption() });

  // Typing → URL (replace: a word typed is not a step of the back button). The pause is timed from
  // the keystroke itself (not from the render that follows it). The request leaves then; the URL,
  // and so the page, moves once its answer is in: the page renders once, with the results, instead
  // of once for the wait (on 2 cores, beside the API and OpenSearch answering it) and again for the
  // results. An answer slower than SHOW_WAIT_MS moves it anyway, so the wait is shown (dimmed list).
  const latest = useRef(search);
  latest.current = search;
  const pause = useRef<number | undefined>(undefined);
  useEffect(() => () => window.clearTimeout(pause.current), []);
  const typed = (value: string) => {
    window.clearTimeout(pause.current);
    pause.current = window.setTimeout(() => {
      const text = value.trim();
      if (text === pushed.current.trim()) return;
      pushed.current = value;
      const next = { ...latest.current, q: text || undefined };
      const answered = prefetchSearch(queryClient, next);
      const slow = new Promise((done) => window.setTimeout(done, SHOW_WAIT_MS));
      void Promise.race([answered, slow]).then(() => {
        // Typed on, cleared or Enter since: theirs moves the URL. Or the page is gone or going (the
        // answer was a 401 and the session's end leads to the login): moving the URL would leave it.
        if (pushed.current !== value || router.latestLocation.pathname !== PATH) return;
        void update({ q: next.q }, { replace: true });
      });
    }, DEBOUNCE_MS);
  };
  // URL → box (back button, a preset, "limpar tudo").
  useEffect(() => {
    if (q.trim() !== pushed.current.trim()) {
      pushed.current = q;
      window.clearTimeout(pause.current);
      setText(q);
    }
  }, [q]);

  // Asked once the results of the same pause are painted: on 2 cores the three requests at once
  // (results, suggestions, facets) slowed the results, which are what the person waits for, and an
  // answer rendered before the results' frame delays that frame.
  const searching = useIsFetching({ queryKey: ["patients", "search"] }) > 0;
  const suggestion = suggestQuery(suggestFor);
  const suggestions = useQuery({ ...suggestion, enabled: suggestion.enabled && settled && !searching });
  const items = suggestFor.length >= 2 ? (suggestions.data?.items ?? []) : [];
  const open = combobox.dropdownOpened && items.length > 0;

  return (
    <Combobox
      store={combobox}
      onOptionSubmit={(id) => {
        combobox.closeDropdown();
        void navigate({ to: "/pacientes/$patientId", params: { patientId: id } });
      }}
      withinPortal={false}
    >
      <Combobox.Target withExpandedAttribute>
        <TextInput
          size="lg"
          type="search"
          label="Buscar paciente"
          placeholder="Nome, CPF, telefone ou endereço"
          description="A busca começa enquanto você digita. Use ↓ para ver sugestões."
          value={text}
          aria-autocomplete="list"
          autoComplete="off"
          spellCheck={false}
          data-testid="search-box"
          onChange={(event) => {
            setText(event.currentTarget.value);
            typed(event.currentTarget.value);
            combobox.openDropdown();
            combobox.resetSelectedOption();
          }}
          onFocus={() => combobox.openDropdown()}
          onBlur={() => combobox.closeDropdown()}
          onKeyDown={(event) => {
            // Enter with no suggestion chosen: search now, without waiting for the pause.
            if (event.key === "Enter" && combobox.getSelectedOptionIndex() === -1) {
              window.clearTimeout(pause.current);
              pushed.current = text;
              void update({ q: text.trim() || undefined }, { replace: true });
              combobox.closeDropdown();
            }
          }}
          rightSection={
            text ? (
              fetching ? <Loader size="sm" role="status" aria-label="Buscando" /> : (
                <CloseButton aria-label="Limpar busca" onClick={() => { window.clearTimeout(pause.current); setText(""); pushed.current = ""; void update({ q: undefined }, { replace: true }); }} />
              )
            ) : null
          }
        />
      </Combobox.Target>
      <Combobox.Dropdown hidden={!open} aria-label="Sugestões de pacientes">
        <Combobox.Options aria-label="Sugestões de pacientes">
          {items.map((item) => (
            <Combobox.Option value={item.id} key={item.id}>
              <Group justify="space-between" wrap="nowrap" gap="sm">
                <Text size="sm" truncate><PrefixHighlight text={item.name} query={suggestFor} /></Text>
                {item.cpf_masked && <Text size="xs" c="dimmed" ff="monospace">{formatCpf(item.cpf_masked)}</Text>}
              </Group>
            </Combobox.Option>
          ))}
        </Combobox.Options>
      </Combobox.Dropdown>
    </Combobox>
  );
}
