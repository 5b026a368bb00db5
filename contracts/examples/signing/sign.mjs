// 一件事网关签名示例（Node.js 20，仅用标准库）/ Signing example for the onething gateway (Node.js 20, standard library only).
//
// 用法 / Usage:
//   ONETHING_URL=http://127.0.0.1:8080 ONETHING_PORTAL_SECRET=whsec_… node sign.mjs submit [FILE.json]
//   ONETHING_PUSH_SECRET=whsec_… node sign.mjs verify PUSH.http|PUSH.json
//   ONETHING_DEPT_SECRET=… node sign.mjs verify-appkey REQUEST.http
// PUSH.http / REQUEST.http：首行 "METHOD PATH"，每行一个 "名称: 值" 请求头，空行，原样的请求体（行尾 LF 或 CRLF）。
//   First line "METHOD PATH", one "name: value" header a line, an empty line, the raw body (LF or CRLF line ends).
// PUSH.json：模拟省平台 GET /_mock/pushes 返回的一条推送 {"headers":{…},"body":"…"}，或整个返回（取最新一条）。
//   One push as GET /_mock/pushes serves it, or the whole reply (its newest push).
// 退出码：0 成功，1 被拒绝 / exit status: 0 success, 1 refused.
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";

const TOLERANCE = 5 * 60; // 时间戳允许偏差 5 分钟 / timestamps may be 5 minutes off

// Standard Webhooks 签名：v1,base64(HMAC-SHA256(id.timestamp.body))，密钥为 whsec_ 后 base64 解码的字节。
// 门户的提交、补正、撤回用门户签名密钥；部门事件用该部门的事件密钥，算法相同。
// Portal submissions, supplements, withdrawals (portal secret) and department events (its event secret).
export function signSubmission(secret, msgId, timestamp, body) {
  const raw = Buffer.from(secret.startsWith("whsec_") ? secret.slice(6) : secret, "base64");
  const mac = createHmac("sha256", raw).update(`${msgId}.${timestamp}.`).update(body);
  return "v1," + mac.digest("base64");
}

const equal = (a, b) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
const fresh = (ts) => /^\d{1,12}$/.test(ts) && Math.abs(Date.now() / 1000 - Number(ts)) <= TOLERANCE;

// 校验状态推送：时间戳在 5 分钟内，任一签名（轮换期间可有多个）常量时间比较相等。
// Verify a status push: timestamp within tolerance, any signature (several during a rotation) equal in constant time.
export function verifyPush(secret, headers, body) {
  const id = headers["webhook-id"] ?? "", ts = headers["webhook-timestamp"] ?? "";
  if (!id || !fresh(ts)) return false; // 缺字段或时间戳过期 / missing header or stale timestamp
  const want = signSubmission(secret, id, ts, body);
  return (headers["webhook-signature"] ?? "").split(" ").some((sig) => equal(Buffer.from(want), Buffer.from(sig)));
}

// 部门接口的 appKey 签名（网关发往部门）：hex(HMAC-SHA256(secret, METHOD\nPATH\nTIMESTAMP\nNONCE\nhex(SHA-256(body))))。
// The appKey signature on the gateway's requests to a department system.
export function signAppKey(secret, method, path, timestamp, nonce, body) {
  const text = [method.toUpperCase(), path, timestamp, nonce, createHash("sha256").update(body).digest("hex")].join("\n");
  return createHmac("sha256", secret).update(text).digest("hex");
}

// (1) 签名并提交一份申请（每次新的 portalRef）/ sign and post a submission with a fresh portalRef
async function submit(file, secret) {
  const url = (process.env.ONETHING_URL ?? "http://127.0.0.1:8080").replace(/\/$/, "");
  const doc = JSON.parse(readFileSync(file, "utf8"));
  doc.portalRef = "DEV-JS-" + randomBytes(6).toString("hex");
  doc.submittedAt = new Date().toISOString();
  const body = Buffer.from(JSON.stringify(doc));
  const id = "msg_" + randomBytes(12).toString("hex"), ts = String(Math.floor(Date.now() / 1000));
  const resp = await fetch(url + "/v1/portal/submissions", {
    method: "POST", body,
    headers: { "Content-Type": "application/json", "webhook-id": id, "webhook-timestamp": ts,
      "webhook-signature": signSubmission(secret, id, ts, body) },
  });
  console.log(`HTTP ${resp.status}\n${await resp.text()}`);
  return resp.status === 202;
}

