//! TLS trust: the bundled Mozilla roots, plus the CAs of `SSL_CERT_FILE` when it is set
//! (corporate TLS-inspecting proxies). The binary needs no CA bundle on the machine.

use std::sync::Arc;

use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};

use crate::error::{Error, Result};

/// The TLS settings for the agent.
pub fn config() -> Result<TlsConfig> {
    let roots = match std::env::var_os("SSL_CERT_FILE") {
        Some(path) if !path.is_empty() => {
            let path = std::path::PathBuf::from(path);
            let extra = load_pem_certs(&path)?;
            // ureq takes either its bundled trust anchors or a list of certificates, not
            // both; so the bundled roots come in certificate form here, then the extra CAs.
            let mut all: Vec<Certificate<'static>> = webpki_root_certs::TLS_SERVER_ROOT_CERTS
                .iter()
                .map(|der| Certificate::from_der(der.as_ref()).to_owned())
                .collect();
            all.extend(extra);
            RootCerts::Specific(Arc::new(all))
        }
        _ => RootCerts::WebPki,
    };
    Ok(TlsConfig::builder().root_certs(roots).build())
}

fn load_pem_certs(path: &std::path::Path) -> Result<Vec<Certificate<'static>>> {
    let shown = path.display();
    let bytes = std::fs::read(path).map_err(|e| {
        Error::Failed(format!(
            "SSL_CERT_FILE {shown} cannot be read: {}",
            crate::error::io_reason(&e)
        ))
    })?;
    let certs: Vec<Certificate<'static>> = ureq::tls::parse_pem(&bytes)
        .filter_map(|item| match item {
            Ok(PemItem::Certificate(c)) => Some(c),
            _ => None,
        })
        .collect();
    if certs.is_empty() {
        return Err(Error::Failed(format!(
            "SSL_CERT_FILE {shown} holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
        )));
    }
    Ok(certs)
}

/// A TLS failure in words. A certificate the roots do not vouch for is the common case
/// (a TLS-inspecting proxy); say so and how to fix it.
pub fn describe_error(err: &dyn std::fmt::Display, host: &str) -> String {
    let text = err.to_string();
    if text.contains("certificate") {
        let detail = text.trim_start_matches("invalid peer certificate: ");
        // rustls names the reasons like Rust variants; say them in words.
        let why = match detail {
            "UnknownIssuer" => "issued by an unknown certificate authority",
            "NotValidForName" => "not valid for this host name",
            "Expired" => "expired",
            "NotValidYet" => "not valid yet",
            "Revoked" => "revoked",
            "BadSignature" => "bad signature",
            other => other,
        };
        format!(
            "TLS certificate not trusted for {host} ({why}); if a proxy inspects TLS on this \
             network, set SSL_CERT_FILE to a PEM file with its CA certificate"
        )
    } else {
        format!("TLS error talking to {host}: {text}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_errors_get_the_hint() {
        let msg = describe_error(&"invalid peer certificate: UnknownIssuer", "api.example");
        assert!(msg.starts_with(
            "TLS certificate not trusted for api.example (issued by an unknown certificate authority)"
        ));
        assert!(msg.contains("SSL_CERT_FILE"));
        let msg = describe_error(&"handshake failure", "h");
        assert_eq!(msg, "TLS error talking to h: handshake failure");
    }

    #[test]
    fn unreadable_or_empty_cert_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("none.pem");
        let e = load_pem_certs(&missing).unwrap_err().to_string();
        assert!(e.contains("cannot be read: no such file"), "{e}");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a cert").unwrap();
        let e = load_pem_certs(&empty).unwrap_err().to_string();
        assert!(e.contains("holds no PEM certificate"), "{e}");
    }
}
