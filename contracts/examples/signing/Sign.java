// 一件事网关签名示例（Java 17，仅用标准库，`java Sign.java` 直接运行）
// Signing example for the onething gateway (Java 17, standard library only, run with `java Sign.java`).
//
// 用法 / Usage:
//   ONETHING_URL=http://127.0.0.1:8080 ONETHING_PORTAL_SECRET=whsec_… java Sign.java submit [FILE.json]
//   ONETHING_PUSH_SECRET=whsec_… java Sign.java verify PUSH.http
//   ONETHING_DEPT_SECRET=… java Sign.java verify-appkey REQUEST.http
// PUSH.http / REQUEST.http：首行 "METHOD PATH"，每行一个 "名称: 值" 请求头，空行，原样的请求体（行尾 LF 或 CRLF）。
//   First line "METHOD PATH", one "name: value" header a line, an empty line, the raw body (LF or CRLF line ends).
// 标准库没有 JSON 解析，本示例只读这种格式，不读 /_mock/pushes 的 JSON（Python、JavaScript 示例两者都读）。
//   No JSON in the standard library: this one reads that format only, not /_mock/pushes' JSON (sign.py and sign.mjs read both).
// 退出码：0 成功，1 被拒绝 / exit status: 0 success, 1 refused.

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.*;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

public class Sign {
    static final long TOLERANCE = 5 * 60; // 时间戳允许偏差 5 分钟 / timestamps may be 5 minutes off
    static final byte[] NL = "\n".getBytes(StandardCharsets.UTF_8);

