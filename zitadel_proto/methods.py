"""The method paths of the calls the mock serves, one per API version.

A gRPC, gRPC-web or Connect request names its method as ``/<package>.<Service>/<Method>``. The
v2 and v2beta paths are served only by connect-go in ZITADEL (for all three protocols); the v1
path by grpc-go and grpc-gateway. Each constant is the path exactly as ZITADEL routes it.
"""

from __future__ import annotations

from typing import Final

from zitadel_proto.wire import METHOD_PATH as V1_REGENERATE_OIDC_CLIENT_SECRET

V2_SERVICE: Final = "zitadel.application.v2.ApplicationService"
V2_METHOD: Final = "GenerateClientSecret"
V2_GENERATE_CLIENT_SECRET: Final = f"/{V2_SERVICE}/{V2_METHOD}"

V2BETA_SERVICE: Final = "zitadel.app.v2beta.AppService"
V2BETA_METHOD: Final = "RegenerateClientSecret"
V2BETA_REGENERATE_CLIENT_SECRET: Final = f"/{V2BETA_SERVICE}/{V2BETA_METHOD}"

# The path prefix connect-go mounts each v2 service on (its handler answers 404 for any other
# method under it).
V2_PREFIX: Final = f"/{V2_SERVICE}/"
V2BETA_PREFIX: Final = f"/{V2BETA_SERVICE}/"

__all__ = [
    "V1_REGENERATE_OIDC_CLIENT_SECRET",
    "V2BETA_METHOD",
    "V2BETA_PREFIX",
    "V2BETA_REGENERATE_CLIENT_SECRET",
    "V2BETA_SERVICE",
    "V2_GENERATE_CLIENT_SECRET",
    "V2_METHOD",
    "V2_PREFIX",
    "V2_SERVICE",
]
