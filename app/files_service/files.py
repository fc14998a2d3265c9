"""The attachments resource: /todos/{todoId}/files and /todos/{todoId}/files/{fileId}."""

from __future__ import annotations

from common.auth import authenticate, current_user
from common.errors import ApiError, NotFound
from common.factory import clients, settings_of
from common.ids import is_uuid, todo_id_or_404
from common.openapi import Operation
from common.validation import parse_body, parse_query
from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

from files_service.models import FileList, FileListQuery, FileRegister, RegisteredFile
from files_service.store import FileStore

OPERATIONS = [
    Operation(
        "GET",
        "/todos/{todoId}/files",
        "listFiles",
        "the todo's files, each with a short-lived download URL",
        200,
        FileList,
        query=FileListQuery,
        errors=(400, 404),
    ),
    Operation(
        "POST",
        "/todos/{todoId}/files",
        "registerFile",
        "register a file and get a presigned upload that S3 limits to the declared size",
        201,
        RegisteredFile,
        body=FileRegister,
        errors=(404,),
    ),
    Operation(
        "DELETE",
        "/todos/{todoId}/files/{fileId}",
        "deleteFile",
        "delete the object and its record",
        204,
        None,
        errors=(404,),
    ),
]

bp = Blueprint("files", __name__)
bp.before_request(authenticate)


def _store() -> FileStore:
    aws, settings = clients(current_app), settings_of(current_app)
    return FileStore(
        dynamodb=aws.dynamodb,
        s3=aws.s3,
        todos_table=settings.todos_table,
        files_table=settings.files_table,
        files_bucket=settings.files_bucket,
    )


@bp.get("/todos/<todo_id>/files")
def list_files(todo_id: str) -> ResponseReturnValue:
    todo_id = todo_id_or_404(todo_id)
    query = parse_query(FileListQuery)
    store = _store()
    store.require_todo(current_user(), todo_id)
    items, next_cursor = store.page(current_user(), todo_id, query.limit, query.cursor)
    return jsonify(
        FileList.model_validate({"items": items, "nextCursor": next_cursor}).model_dump(mode="json")
    )


@bp.post("/todos/<todo_id>/files")
def register_file(todo_id: str) -> ResponseReturnValue:
    todo_id = todo_id_or_404(todo_id)
    body = parse_body(FileRegister)
    limit = settings_of(current_app).max_upload_bytes
    if body.size > limit:
        raise ApiError(413, f"size: at most {limit} bytes", field="size")
    # The ownership check happens inside register, in the same transaction as the write.
    file, upload = _store().register(
        current_user(), todo_id, body.name, body.contentType, body.size
    )
    registered = RegisteredFile.model_validate({"file": file, "upload": upload})
    return jsonify(registered.model_dump(mode="json")), 201


@bp.delete("/todos/<todo_id>/files/<file_id>")
def delete_file(todo_id: str, file_id: str) -> ResponseReturnValue:
    todo_id = todo_id_or_404(todo_id)
    if not is_uuid(file_id):
        raise NotFound("file")
    store = _store()
    store.require_todo(current_user(), todo_id)
    store.delete(current_user(), todo_id, file_id)
    return "", 204
