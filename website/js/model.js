// The API's field names in one place, so the views read plain properties.

export const todoId = (todo) => todo.todoID ?? todo.todoId ?? todo.id;
export const fileId = (file) => file.fileID ?? file.fileId ?? file.id;

export function page(data) {
  return {
    items: data?.items ?? data?.todos ?? [],
    cursor: data?.nextCursor ?? data?.cursor ?? null,
  };
}

export function files(data) {
  return data?.items ?? data?.files ?? [];
}

export const fileName = (file) => file.name ?? file.fileName ?? "file";
export const fileSize = (file) => Number(file.size ?? file.contentLength);
export const downloadUrl = (file) => file.downloadUrl ?? file.url ?? file.download?.url;

// POST /todos/{id}/files answers with the file record and a presigned POST.
export function presigned(data) {
  const upload = data?.upload ?? data?.presignedPost ?? data;
  return { url: upload.url, fields: upload.fields ?? {} };
}

export function registeredFile(data) {
  return data?.file ?? data;
}
