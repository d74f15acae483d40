"""Document builders: a fresh row in, a search document (with its version) out."""
