"""assessgate's public surface for third parties: the only names outside this repository may import.

- :mod:`assessgate.plugin`: the handler-adapter contract (what an ``assessgate.adapters`` entry point names,
  what an adapter receives and returns) with the order and Kombo result types an adapter sees;
- :mod:`assessgate.testing`: the conformance kit and recording fakes for an adapter's own tests.

Nothing else of ours is public: ``core``, ``adapters``, ``tenants``, ``api``, ``sandbox`` and whatever
joins them are internal and may be renamed, moved or changed in any release. The names here are
re-exported from there, so they are the same objects the gateway uses; what changes incompatibly here is
announced with the adapter contract's ``API_VERSION``.
"""
