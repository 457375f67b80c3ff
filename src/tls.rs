//! TLS trust: the bundled Mozilla roots (ureq's `webpki-roots`), or, when `SSL_CERT_FILE`
//! is set, the CAs of that file instead, as in curl, OpenSSL and Go (SPEC §3; corporate
//! TLS-inspecting proxies). The binary needs no CA bundle on the machine, and carries one
//! store of roots only.

use std::sync::Arc;

use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};

use crate::error::{Error, Result};

/// The TLS settings for the agent.
pub fn config() -> Result<TlsConfig> {
    let roots = roots(std::env::var_os("SSL_CERT_FILE"))?;
    Ok(TlsConfig::builder().root_certs(roots).build())
}

/// The CAs of the `SSL_CERT_FILE` value and nothing else, or the bundled roots when it is
/// unset or empty.
fn roots(cert_file: Option<std::ffi::OsString>) -> Result<RootCerts> {
    Ok(match cert_file {
        Some(path) if !path.is_empty() => {
            let path = std::path::PathBuf::from(path);
            RootCerts::Specific(Arc::new(load_pem_certs(&path)?))
        }
        _ => RootCerts::WebPki,
    })
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

/// A TLS failure in words, never a rustls variant name. A certificate the roots do not
/// vouch for is the common case (a TLS-inspecting proxy); say so and how to fix it.
pub fn describe_error(err: &rustls::Error, host: &str) -> String {
    use rustls::CertificateError as C;
    use rustls::Error as E;
    let why = match err {
        E::InvalidCertificate(cert) => {
            #[allow(deprecated)]
            let why = match cert {
                C::UnknownIssuer => "issued by an unknown certificate authority",
                C::NotValidForName | C::NotValidForNameContext { .. } => {
                    "not valid for this host name"
                }
                C::Expired | C::ExpiredContext { .. } => "expired",
                C::NotValidYet | C::NotValidYetContext { .. } => "not valid yet",
                C::Revoked => "revoked",
                C::BadSignature => "bad signature",
                C::BadEncoding => "badly encoded",
                C::InvalidPurpose | C::InvalidPurposeContext { .. } => {
                    "not issued for a TLS server"
                }
                C::UnsupportedSignatureAlgorithm
                | C::UnsupportedSignatureAlgorithmContext { .. }
                | C::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
                    "signed with an algorithm pegasus does not accept"
                }
                C::UnknownRevocationStatus
                | C::ExpiredRevocationList
                | C::ExpiredRevocationListContext { .. } => "its revocation status is unknown",
                _ => "rejected by the certificate check",
            };
            return format!(
                "TLS certificate not trusted for {host} ({why}); if a proxy inspects TLS on \
                 this network, set SSL_CERT_FILE to a PEM file with its CA certificate"
            );
        }
        E::AlertReceived(alert) => {
            return format!(
                "TLS error talking to {host}: the server ended the handshake ({})",
                alert_words(*alert)
            );
        }
        E::NoCertificatesPresented => "the server presented no certificate",
        E::PeerIncompatible(_) | E::NoApplicationProtocol => {
            "the server offers no TLS version or cipher that pegasus accepts"
        }
        E::InappropriateMessage { .. }
        | E::InappropriateHandshakeMessage { .. }
        | E::InvalidMessage(_)
        | E::PeerMisbehaved(_)
        | E::PeerSentOversizedRecord => {
            "the server broke the TLS protocol (is it a TLS server at this address?)"
        }
        E::DecryptError => "a message from the server could not be decrypted",
        E::FailedToGetCurrentTime => "the system clock could not be read",
        E::FailedToGetRandomBytes => "the system gave no random numbers",
        E::InvalidCertRevocationList(_) => "a certificate revocation list is not valid",
        _ => "the TLS connection failed",
    };
    format!("TLS error talking to {host}: {why}")
}

