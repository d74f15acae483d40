"""The cars (car agendas) that make home visits."""
