"""The organisation: its file (hours, holidays, priorities, people, rota, policy, clients), loaded into
the database and cached per process; phone numbers. Every package reads it."""
