import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from zitadel_proto.zitadel import app_pb2 as _app_pb2
from zitadel_proto.zitadel import message_pb2 as _message_pb2
from zitadel_proto.zitadel import object_pb2 as _object_pb2
from zitadel_proto.zitadel import project_pb2 as _project_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RegenerateOIDCClientSecretRequest(_message.Message):
    __slots__ = ("project_id", "app_id")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    app_id: str
    def __init__(self, project_id: _Optional[str] = ..., app_id: _Optional[str] = ...) -> None: ...

class RegenerateOIDCClientSecretResponse(_message.Message):
    __slots__ = ("client_secret", "details")
    CLIENT_SECRET_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    client_secret: str
    details: _object_pb2.ObjectDetails
    def __init__(self, client_secret: _Optional[str] = ..., details: _Optional[_Union[_object_pb2.ObjectDetails, _Mapping]] = ...) -> None: ...

class AddProjectRequest(_message.Message):
    __slots__ = ("name", "project_role_assertion", "project_role_check", "has_project_check", "private_labeling_setting")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ROLE_ASSERTION_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ROLE_CHECK_FIELD_NUMBER: _ClassVar[int]
    HAS_PROJECT_CHECK_FIELD_NUMBER: _ClassVar[int]
    PRIVATE_LABELING_SETTING_FIELD_NUMBER: _ClassVar[int]
    name: str
    project_role_assertion: bool
    project_role_check: bool
    has_project_check: bool
    private_labeling_setting: _project_pb2.PrivateLabelingSetting
    def __init__(self, name: _Optional[str] = ..., project_role_assertion: _Optional[bool] = ..., project_role_check: _Optional[bool] = ..., has_project_check: _Optional[bool] = ..., private_labeling_setting: _Optional[_Union[_project_pb2.PrivateLabelingSetting, str]] = ...) -> None: ...

class AddProjectResponse(_message.Message):
    __slots__ = ("id", "details")
    ID_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    id: str
    details: _object_pb2.ObjectDetails
    def __init__(self, id: _Optional[str] = ..., details: _Optional[_Union[_object_pb2.ObjectDetails, _Mapping]] = ...) -> None: ...

class RemoveProjectRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class RemoveProjectResponse(_message.Message):
    __slots__ = ("details",)
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    details: _object_pb2.ObjectDetails
    def __init__(self, details: _Optional[_Union[_object_pb2.ObjectDetails, _Mapping]] = ...) -> None: ...

class AddOIDCAppRequest(_message.Message):
    __slots__ = ("project_id", "name", "redirect_uris", "response_types", "grant_types", "app_type", "auth_method_type", "post_logout_redirect_uris", "version", "dev_mode", "access_token_type", "access_token_role_assertion", "id_token_role_assertion", "id_token_userinfo_assertion", "clock_skew", "additional_origins", "skip_native_app_success_page", "back_channel_logout_uri", "login_version")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    REDIRECT_URIS_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_TYPES_FIELD_NUMBER: _ClassVar[int]
    GRANT_TYPES_FIELD_NUMBER: _ClassVar[int]
    APP_TYPE_FIELD_NUMBER: _ClassVar[int]
    AUTH_METHOD_TYPE_FIELD_NUMBER: _ClassVar[int]
    POST_LOGOUT_REDIRECT_URIS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    DEV_MODE_FIELD_NUMBER: _ClassVar[int]
    ACCESS_TOKEN_TYPE_FIELD_NUMBER: _ClassVar[int]
    ACCESS_TOKEN_ROLE_ASSERTION_FIELD_NUMBER: _ClassVar[int]
    ID_TOKEN_ROLE_ASSERTION_FIELD_NUMBER: _ClassVar[int]
    ID_TOKEN_USERINFO_ASSERTION_FIELD_NUMBER: _ClassVar[int]
    CLOCK_SKEW_FIELD_NUMBER: _ClassVar[int]
    ADDITIONAL_ORIGINS_FIELD_NUMBER: _ClassVar[int]
    SKIP_NATIVE_APP_SUCCESS_PAGE_FIELD_NUMBER: _ClassVar[int]
    BACK_CHANNEL_LOGOUT_URI_FIELD_NUMBER: _ClassVar[int]
    LOGIN_VERSION_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    name: str
    redirect_uris: _containers.RepeatedScalarFieldContainer[str]
    response_types: _containers.RepeatedScalarFieldContainer[_app_pb2.OIDCResponseType]
    grant_types: _containers.RepeatedScalarFieldContainer[_app_pb2.OIDCGrantType]
    app_type: _app_pb2.OIDCAppType
    auth_method_type: _app_pb2.OIDCAuthMethodType
    post_logout_redirect_uris: _containers.RepeatedScalarFieldContainer[str]
    version: _app_pb2.OIDCVersion
    dev_mode: bool
    access_token_type: _app_pb2.OIDCTokenType
    access_token_role_assertion: bool
    id_token_role_assertion: bool
    id_token_userinfo_assertion: bool
    clock_skew: _duration_pb2.Duration
    additional_origins: _containers.RepeatedScalarFieldContainer[str]
    skip_native_app_success_page: bool
    back_channel_logout_uri: str
    login_version: _app_pb2.LoginVersion
    def __init__(self, project_id: _Optional[str] = ..., name: _Optional[str] = ..., redirect_uris: _Optional[_Iterable[str]] = ..., response_types: _Optional[_Iterable[_Union[_app_pb2.OIDCResponseType, str]]] = ..., grant_types: _Optional[_Iterable[_Union[_app_pb2.OIDCGrantType, str]]] = ..., app_type: _Optional[_Union[_app_pb2.OIDCAppType, str]] = ..., auth_method_type: _Optional[_Union[_app_pb2.OIDCAuthMethodType, str]] = ..., post_logout_redirect_uris: _Optional[_Iterable[str]] = ..., version: _Optional[_Union[_app_pb2.OIDCVersion, str]] = ..., dev_mode: _Optional[bool] = ..., access_token_type: _Optional[_Union[_app_pb2.OIDCTokenType, str]] = ..., access_token_role_assertion: _Optional[bool] = ..., id_token_role_assertion: _Optional[bool] = ..., id_token_userinfo_assertion: _Optional[bool] = ..., clock_skew: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., additional_origins: _Optional[_Iterable[str]] = ..., skip_native_app_success_page: _Optional[bool] = ..., back_channel_logout_uri: _Optional[str] = ..., login_version: _Optional[_Union[_app_pb2.LoginVersion, _Mapping]] = ...) -> None: ...

class AddOIDCAppResponse(_message.Message):
    __slots__ = ("app_id", "details", "client_id", "client_secret", "none_compliant", "compliance_problems")
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_SECRET_FIELD_NUMBER: _ClassVar[int]
    NONE_COMPLIANT_FIELD_NUMBER: _ClassVar[int]
    COMPLIANCE_PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    app_id: str
    details: _object_pb2.ObjectDetails
    client_id: str
    client_secret: str
    none_compliant: bool
    compliance_problems: _containers.RepeatedCompositeFieldContainer[_message_pb2.LocalizedMessage]
    def __init__(self, app_id: _Optional[str] = ..., details: _Optional[_Union[_object_pb2.ObjectDetails, _Mapping]] = ..., client_id: _Optional[str] = ..., client_secret: _Optional[str] = ..., none_compliant: _Optional[bool] = ..., compliance_problems: _Optional[_Iterable[_Union[_message_pb2.LocalizedMessage, _Mapping]]] = ...) -> None: ...