// 读取 "METHOD PATH"、请求头、空行、请求体 / read the request line, headers, empty line, raw body
function load(file) {
  let all = readFileSync(file);
  if (all[0] === 0xef && all[1] === 0xbb && all[2] === 0xbf) all = all.subarray(3); // 记事本保存的 BOM / the BOM Notepad writes
  if (all.toString("utf8").trimStart().startsWith("{")) {
    // /_mock/pushes 的一条推送（或整个返回的最新一条）/ a push as /_mock/pushes serves it (or its newest)
    const doc = JSON.parse(all.toString("utf8"));
    const entry = doc.pushes ? (doc.pushes.at(-1) ?? {}) : doc; // 没有推送：按缺少请求头拒绝 / none: refused as headerless
    const headers = Object.fromEntries(Object.entries(entry.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    return { method: "POST", path: "", headers, body: Buffer.from(entry.body ?? "", "utf8") };
  }
  // 请求头逐行读到空行为止，行尾 LF 或 CRLF 均可；请求体逐字节不变
  // headers line by line up to the empty line, LF or CRLF; the body stays byte for byte
  const lines = [];
  let pos = 0;
  while (pos < all.length) {
    const nl = all.indexOf("\n", pos), end = nl < 0 ? all.length : nl;
    const line = all.subarray(pos, end).toString("utf8").replace(/\r$/, "");
    pos = end + 1;
    if (line === "") break;
    lines.push(line);
  }
  const [first = " ", ...rest] = lines;
  const [method, path] = [first.slice(0, first.indexOf(" ")), first.slice(first.indexOf(" ") + 1)];
  const headers = Object.fromEntries(rest.map((l) => [l.slice(0, l.indexOf(":")).trim().toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]));
  return { method, path, headers, body: all.subarray(Math.min(pos, all.length)) };
}

// (2) 校验推送；(3) 篡改后的推送必须被拒绝 / verify the push; a tampered copy must be refused
function verify(file, secret) {
  const m = load(file);
  if (!["webhook-id", "webhook-timestamp", "webhook-signature"].every((h) => m.headers[h])) {
    console.log("缺少 webhook-id、webhook-timestamp 或 webhook-signature 请求头，已拒绝 / push refused: no webhook-id, webhook-timestamp or webhook-signature header");
    return false;
  }
  if (!verifyPush(secret, m.headers, m.body)) {
    console.log("推送签名无效，已拒绝 / push refused: bad or stale signature");
    return false;
  }
  const push = JSON.parse(m.body.toString("utf8"));
  console.log(`推送签名有效 / push verified: ${push.applicationId} version ${push.version} ${push.status.state}`);
  if (verifyPush(secret, m.headers, Buffer.concat([m.body, Buffer.from(" ")]))) {
    console.log("错误：篡改的推送通过了校验 / BUG: a tampered push verified");
    return false;
  }
  console.log("篡改的推送已拒绝 / tampered push refused");
  return true;
}

// 部门系统校验网关请求的 appKey 签名 / a department system checks the gateway's appKey signature
function verifyAppKeyRequest(file, secret) {
  const m = load(file), h = m.headers;
  if (!fresh(h["x-timestamp"] ?? "") || !h["x-nonce"]) {
    console.log("时间戳过期或缺少 nonce / stale timestamp or no nonce");
    return false;
  }
  const want = signAppKey(secret, m.method, m.path, h["x-timestamp"], h["x-nonce"], m.body);
  const ok = equal(Buffer.from(want), Buffer.from(h["x-signature"] ?? ""));
  console.log(ok ? `appKey 签名有效 / appKey signature verified: ${h["x-app-key"]}` : "appKey 签名无效 / bad appKey signature");
  return ok;
}

const [cmd, arg] = process.argv.slice(2);
let ok = false;
// 密钥只从环境变量读取 / secrets come from the environment only
const env = new Proxy(process.env, {
  // 缺少环境变量时给出说明 / a missing variable is said, not a stack trace
  get(vars, name) {
    if (vars[name] === undefined) {
      console.error(`缺少环境变量 ${String(name)}（onething dev 会打印它）/ ${String(name)} is not set (onething dev prints it)`);
      process.exit(1);
    }
    return vars[name];
  },
});
if (cmd === "submit") ok = await submit(arg ?? "contracts/examples/submission-full.json", env.ONETHING_PORTAL_SECRET);
else if (cmd === "verify" && arg) ok = verify(arg, env.ONETHING_PUSH_SECRET);
else if (cmd === "verify-appkey" && arg) ok = verifyAppKeyRequest(arg, env.ONETHING_DEPT_SECRET);
else console.error("usage: node sign.mjs submit [FILE.json] | verify PUSH.http|PUSH.json | verify-appkey REQUEST.http");
process.exit(ok ? 0 : 1);
