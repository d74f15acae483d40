"""The system of record: PostgreSQL models, repositories, services and the outbox."""
