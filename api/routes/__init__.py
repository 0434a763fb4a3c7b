"""HTTP routes, one module per area; each handler validates, calls one service and returns a Struct."""
