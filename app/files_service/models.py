"""Attachment bodies: these models validate requests and generate the OpenAPI document."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from common.validation import pattern
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

MAX_NAME = 255
MAX_PAGE = 100

# Whatever the user's file is called: any character some file system allows in a name (a
# backslash, a line break, a control character) is accepted, and Content-Disposition carries it
# safely (store.content_disposition). Only `/` and NUL, which no file system allows in a name,
# are refused: they mean a path or a broken client, not a file name.
FileName = Annotated[
    str,
    StringConstraints(
        min_length=1,
        max_length=MAX_NAME,
        pattern=pattern(r"^[^/\u0000]+$", "must not contain a slash or a NUL character"),
    ),
]
# type/subtype as RFC 6838 restricts them, no parameters: S3 pins it exactly in the upload policy.
ContentType = Annotated[
    str,
    StringConstraints(
        max_length=255,
        pattern=pattern(
            r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$",
            "must be a MIME type such as image/png, without parameters",
        ),
    ),
]


def _integral(value: Any) -> Any:
    """JSON Schema's integer includes 1.0; strict validation still refuses "1" and true."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class FileRegister(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, title="FileRegister")

    name: FileName = Field(description="the file's name, shown on download")
    contentType: ContentType = Field(description="MIME type, e.g. image/png")
    size: Annotated[int, BeforeValidator(_integral)] = Field(
        ge=1, description="exact size in bytes; above the service's MAX_UPLOAD_BYTES answers 413"
    )


class File(BaseModel):
    model_config = ConfigDict(extra="forbid", title="File")

    fileId: str = Field(json_schema_extra={"format": "uuid"})
    todoId: str = Field(json_schema_extra={"format": "uuid"})
    name: str
    contentType: str
    size: int
    createdAt: datetime


class DownloadableFile(File):
    model_config = ConfigDict(extra="forbid", title="DownloadableFile")

    downloadUrl: str = Field(description="presigned GET, valid for a few minutes, as attachment")


class FileList(BaseModel):
    model_config = ConfigDict(extra="forbid", title="FileList")

    items: list[DownloadableFile]
    nextCursor: str | None = Field(
        description="pass as `cursor` for the next page; null at the end"
    )


class Upload(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Upload")

    url: str = Field(description="POST a multipart/form-data body here")
    fields: dict[str, str] = Field(description="form fields to send before the file field")
    expiresIn: int = Field(description="seconds the upload policy stays valid")
    maxBytes: int = Field(description="the exact size S3 will accept")


class RegisteredFile(BaseModel):
    model_config = ConfigDict(extra="forbid", title="RegisteredFile")

    file: File
    upload: Upload


class FileListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=MAX_PAGE, ge=1, le=MAX_PAGE, description="page size")
    cursor: str = Field(
        default="",
        max_length=1024,
        pattern=pattern(r"^[A-Za-z0-9_-]*$", "invalid or from another query"),
        description="`nextCursor` of the previous page (opaque)",
    )
