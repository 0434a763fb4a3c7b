"""Tenant isolation and persistence: the database, its migrations, tables and tenant-scoped repositories."""
