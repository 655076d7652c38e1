import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GenerateClientSecretRequest(_message.Message):
    __slots__ = ("application_id", "project_id")
    APPLICATION_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    application_id: str
    project_id: str
    def __init__(self, application_id: _Optional[str] = ..., project_id: _Optional[str] = ...) -> None: ...

class GenerateClientSecretResponse(_message.Message):
    __slots__ = ("client_secret", "creation_date")
    CLIENT_SECRET_FIELD_NUMBER: _ClassVar[int]
    CREATION_DATE_FIELD_NUMBER: _ClassVar[int]
    client_secret: str
    creation_date: _timestamp_pb2.Timestamp
    def __init__(self, client_secret: _Optional[str] = ..., creation_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
