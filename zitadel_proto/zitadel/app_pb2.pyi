from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class OIDCResponseType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OIDC_RESPONSE_TYPE_CODE: _ClassVar[OIDCResponseType]
    OIDC_RESPONSE_TYPE_ID_TOKEN: _ClassVar[OIDCResponseType]
    OIDC_RESPONSE_TYPE_ID_TOKEN_TOKEN: _ClassVar[OIDCResponseType]

class OIDCGrantType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OIDC_GRANT_TYPE_AUTHORIZATION_CODE: _ClassVar[OIDCGrantType]
    OIDC_GRANT_TYPE_IMPLICIT: _ClassVar[OIDCGrantType]
    OIDC_GRANT_TYPE_REFRESH_TOKEN: _ClassVar[OIDCGrantType]
    OIDC_GRANT_TYPE_DEVICE_CODE: _ClassVar[OIDCGrantType]
    OIDC_GRANT_TYPE_TOKEN_EXCHANGE: _ClassVar[OIDCGrantType]

class OIDCAppType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OIDC_APP_TYPE_WEB: _ClassVar[OIDCAppType]
    OIDC_APP_TYPE_USER_AGENT: _ClassVar[OIDCAppType]
    OIDC_APP_TYPE_NATIVE: _ClassVar[OIDCAppType]

class OIDCAuthMethodType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OIDC_AUTH_METHOD_TYPE_BASIC: _ClassVar[OIDCAuthMethodType]
    OIDC_AUTH_METHOD_TYPE_POST: _ClassVar[OIDCAuthMethodType]
    OIDC_AUTH_METHOD_TYPE_NONE: _ClassVar[OIDCAuthMethodType]
    OIDC_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT: _ClassVar[OIDCAuthMethodType]

class OIDCVersion(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OIDC_VERSION_1_0: _ClassVar[OIDCVersion]

class OIDCTokenType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OIDC_TOKEN_TYPE_BEARER: _ClassVar[OIDCTokenType]
    OIDC_TOKEN_TYPE_JWT: _ClassVar[OIDCTokenType]
OIDC_RESPONSE_TYPE_CODE: OIDCResponseType
OIDC_RESPONSE_TYPE_ID_TOKEN: OIDCResponseType
OIDC_RESPONSE_TYPE_ID_TOKEN_TOKEN: OIDCResponseType
OIDC_GRANT_TYPE_AUTHORIZATION_CODE: OIDCGrantType
OIDC_GRANT_TYPE_IMPLICIT: OIDCGrantType
OIDC_GRANT_TYPE_REFRESH_TOKEN: OIDCGrantType
OIDC_GRANT_TYPE_DEVICE_CODE: OIDCGrantType
OIDC_GRANT_TYPE_TOKEN_EXCHANGE: OIDCGrantType
OIDC_APP_TYPE_WEB: OIDCAppType
OIDC_APP_TYPE_USER_AGENT: OIDCAppType
OIDC_APP_TYPE_NATIVE: OIDCAppType
OIDC_AUTH_METHOD_TYPE_BASIC: OIDCAuthMethodType
OIDC_AUTH_METHOD_TYPE_POST: OIDCAuthMethodType
OIDC_AUTH_METHOD_TYPE_NONE: OIDCAuthMethodType
OIDC_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT: OIDCAuthMethodType
OIDC_VERSION_1_0: OIDCVersion
OIDC_TOKEN_TYPE_BEARER: OIDCTokenType
OIDC_TOKEN_TYPE_JWT: OIDCTokenType

class LoginVersion(_message.Message):
    __slots__ = ("login_v1", "login_v2")
    LOGIN_V1_FIELD_NUMBER: _ClassVar[int]
    LOGIN_V2_FIELD_NUMBER: _ClassVar[int]
    login_v1: LoginV1
    login_v2: LoginV2
    def __init__(self, login_v1: _Optional[_Union[LoginV1, _Mapping]] = ..., login_v2: _Optional[_Union[LoginV2, _Mapping]] = ...) -> None: ...

class LoginV1(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class LoginV2(_message.Message):
    __slots__ = ("base_uri",)
    BASE_URI_FIELD_NUMBER: _ClassVar[int]
    base_uri: str
    def __init__(self, base_uri: _Optional[str] = ...) -> None: ...
