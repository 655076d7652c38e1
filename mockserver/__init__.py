"""A mock of ZITADEL's Generate New OIDC Client Secret call."""

import warnings

# connexion 3.3 imports starlette.testclient, which warns about httpx on import; the mock does
# not use the test client, and the warning would greet every user at start.
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