/// A TLS alert in words.
fn alert_words(alert: rustls::AlertDescription) -> String {
    use rustls::AlertDescription as A;
    let words = match alert {
        A::HandshakeFailure => "no security settings in common",
        A::ProtocolVersion => "no TLS version in common",
        A::InsufficientSecurity => "it wants stronger security",
        A::UnrecognisedName => "it does not know this host name",
        A::BadCertificate
        | A::UnsupportedCertificate
        | A::CertificateRevoked
        | A::CertificateExpired
        | A::CertificateUnknown
        | A::UnknownCA
        | A::CertificateRequired
        | A::NoCertificate => "it wants a client certificate or rejected one",
        A::AccessDenied => "access denied",
        A::InternalError => "an internal error on the server",
        A::DecodeError | A::IllegalParameter | A::UnexpectedMessage | A::DecryptError => {
            "it could not understand this client"
        }
        _ => "TLS alert",
    };
    format!("{words}, TLS alert {}", u8::from(alert))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_errors_get_the_hint() {
        let e = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let msg = describe_error(&e, "api.example");
        assert!(msg.starts_with(
            "TLS certificate not trusted for api.example (issued by an unknown certificate authority)"
        ));
        assert!(msg.contains("SSL_CERT_FILE"));
    }

    /// No rustls error comes out as a Rust name (`HandshakeFailure`, `UnknownIssuer`,
    /// `InvalidContentType`): everything is said in words.
    #[test]
    fn every_tls_error_is_words() {
        use rustls::{AlertDescription as A, CertificateError as C, Error as E};
        let errors = [
            E::InvalidCertificate(C::UnknownIssuer),
            E::InvalidCertificate(C::NotValidForName),
            E::InvalidCertificate(C::Expired),
            E::InvalidCertificate(C::BadEncoding),
            E::InvalidCertificate(C::UnhandledCriticalExtension),
            E::InvalidCertificate(C::ApplicationVerificationFailure),
            E::AlertReceived(A::HandshakeFailure),
            E::AlertReceived(A::ProtocolVersion),
            E::AlertReceived(A::Unknown(200)),
            E::AlertReceived(A::UserCanceled),
            E::InvalidMessage(rustls::InvalidMessage::InvalidContentType),
            E::PeerMisbehaved(rustls::PeerMisbehaved::IncorrectBinder),
            E::PeerIncompatible(rustls::PeerIncompatible::Tls12NotOffered),
            E::NoCertificatesPresented,
            E::DecryptError,
            E::HandshakeNotComplete,
            E::General("x".into()),
        ];
        for e in errors {
            let msg = describe_error(&e, "h");
            let debug_name = format!("{e:?}");
            let variant = debug_name.split(['(', ' ', '{']).next().unwrap();
            assert!(!msg.contains(variant), "{msg} names {variant}");
            for word in msg.split(|c: char| !c.is_alphanumeric()) {
                let camel = word.chars().any(|c| c.is_lowercase())
                    && word.chars().skip(1).any(|c| c.is_uppercase());
                assert!(!camel, "{msg}: {word}");
            }
            assert!(msg.contains("TLS"), "{msg}");
        }
        assert_eq!(
            describe_error(&E::AlertReceived(A::HandshakeFailure), "h"),
            "TLS error talking to h: the server ended the handshake (no security settings in \
             common, TLS alert 40)"
        );
    }

    #[test]
    fn ssl_cert_file_replaces_the_bundled_roots() {
        assert!(matches!(roots(None).unwrap(), RootCerts::WebPki));
        assert!(matches!(roots(Some("".into())).unwrap(), RootCerts::WebPki));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ca.pem");
        let cert = rcgen::generate_simple_self_signed(vec!["ca.example".to_string()]).unwrap();
        std::fs::write(&file, cert.cert.pem()).unwrap();
        match roots(Some(file.into_os_string())).unwrap() {
            // Exactly the file's one CA: the bundled roots are not added.
            RootCerts::Specific(certs) => assert_eq!(certs.len(), 1),
            _ => panic!("SSL_CERT_FILE must give a specific list of roots"),
        }
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
