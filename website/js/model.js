// The API's JSON, read by the field names of its OpenAPI documents (GET /openapi.json of each
// service): Todo, TodoPage, FileList, DownloadableFile, RegisteredFile, Upload. No guessing at
// other spellings: the API has one shape, and tests/services/test_website_contract.py fails when
// a name used here or in the views is not in the documents.

export const todoId = (todo) => todo.todoId;
export const fileId = (file) => file.fileId;

// GET /todos: TodoPage; GET /todos/{todoId}/files: FileList.
export const page = (data) => ({ items: data.items, cursor: data.nextCursor });

export const fileName = (file) => file.name;
export const fileSize = (file) => file.size;
export const downloadUrl = (file) => file.downloadUrl;

// POST /todos/{todoId}/files: RegisteredFile, the record and its presigned POST (Upload).
export const registeredFile = (data) => data.file;
export const presigned = (data) => ({ url: data.upload.url, fields: data.upload.fields });
