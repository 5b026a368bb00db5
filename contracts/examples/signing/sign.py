#!/usr/bin/env python3
"""一件事网关签名示例（Python 3，仅用标准库）/ Signing example for the onething gateway (Python 3, standard library only).

用法 / Usage:
  ONETHING_URL=http://127.0.0.1:8080 ONETHING_PORTAL_SECRET=whsec_… python3 sign.py submit [FILE.json]
  ONETHING_PUSH_SECRET=whsec_… python3 sign.py verify PUSH.http|PUSH.json
  ONETHING_DEPT_SECRET=… python3 sign.py verify-appkey REQUEST.http
PUSH.http / REQUEST.http：首行 "METHOD PATH"，然后每行一个 "名称: 值" 请求头，空行，原样的请求体（行尾 LF 或 CRLF）。
  First line "METHOD PATH", then one "name: value" header a line, an empty line, the raw body (LF or CRLF line ends).
PUSH.json：模拟省平台 GET /_mock/pushes 返回的一条推送 {"headers":{…},"body":"…"}，或整个返回（取最新一条）。
  One push as GET /_mock/pushes serves it, or the whole reply (its newest push).
退出码：0 成功，1 被拒绝 / exit status: 0 success, 1 refused.
"""
import base64, hashlib, hmac, json, os, secrets, sys, time, urllib.error, urllib.request

TOLERANCE = 5 * 60  # 时间戳允许偏差 5 分钟 / timestamps may be 5 minutes off


def _key(secret):
    # 密钥形如 whsec_<base64>，HMAC 密钥是解码后的字节 / the HMAC key is the base64 after whsec_, decoded
    return base64.b64decode(secret.removeprefix("whsec_"))


def sign_submission(secret, msg_id, timestamp, body):
    """Standard Webhooks 签名：v1,base64(HMAC-SHA256(id.timestamp.body))。
    门户的提交、补正、撤回用门户签名密钥；部门事件用该部门的事件密钥，算法相同。
    Portal submissions, supplements, withdrawals (portal secret) and department events (that department's event secret)."""
    mac = hmac.new(_key(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


def verify_push(secret, headers, body, now=None):
    """校验状态推送：时间戳在 5 分钟内，且任一签名（轮换期间可有多个）常量时间比较相等。
    Verify a status push: timestamp within tolerance, and any of the signatures (several during a rotation) equal in constant time."""
    h = {k.lower(): v for k, v in headers.items()}
    msg_id, ts, sigs = h.get("webhook-id", ""), h.get("webhook-timestamp", ""), h.get("webhook-signature", "")
    if not msg_id or not ts.isdigit() or abs((now or time.time()) - int(ts)) > TOLERANCE:
        return False  # 缺字段或时间戳过期 / missing header or stale timestamp
    want = sign_submission(secret, msg_id, ts, body)
    return any(hmac.compare_digest(want.encode(), s.encode()) for s in sigs.split())


def sign_app_key(secret, method, path, timestamp, nonce, body):
    """部门接口的 appKey 签名（网关发往部门）：hex(HMAC-SHA256(secret, METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nhex(SHA-256(body))))。
    The appKey signature on the gateway's requests to a department system."""
    text = "\n".join([method.upper(), path, timestamp, nonce, hashlib.sha256(body).hexdigest()])
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def submit(file, secret):
    # (1) 签名并提交一份申请（每次新的 portalRef）/ sign and post a submission with a fresh portalRef
    url = os.environ.get("ONETHING_URL", "http://127.0.0.1:8080")
    doc = json.load(open(file, encoding="utf-8"))
    doc["portalRef"] = "DEV-PY-" + time.strftime("%Y%m%d%H%M%S") + "-" + secrets.token_hex(3)
    doc["submittedAt"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    body = json.dumps(doc, ensure_ascii=False).encode()
    msg_id, ts = "msg_" + secrets.token_hex(12), str(int(time.time()))
    req = urllib.request.Request(url.rstrip("/") + "/v1/portal/submissions", data=body, method="POST", headers={
        "Content-Type": "application/json", "webhook-id": msg_id, "webhook-timestamp": ts,
        "webhook-signature": sign_submission(secret, msg_id, ts, body)})
    try:
        with urllib.request.urlopen(req) as resp:
            status, reply = resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        status, reply = e.code, e.read().decode()
    print(f"HTTP {status}\n{reply}")
    return status == 202


def load(file):
    # 读取 "METHOD PATH"、请求头、空行、请求体 / read the request line, headers, empty line, raw body
    data = open(file, "rb").read()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]  # 记事本保存的 BOM / the BOM Notepad writes
    if data.lstrip()[:1] == b"{":
        # /_mock/pushes 的一条推送（或整个返回的最新一条）/ a push as /_mock/pushes serves it (or its newest)
        doc = json.loads(data)
        entry = (doc["pushes"] or [{}])[-1] if "pushes" in doc else doc  # 没有推送：按缺少请求头拒绝 / none: refused as headerless
        headers = {k.lower(): v for k, v in entry.get("headers", {}).items()}
        return {"method": "POST", "path": "", "headers": headers}, entry.get("body", "").encode()
    # 请求头逐行读到空行为止，行尾 LF 或 CRLF 均可；请求体逐字节不变
    # headers line by line up to the empty line, LF or CRLF; the body stays byte for byte
    lines, pos = [], 0
    while pos < len(data):
        end = data.find(b"\n", pos)
        end = len(data) if end < 0 else end
        line, pos = data[pos:end].removesuffix(b"\r").decode(), end + 1
        if not line:
            break
        lines.append(line)
    first, *lines = lines or [" "]
    method, _, path = first.partition(" ")
    headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines)}
    return {"method": method, "path": path, "headers": headers}, data[pos:]


