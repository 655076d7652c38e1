import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RegenerateClientSecretRequest(_message.Message):
    __slots__ = ("project_id", "application_id", "is_oidc", "is_api")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    APPLICATION_ID_FIELD_NUMBER: _ClassVar[int]
    IS_OIDC_FIELD_NUMBER: _ClassVar[int]
    IS_API_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    application_id: str
    is_oidc: bool
    is_api: bool
    def __init__(self, project_id: _Optional[str] = ..., application_id: _Optional[str] = ..., is_oidc: _Optional[bool] = ..., is_api: _Optional[bool] = ...) -> None: ...

class RegenerateClientSecretResponse(_message.Message):
    __slots__ = ("client_secret", "creation_date")
    CLIENT_SECRET_FIELD_NUMBER: _ClassVar[int]
    CREATION_DATE_FIELD_NUMBER: _ClassVar[int]
    client_secret: str
    creation_date: _timestamp_pb2.Timestamp
    def __init__(self, client_secret: _Optional[str] = ..., creation_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
