// REST on the same origin (/api/v10), the token kept where Discord's web client keeps it
// (localStorage "token", a JSON string). Errors keep Discord's shape {code, message, errors}.
const API = "/api/v10";

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
  // The first field error's message ("Login or password is invalid."), else the message.
  get detail() {
    const walk = (tree) => {
      if (!tree || typeof tree !== "object") return null;
      if (Array.isArray(tree._errors) && tree._errors[0]) return tree._errors[0].message;
      for (const value of Object.values(tree)) {
        const found = walk(value);
        if (found) return found;
      }
      return null;
    };
    if (this.status === 429) return this.body.message || "Too many requests; wait a moment.";
    return walk(this.body.errors) || this.message;
  }
}

export function getToken() {
  try { return JSON.parse(localStorage.getItem("token") || "null"); } catch { return null; }
}

export function setToken(token) {
  if (token) localStorage.setItem("token", JSON.stringify(token));
  else localStorage.removeItem("token");
}

export async function api(method, path, body) {
  const headers = {};
  const token = getToken();
  if (token) headers.Authorization = token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(API + path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

// Send a message with files as Discord's multipart form (payload_json + files[n]), reporting
// upload progress as a 0..1 fraction.
export function upload(channelId, payload, files, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    form.append("payload_json", JSON.stringify({
      ...payload, attachments: files.map((file, i) => ({ id: i, filename: file.name })),
    }));
    files.forEach((file, i) => form.append(`files[${i}]`, file, file.name));
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `${API}/channels/${channelId}/messages`);
    xhr.setRequestHeader("Authorization", getToken() || "");
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onload = () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(new ApiError(xhr.status, data));
    };
    xhr.onerror = () => reject(new ApiError(0, { message: "The upload failed: network error" }));
    xhr.send(form);
  });
}
