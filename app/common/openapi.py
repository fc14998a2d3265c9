"""The OpenAPI 3.1 document, generated from the pydantic models that validate requests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from common.errors import HTTP_CODES

REF = "#/components/schemas/{model}"


class ErrorBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(description="machine-readable error code", examples=["not_found"])
    message: str = Field(description="what went wrong; names the field for invalid input")
    field: str | None = Field(default=None, description="the invalid field, for 400 answers")


class Error(BaseModel):
    model_config = ConfigDict(extra="forbid")
    error: ErrorBody


class Health(BaseModel):
    status: Literal["ok"]


class OpenApiDocument(BaseModel):
    model_config = ConfigDict(extra="allow")
    openapi: str


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str
    summary: str
    success: int
    response: type[BaseModel] | None
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()
    auth: bool = True


PATH_PARAMETERS: dict[str, dict[str, Any]] = {
    "todoId": {"type": "string", "format": "uuid", "description": "a todo's ID"},
    "fileId": {"type": "string", "format": "uuid", "description": "a file's ID"},
}


def _error_response(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": HTTP_CODES.get(status, "error").replace("_", " "),
        "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}},
    }
    if status == 503:
        response["headers"] = {
            "Retry-After": {"schema": {"type": "integer"}, "description": "seconds to wait"}
        }
    return response


def build_document(title: str, description: str, operations: list[Operation]) -> dict[str, Any]:
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = [(Error, "serialization")]
    for op in operations:
        if op.body is not None:
            models.append((op.body, "validation"))
        if op.response is not None:
            models.append((op.response, "serialization"))
    refs, top = models_json_schema(list(dict.fromkeys(models)), ref_template=REF)
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        item: dict[str, Any] = {
            "operationId": op.operation_id,
            "summary": op.summary,
            "parameters": [],
            "responses": {},
        }
        for name in PATH_PARAMETERS:
            if "{" + name + "}" in op.path:
                item["parameters"].append(
                    {"name": name, "in": "path", "required": True, "schema": PATH_PARAMETERS[name]}
                )
        if op.query is not None:
            schema = op.query.model_json_schema()
            for name, prop in schema.get("properties", {}).items():
                item["parameters"].append(
                    {
                        "name": name,
                        "in": "query",
                        "required": name in schema.get("required", []),
                        "schema": {k: v for k, v in prop.items() if k != "title"},
                    }
                )
        if op.body is not None:
            item["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": refs[(op.body, "validation")]}},
            }
        success: dict[str, Any] = {"description": "success"}
        if op.response is not None:
            success["content"] = {
                "application/json": {"schema": refs[(op.response, "serialization")]}
            }
        item["responses"][str(op.success)] = success
        # Every authenticated operation calls AWS, which may throttle: 503 with Retry-After.
        # Every operation may answer 400: each refuses a query parameter it does not declare.
        statuses = set(op.errors) | {400} | ({401, 503} if op.auth else set())
        if op.body is not None:
            statuses |= {400, 413, 415}
        for status in sorted(statuses):
            item["responses"][str(status)] = _error_response(status)
        if not op.auth:
            item["security"] = []
        if not item["parameters"]:
            del item["parameters"]
        paths.setdefault(op.path, {})[op.method.lower()] = item
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": "1.0.0", "description": description},
        "paths": paths,
        "components": {
            "schemas": top.get("$defs", {}),
            "securitySchemes": {
                "cognito": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "a Cognito ID or access token issued for the app client",
                }
            },
        },
        "security": [{"cognito": []}],
    }


def common_operations() -> list[Operation]:
    return [
        Operation("GET", "/health", "health", "liveness, no auth", 200, Health, auth=False),
        Operation(
            "GET", "/openapi.json", "openapi", "this document", 200, OpenApiDocument, auth=False
        ),
    ]
