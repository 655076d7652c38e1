from zitadel_proto.zitadel import object_pb2 as _object_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
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
