"""A faithful local Kombo: the Assessment API, signed webhooks, fault injection and an ATS-simulator page.

It depends only on ``core`` (the contract types and the signature), so what it enforces is exactly what
the gateway is written against. Run it alone (``assessgate sandbox serve``) or mounted inside the
gateway in sandbox mode (no ``ASSESSGATE_KOMBO_API_KEY``). See ``docs/sandbox.md``.
"""
