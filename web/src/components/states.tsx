import { Alert, Button, Group, Loader, Text } from "@mantine/core";
import { problemMessage } from "../api/errors";

export function Loading({ label }: { label: string }) {
  // A Loader is a bare span: the name goes on an element whose role may carry one.
  return <Group justify="center" py="xl" role="status" aria-label={label}><Loader /></Group>;
}

export function Problem({ error, title = "Não foi possível carregar", retry }: { error: unknown; title?: string; retry?: () => void }) {
  return (
    <Alert color="red" title={title} role="alert">
      <Text size="sm" mb={retry ? "sm" : 0}>{problemMessage(error)}</Text>
      {retry && <Button size="xs" variant="white" color="red" onClick={retry}>Tentar de novo</Button>}
    </Alert>
  );
}
