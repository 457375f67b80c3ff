//! Hetzner's error envelope, decoded for messages.

use crate::error::ApiError;

/// Hetzner's envelope `{"error": {"code", "message", "details"}}`, or the status and the
/// start of a body that is not JSON.
pub fn decode_error(status: u16, body: &str) -> ApiError {
    #[derive(serde::Deserialize)]
    struct Envelope {
        error: Inner,
    }
    #[derive(serde::Deserialize)]
    struct Inner {
        code: Option<String>,
        message: Option<String>,
        details: Option<serde_json::Value>,
    }
    if let Ok(env) = serde_json::from_str::<Envelope>(body) {
        let fields = env
            .error
            .details
            .as_ref()
            .and_then(|d| d.get("fields"))
            .and_then(|f| f.as_array())
            .map(|fields| fields.iter().filter_map(field_message).collect())
            .unwrap_or_default();
        return ApiError {
            status,
            code: env.error.code,
            message: env.error.message.unwrap_or_default(),
            fields,
        };
    }
    let start: String = body.trim().chars().take(120).collect();
    ApiError {
        status,
        code: None,
        message: start.split_whitespace().collect::<Vec<_>>().join(" "),
        fields: Vec::new(),
    }
}

fn field_message(f: &serde_json::Value) -> Option<String> {
    let name = f.get("name")?.as_str()?;
    let messages: Vec<&str> = f
        .get("messages")
        .and_then(|m| m.as_array())
        .map(|m| m.iter().filter_map(|s| s.as_str()).collect())
        .unwrap_or_default();
    if messages.is_empty() {
        Some(name.to_string())
    } else {
        Some(format!("{name}: {}", messages.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_envelope_and_plain_bodies() {
        let e = decode_error(
            422,
            r#"{"error":{"code":"invalid_input","message":"invalid input in field 'name'","details":{"fields":[{"name":"name","messages":["Name must be a valid hostname."]}]}}}"#,
        );
        assert_eq!(e.code(), "invalid_input");
        assert_eq!(e.fields, vec!["name: Name must be a valid hostname."]);
        let e = decode_error(502, "<html>\n<body>502   Bad Gateway</body></html>");
        assert_eq!(e.code, None);
        assert_eq!(e.message, "<html> <body>502 Bad Gateway</body></html>");
    }
}
