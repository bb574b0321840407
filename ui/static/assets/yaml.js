// toYAML writes a JSON value as block-style YAML, for showing a job's spec.
// Only emitting is needed here: pasted YAML is converted by the server.

const plain = /^[A-Za-z_/.][A-Za-z0-9_ ./:@+-]*$/;
const reserved = /^(true|false|yes|no|on|off|null|~|y|n)$/i;

function scalar(v) {
  if (v === null || v === undefined) return "null";
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  const str = String(v);
  if (str === "") return '""';
  if (plain.test(str) && !reserved.test(str) && !/ $/.test(str) && !/: /.test(str) && !/ #/.test(str)) return str;
  return JSON.stringify(str);
}

function isEmpty(v) {
  return v === null || v === undefined || (Array.isArray(v) && v.length === 0) ||
    (typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0);
}

function emit(v, indent, out) {
  const pad = "  ".repeat(indent);
  if (Array.isArray(v)) {
    for (const item of v) {
      if (item !== null && typeof item === "object" && !isEmpty(item)) {
        const sub = [];
        emit(item, indent + 1, sub);
        sub[0] = pad + "- " + sub[0].trimStart();
        out.push(...sub);
      } else {
        out.push(pad + "- " + (isEmpty(item) && item !== null ? (Array.isArray(item) ? "[]" : "{}") : scalar(item)));
      }
    }
    return;
  }
  for (const [k, val] of Object.entries(v)) {
    const key = scalar(k);
    if (val !== null && typeof val === "object" && !isEmpty(val)) {
      out.push(`${pad}${key}:`);
      emit(val, Array.isArray(val) ? indent : indent + 1, out);
    } else if (isEmpty(val) && val !== null && val !== undefined) {
      out.push(`${pad}${key}: ${Array.isArray(val) ? "[]" : "{}"}`);
    } else if (typeof val === "string" && val.includes("\n")) {
      out.push(`${pad}${key}: |-`);
      for (const line of val.split("\n")) out.push(`${pad}  ${line}`);
    } else {
      out.push(`${pad}${key}: ${scalar(val)}`);
    }
  }
}

export function toYAML(value) {
  if (value === null || typeof value !== "object") return scalar(value) + "\n";
  const out = [];
  emit(value, 0, out);
  return out.join("\n") + "\n";
}
