"""A tenant's Kombo integration: binding it (and who may), and Kombo's webhook events, verified upstream,
de-duplicated here and routed: integration events change the binding, order events go to ``orders.intake``."""
