"""Storage: the database handle (SQLite or PostgreSQL), its hand-written migrations, and the SQLite file's modes."""
