"""The gRPC side of ZITADEL's "Generate New OIDC Client Secret", for the mock and the contract.

Neutral ground: ``mockserver`` and ``contracts`` both import it, it imports neither. It holds our
own ``.proto`` files (ZITADEL's package, message and field names and numbers), the Python code
generated from them (``python -m zitadel_proto.generate``), and the wire rules both sides share
(:mod:`zitadel_proto.wire`, :mod:`zitadel_proto.status`). Client helpers that need grpcio or
httpx live in :mod:`zitadel_proto.client`.
"""
