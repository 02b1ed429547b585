//! Lambda function URL events (API Gateway payload 2.0) as AWS delivers them: how `zcc local`
//! hands an HTTP request to a function's handler exactly as Lambda would.

/// A Lambda function URL event (API Gateway payload 2.0), as AWS delivers it to the
/// function. With `base64`, the body is encoded as function URLs do for binary content.
pub fn function_url_event(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    base64: bool,
) -> serde_json::Value {
    use base64::Engine as _;
    let now = zcc_domain::timestamp::Timestamp::now();
    let headers: serde_json::Map<String, serde_json::Value> = headers
        .iter()
        .map(|(k, v)| {
            (
                k.to_ascii_lowercase(),
                serde_json::Value::String((*v).to_owned()),
            )
        })
        .collect();
    let body = if base64 {
        base64::engine::general_purpose::STANDARD.encode(body)
    } else {
        String::from_utf8_lossy(body).into_owned()
    };
    serde_json::json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "zcclocal0000000000000000000000",
            "domainName": "zcclocal0000000000000000000000.lambda-url.us-east-1.on.aws",
            "domainPrefix": "zcclocal0000000000000000000000",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": headers.get("user-agent").and_then(|v| v.as_str()).unwrap_or("")
            },
            "requestId": format!("local-{}", now.unix_millis()),
            "routeKey": "$default",
            "stage": "$default",
            "time": "01/Jan/2026:00:00:00 +0000",
            "timeEpoch": now.unix_millis()
        },
        "body": body,
        "isBase64Encoded": base64
    })
}

/// Parses a function URL event exactly as the Lambda runtime does.
pub fn lambda_request(event: &serde_json::Value) -> lambda_http::Request {
    lambda_http::request::from_str(&event.to_string()).expect("a well-formed function URL event")
}
