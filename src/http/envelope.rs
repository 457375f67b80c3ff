//! Hetzner's error envelope, decoded for messages.

use crate::error::ApiError;
use crate::text::Untrusted;

/// Hetzner's envelope `{"error": {"code", "message", "details"}}`, or the status and the
/// start of a body that is not JSON.
pub fn decode_error(status: u16, body: &str) -> ApiError {
    #[derive(serde::Deserialize)]
    struct Envelope {
        error: Inner,
    }
    #[derive(serde::Deserialize)]
    struct Inner {
        code: Option<Untrusted>,
        message: Option<Untrusted>,
        #[serde(default)]
        details: Option<Details>,
    }
    #[derive(serde::Deserialize, Default)]
    struct Details {
        #[serde(default)]
        fields: Vec<Field>,
    }
    #[derive(serde::Deserialize)]
    struct Field {
        name: String,
        #[serde(default)]
        messages: Vec<String>,
    }
    if let Ok(env) = serde_json::from_str::<Envelope>(body) {
        let fields = env
            .error
            .details
            .unwrap_or_default()
            .fields
            .into_iter()
            .map(|f| match f.messages.is_empty() {
                true => Untrusted::new(f.name),
                false => Untrusted::new(format!("{}: {}", f.name, f.messages.join(", "))),
            })
            .collect();
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
        message: Untrusted::new(start.split_whitespace().collect::<Vec<_>>().join(" ")),
        fields: Vec::new(),
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
