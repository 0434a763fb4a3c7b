"""The tenant layer: tenants and their API keys, the vault of their secrets, their catalogs and the push of a
catalog to Kombo, their routes and adapter settings, and the audit log of what was done to them."""
