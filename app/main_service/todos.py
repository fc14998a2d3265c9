"""The todos resource: /todos and /todos/{todoId}."""

from __future__ import annotations

from common.auth import authenticate, current_user
from common.factory import clients, settings_of
from common.ids import todo_id_or_404
from common.openapi import Operation
from common.validation import parse_body, parse_query
from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

from main_service.models import ListQuery, Todo, TodoCreate, TodoPage, TodoPatch
from main_service.store import TodoStore

OPERATIONS = [
    Operation(
        "GET",
        "/todos",
        "listTodos",
        "the caller's todos: open first, then by due date, then newest",
        200,
        TodoPage,
        query=ListQuery,
        errors=(400,),
    ),
    Operation(
        "POST", "/todos", "createTodo", "create a todo", 201, Todo, body=TodoCreate, errors=()
    ),
    Operation("GET", "/todos/{todoId}", "getTodo", "one todo", 200, Todo, errors=(404,)),
    Operation(
        "PATCH",
        "/todos/{todoId}",
        "updateTodo",
        "change title, description, notes, dateDue, completed",
        200,
        Todo,
        body=TodoPatch,
        errors=(404,),
    ),
    Operation(
        "DELETE",
        "/todos/{todoId}",
        "deleteTodo",
        "delete a todo, its file records and its S3 objects; a retry finishes the job",
        204,
        None,
        errors=(404,),
    ),
]

bp = Blueprint("todos", __name__)
bp.before_request(authenticate)


def _store() -> TodoStore:
    aws, settings = clients(current_app), settings_of(current_app)
    return TodoStore(
        dynamodb=aws.dynamodb,
        s3=aws.s3,
        todos_table=settings.todos_table,
        files_table=settings.files_table,
        files_bucket=settings.files_bucket,
        list_index=settings.list_index,
    )


# Responses are the store's dicts, already in the Todo / TodoPage shape (store.to_public): the
# models document them, and tests check every answer against the document, but validating what
# the service itself built again on every request cost as much as building it.


@bp.get("/todos")
def list_todos() -> ResponseReturnValue:
    query = parse_query(ListQuery)
    items, next_cursor = _store().page(current_user(), query.limit, query.search, query.cursor)
    return jsonify({"items": items, "nextCursor": next_cursor})


@bp.post("/todos")
def create_todo() -> ResponseReturnValue:
    body = parse_body(TodoCreate)
    todo = _store().create(current_user(), body.title, body.description, body.dateDue)
    return jsonify(todo), 201


@bp.get("/todos/<todo_id>")
def get_todo(todo_id: str) -> ResponseReturnValue:
    return jsonify(_store().get(current_user(), todo_id_or_404(todo_id)))


@bp.patch("/todos/<todo_id>")
def update_todo(todo_id: str) -> ResponseReturnValue:
    todo_id = todo_id_or_404(todo_id)
    body = parse_body(TodoPatch)
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    return jsonify(_store().update(current_user(), todo_id, changes))


@bp.delete("/todos/<todo_id>")
def delete_todo(todo_id: str) -> ResponseReturnValue:
    _store().delete(current_user(), todo_id_or_404(todo_id))
    return "", 204