def verify(file, secret):
    # (2) 校验推送；(3) 篡改后的推送必须被拒绝 / verify the push; a tampered copy must be refused
    msg, body = load(file)
    if not all(msg["headers"].get(h) for h in ("webhook-id", "webhook-timestamp", "webhook-signature")):
        print("缺少 webhook-id、webhook-timestamp 或 webhook-signature 请求头，已拒绝 / push refused: no webhook-id, webhook-timestamp or webhook-signature header")
        return False
    if not verify_push(secret, msg["headers"], body):
        print("推送签名无效，已拒绝 / push refused: bad or stale signature")
        return False
    push = json.loads(body)
    print(f"推送签名有效 / push verified: {push['applicationId']} version {push['version']} {push['status']['state']}")
    if verify_push(secret, msg["headers"], body + b" "):
        print("错误：篡改的推送通过了校验 / BUG: a tampered push verified")
        return False
    print("篡改的推送已拒绝 / tampered push refused")
    return True


def verify_appkey(file, secret):
    # 部门系统校验网关请求的 appKey 签名 / a department system checks the gateway's appKey signature
    msg, body = load(file)
    h = msg["headers"]
    ts = h.get("x-timestamp", "")
    if not ts.isdigit() or abs(time.time() - int(ts)) > TOLERANCE:
        print("时间戳过期 / stale timestamp")
        return False
    want = sign_app_key(secret, msg["method"], msg["path"], ts, h.get("x-nonce", ""), body)
    ok = bool(h.get("x-nonce")) and hmac.compare_digest(want.encode(), h.get("x-signature", "").encode())
    print(f"appKey 签名有效 / appKey signature verified: {h.get('x-app-key')}" if ok else "appKey 签名无效 / bad appKey signature")
    return ok


def env(name):
    # 缺少环境变量时给出说明，而不是异常堆栈 / a missing variable is said, not a traceback
    if name not in os.environ:
        sys.exit(f"缺少环境变量 {name}（onething dev 会打印它）/ {name} is not set (onething dev prints it)")
    return os.environ[name]


if __name__ == "__main__":
    cmd, args = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("", [])
    # 密钥只从环境变量读取 / secrets come from the environment only
    if cmd == "submit":
        ok = submit(args[0] if args else "contracts/examples/submission-full.json", env("ONETHING_PORTAL_SECRET"))
    elif cmd == "verify" and args:
        ok = verify(args[0], env("ONETHING_PUSH_SECRET"))
    elif cmd == "verify-appkey" and args:
        ok = verify_appkey(args[0], env("ONETHING_DEPT_SECRET"))
    else:
        sys.exit(__doc__)
    sys.exit(0 if ok else 1)