    static byte[] hmac(byte[] key, byte[]... parts) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        for (byte[] p : parts) mac.update(p);
        return mac.doFinal();
    }

    static byte[] utf8(String s) { return s.getBytes(StandardCharsets.UTF_8); }

    /** Standard Webhooks 签名：v1,base64(HMAC-SHA256(id.timestamp.body))，密钥为 whsec_ 后 base64 解码的字节。
     *  门户的提交、补正、撤回用门户签名密钥；部门事件用该部门的事件密钥，算法相同。
     *  Portal submissions, supplements, withdrawals (portal secret) and department events (its event secret). */
    static String signSubmission(String secret, String msgId, String timestamp, byte[] body) throws Exception {
        byte[] raw = Base64.getDecoder().decode(secret.replaceFirst("^whsec_", ""));
        return "v1," + Base64.getEncoder().encodeToString(hmac(raw, utf8(msgId + "." + timestamp + "."), body));
    }

    /** 校验状态推送：时间戳在 5 分钟内，任一签名（轮换期间可有多个）常量时间比较相等。
     *  Verify a status push: timestamp within tolerance, any signature (several during a rotation) equal in constant time. */
    static boolean verifyPush(String secret, Map<String, String> headers, byte[] body) throws Exception {
        String id = headers.getOrDefault("webhook-id", ""), ts = headers.getOrDefault("webhook-timestamp", "");
        if (id.isEmpty() || !ts.matches("\\d{1,12}") || Math.abs(Instant.now().getEpochSecond() - Long.parseLong(ts)) > TOLERANCE)
            return false; // 缺字段或时间戳过期 / missing header or stale timestamp
        byte[] want = utf8(signSubmission(secret, id, ts, body));
        for (String sig : headers.getOrDefault("webhook-signature", "").split(" "))
            if (MessageDigest.isEqual(want, utf8(sig))) return true;
        return false;
    }

    /** 部门接口的 appKey 签名（网关发往部门）：hex(HMAC-SHA256(secret, METHOD\nPATH\nTIMESTAMP\nNONCE\nhex(SHA-256(body))))。
     *  The appKey signature on the gateway's requests to a department system. */
    static String signAppKey(String secret, String method, String path, String ts, String nonce, byte[] body) throws Exception {
        String bodyHash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
        String text = String.join("\n", method.toUpperCase(Locale.ROOT), path, ts, nonce, bodyHash);
        return HexFormat.of().formatHex(hmac(utf8(secret), utf8(text)));
    }

    // (1) 签名并提交一份申请（每次新的 portalRef）/ sign and post a submission with a fresh portalRef
    static boolean submit(String file, String secret) throws Exception {
        String url = System.getenv().getOrDefault("ONETHING_URL", "http://127.0.0.1:8080").replaceFirst("/$", "");
        byte[] random = new byte[12];
        new SecureRandom().nextBytes(random);
        String hex = HexFormat.of().formatHex(random);
        // 标准库无 JSON：只替换顶层的两个字段 / no JSON in the standard library: replace the two top-level fields
        String json = Files.readString(Path.of(file))
            .replaceFirst("\"portalRef\"\\s*:\\s*\"[^\"]*\"", "\"portalRef\": \"DEV-JAVA-" + hex.substring(0, 12) + "\"")
            .replaceFirst("\"submittedAt\"\\s*:\\s*\"[^\"]*\"", "\"submittedAt\": \"" + Instant.ofEpochSecond(Instant.now().getEpochSecond()) + "\"");
        byte[] body = utf8(json);
        String id = "msg_" + hex, ts = String.valueOf(Instant.now().getEpochSecond());
        HttpRequest req = HttpRequest.newBuilder(URI.create(url + "/v1/portal/submissions"))
            .header("Content-Type", "application/json").header("webhook-id", id).header("webhook-timestamp", ts)
            .header("webhook-signature", signSubmission(secret, id, ts, body))
            .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
        HttpResponse<String> resp = HttpClient.newHttpClient().send(req, HttpResponse.BodyHandlers.ofString());
        System.out.println("HTTP " + resp.statusCode() + "\n" + resp.body());
        return resp.statusCode() == 202;
    }

    // 读取 "METHOD PATH"、请求头、空行、请求体 / read the request line, headers, empty line, raw body
    record Message(String method, String path, Map<String, String> headers, byte[] body) {}

    static Message load(String file) throws Exception {
        byte[] all = Files.readAllBytes(Path.of(file));
        if (new String(all, StandardCharsets.UTF_8).stripLeading().startsWith("{"))
            throw new IllegalArgumentException("Java 示例只读 .http 格式（首行 METHOD PATH、请求头、空行、请求体），不读 JSON"
                + " / the Java example reads the .http format only (METHOD PATH, headers, an empty line, the body), not JSON");
        // 请求头逐行读到空行为止，行尾 LF 或 CRLF 均可；请求体逐字节不变
        // headers line by line up to the empty line, LF or CRLF; the body stays byte for byte
        List<String> lines = new ArrayList<>();
        int pos = 0;
        while (pos < all.length) {
            int end = pos;
            while (end < all.length && all[end] != '\n') end++;
            int cr = end > pos && all[end - 1] == '\r' ? 1 : 0; // CRLF, as on the wire
            String line = new String(all, pos, end - pos - cr, StandardCharsets.UTF_8);
            pos = end + 1;
            if (line.isEmpty()) break;
            lines.add(line);
        }
        Map<String, String> headers = new HashMap<>();
        for (int i = 1; i < lines.size(); i++) {
            String[] kv = lines.get(i).split(":", 2);
            headers.put(kv[0].trim().toLowerCase(Locale.ROOT), kv.length > 1 ? kv[1].trim() : "");
        }
        String[] first = (lines.isEmpty() ? " " : lines.get(0)).split(" ", 2);
        return new Message(first[0], first.length > 1 ? first[1] : "", headers, Arrays.copyOfRange(all, Math.min(pos, all.length), all.length));
    }

    // (2) 校验推送；(3) 篡改后的推送必须被拒绝 / verify the push; a tampered copy must be refused
    static boolean verify(String file, String secret) throws Exception {
        Message m = load(file);
        if (!List.of("webhook-id", "webhook-timestamp", "webhook-signature").stream().allMatch(h -> !m.headers().getOrDefault(h, "").isEmpty())) {
            System.out.println("缺少 webhook-id、webhook-timestamp 或 webhook-signature 请求头，已拒绝 / push refused: no webhook-id, webhook-timestamp or webhook-signature header");
            return false;
        }
        if (!verifyPush(secret, m.headers(), m.body())) {
            System.out.println("推送签名无效，已拒绝 / push refused: bad or stale signature");
            return false;
        }
        System.out.println("推送签名有效 / push verified: " + new String(m.body(), StandardCharsets.UTF_8).replaceAll("(?s).*?(\"applicationId\"\\s*:\\s*\"[^\"]*\").*", "$1"));
        byte[] tampered = Arrays.copyOf(m.body(), m.body().length + 1);
        tampered[m.body().length] = ' ';
        if (verifyPush(secret, m.headers(), tampered)) {
            System.out.println("错误：篡改的推送通过了校验 / BUG: a tampered push verified");
            return false;
        }
        System.out.println("篡改的推送已拒绝 / tampered push refused");
        return true;
    }

    // 部门系统校验网关请求的 appKey 签名 / a department system checks the gateway's appKey signature
    static boolean verifyAppKey(String file, String secret) throws Exception {
        Message m = load(file);
        String ts = m.headers().getOrDefault("x-timestamp", ""), nonce = m.headers().getOrDefault("x-nonce", "");
        if (!ts.matches("\\d{1,12}") || Math.abs(Instant.now().getEpochSecond() - Long.parseLong(ts)) > TOLERANCE || nonce.isEmpty()) {
            System.out.println("时间戳过期或缺少 nonce / stale timestamp or no nonce");
            return false;
        }
        String want = signAppKey(secret, m.method(), m.path(), ts, nonce, m.body());
        boolean ok = MessageDigest.isEqual(utf8(want), utf8(m.headers().getOrDefault("x-signature", "")));
        System.out.println(ok ? "appKey 签名有效 / appKey signature verified: " + m.headers().get("x-app-key") : "appKey 签名无效 / bad appKey signature");
        return ok;
    }

    public static void main(String[] args) throws Exception {
        String cmd = args.length > 0 ? args[0] : "";
        try {
            System.exit(run(cmd, args) ? 0 : 1);
        } catch (IllegalArgumentException e) {
            System.out.println(e.getMessage());
            System.exit(1);
        }
    }

    static boolean run(String cmd, String[] args) throws Exception {
        return switch (cmd) {
            // 密钥只从环境变量读取 / secrets come from the environment only
            case "submit" -> submit(args.length > 1 ? args[1] : "contracts/examples/submission-full.json", System.getenv("ONETHING_PORTAL_SECRET"));
            case "verify" -> args.length > 1 && verify(args[1], System.getenv("ONETHING_PUSH_SECRET"));
            case "verify-appkey" -> args.length > 1 && verifyAppKey(args[1], System.getenv("ONETHING_DEPT_SECRET"));
            default -> {
                System.err.println("usage: java Sign.java submit [FILE.json] | verify PUSH.http | verify-appkey REQUEST.http");
                yield false;
            }
        };
    }
}
