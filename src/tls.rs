//! TLS trust: the bundled Mozilla roots (ureq's `webpki-roots`), or, when `SSL_CERT_FILE`
//! is set, the CAs of that file instead, as in curl, OpenSSL and Go (SPEC §3; corporate
//! TLS-inspecting proxies). The binary needs no CA bundle on the machine, and carries one
//! store of roots only.
//!
//! The crypto is *ring*'s, through rustls, narrowed to what the Hetzner API and common
//! proxies need ([`provider`]): the binary carries no client-key signing code and no
//! algorithm no server would pick (SPEC §1: at most 2.0 MiB per binary).

use std::sync::Arc;

use rustls::crypto::ring::{cipher_suite as suite, kx_group};
use rustls::crypto::{CryptoProvider, GetRandomFailed, KeyProvider, SecureRandom};
use rustls::crypto::{SupportedKxGroup, WebPkiSupportedAlgorithms};
use rustls::pki_types::PrivateKeyDer;
use rustls::{SignatureScheme, SupportedCipherSuite};
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};
use webpki::ring as alg;

use crate::error::{Error, Result};

/// The TLS settings for the agent.
pub fn config() -> Result<TlsConfig> {
    let roots = roots(std::env::var_os("SSL_CERT_FILE"))?;
    Ok(TlsConfig::builder()
        .root_certs(roots)
        .unversioned_rustls_crypto_provider(Arc::new(provider()))
        .build())
}

/// TLS 1.3 with AES-GCM and ChaCha20-Poly1305; TLS 1.2 with ECDHE (ECDSA or RSA
/// certificates) and the same two ciphers. The order is rustls's own: AES-GCM first (every
/// TLS 1.3 server must offer AES-128-GCM, RFC 8446 §9.1), ChaCha20-Poly1305 for servers
/// and proxies that prefer it. CBC and RSA key exchange are left out, as in rustls.
pub static CIPHER_SUITES: &[SupportedCipherSuite] = &[
    suite::TLS13_AES_256_GCM_SHA384,
    suite::TLS13_AES_128_GCM_SHA256,
    suite::TLS13_CHACHA20_POLY1305_SHA256,
    suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    suite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    suite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
];

/// X25519, the group servers and proxies prefer (and the first rustls, curl and browsers
/// offer), then P-256 (secp256r1), the one every TLS 1.3 server must implement (RFC 8446
/// §9.1) and every TLS 1.2 ECDHE server offers. P-384 is left out: no server needs it.
pub static KX_GROUPS: &[&dyn SupportedKxGroup] = &[kx_group::X25519, kx_group::SECP256R1];

/// The signatures found in the chains of the bundled roots and in TLS handshakes: ECDSA
/// (P-256, P-384), RSA PKCS#1 and RSA-PSS (2048 to 8192 bits). Ed25519 is left out: no
/// bundled root or public CA issues it.
static SIGNATURES: WebPkiSupportedAlgorithms = WebPkiSupportedAlgorithms {
    all: &[
        alg::ECDSA_P256_SHA256,
        alg::ECDSA_P256_SHA384,
        alg::ECDSA_P384_SHA256,
        alg::ECDSA_P384_SHA384,
        alg::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
        alg::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
        alg::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
        alg::RSA_PKCS1_2048_8192_SHA256,
        alg::RSA_PKCS1_2048_8192_SHA384,
        alg::RSA_PKCS1_2048_8192_SHA512,
        alg::RSA_PKCS1_2048_8192_SHA256_ABSENT_PARAMS,
        alg::RSA_PKCS1_2048_8192_SHA384_ABSENT_PARAMS,
        alg::RSA_PKCS1_2048_8192_SHA512_ABSENT_PARAMS,
    ],
    // As rustls maps them for *ring* (for TLS 1.2 the curve is not fixed by the scheme).
    mapping: &[
        (
            SignatureScheme::ECDSA_NISTP384_SHA384,
            &[alg::ECDSA_P384_SHA384, alg::ECDSA_P256_SHA384],
        ),
        (
            SignatureScheme::ECDSA_NISTP256_SHA256,
            &[alg::ECDSA_P256_SHA256, alg::ECDSA_P384_SHA256],
        ),
        (
            SignatureScheme::RSA_PSS_SHA512,
            &[alg::RSA_PSS_2048_8192_SHA512_LEGACY_KEY],
        ),
        (
            SignatureScheme::RSA_PSS_SHA384,
            &[alg::RSA_PSS_2048_8192_SHA384_LEGACY_KEY],
        ),
        (
            SignatureScheme::RSA_PSS_SHA256,
            &[alg::RSA_PSS_2048_8192_SHA256_LEGACY_KEY],
        ),
        (
            SignatureScheme::RSA_PKCS1_SHA512,
            &[alg::RSA_PKCS1_2048_8192_SHA512],
        ),
        (
            SignatureScheme::RSA_PKCS1_SHA384,
            &[alg::RSA_PKCS1_2048_8192_SHA384],
        ),
        (
            SignatureScheme::RSA_PKCS1_SHA256,
            &[alg::RSA_PKCS1_2048_8192_SHA256],
        ),
    ],
};

/// rustls' *ring* provider narrowed to the lists above. The default one would also bring
/// P-384 key exchange, Ed25519, and the code to load and sign with a client's private key
/// (RSA, ECDSA, Ed25519): pegasus never presents a client certificate.
pub fn provider() -> CryptoProvider {
    CryptoProvider {
        cipher_suites: CIPHER_SUITES.to_vec(),
        kx_groups: KX_GROUPS.to_vec(),
        signature_verification_algorithms: SIGNATURES,
        secure_random: &SystemRandom,
        key_provider: &NoClientKeys,
    }
}

/// The operating system's random numbers, through *ring*.
#[derive(Debug)]
struct SystemRandom;

impl SecureRandom for SystemRandom {
    fn fill(&self, buf: &mut [u8]) -> std::result::Result<(), GetRandomFailed> {
        use ring::rand::SecureRandom as _;
        ring::rand::SystemRandom::new()
            .fill(buf)
            .map_err(|_| GetRandomFailed)
    }
}

/// No private keys: asked only for a client certificate, which pegasus never sets.
#[derive(Debug)]
struct NoClientKeys;

impl KeyProvider for NoClientKeys {
    fn load_private_key(
        &self,
        _key: PrivateKeyDer<'static>,
    ) -> std::result::Result<Arc<dyn rustls::sign::SigningKey>, rustls::Error> {
        Err(rustls::Error::General(
            "pegasus presents no client certificate".into(),
        ))
    }
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

    /// A CA, and a leaf for `localhost` with `key`, signed by the CA's own `ca_key`.
    fn chain(ca_key: &rcgen::KeyPair, key: &rcgen::KeyPair) -> (String, Vec<Vec<u8>>) {
        use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa};
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(ca, ca_key).unwrap();
        let leaf = CertificateParams::new(vec!["localhost".to_string()])
            .unwrap()
            .signed_by(key, &ca)
            .unwrap();
        (ca.pem(), vec![leaf.der().to_vec(), ca.der().to_vec()])
    }

    /// The server's key (and its certificate's).
    #[derive(Clone, Copy, Debug)]
    enum Key {
        P256,
        Rsa,
        Ed25519,
    }

    /// A handshake in memory between a client set up as ureq sets it up with
    /// [`provider`] (every TLS version, the CA as the only root) and a rustls server
    /// that offers one suite, one key exchange and one version. What was agreed, or why
    /// not.
    fn handshake(
        suite: SupportedCipherSuite,
        group: &'static dyn SupportedKxGroup,
        version: &'static rustls::SupportedProtocolVersion,
        key: Key,
    ) -> std::result::Result<(rustls::CipherSuite, rustls::NamedGroup), rustls::Error> {
        use rustls::pki_types::{CertificateDer, PrivatePkcs8KeyDer};
        use rustls::{ClientConnection, ServerConnection};
        let key = match key {
            Key::Rsa => {
                let pem = std::fs::read_to_string(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/fixtures/tls/test-rsa-2048.pem"
                ))
                .unwrap();
                let pem = &pem[pem.find("-----BEGIN").unwrap()..];
                rcgen::KeyPair::from_pem_and_sign_algo(pem, &rcgen::PKCS_RSA_SHA256).unwrap()
            }
            Key::P256 => rcgen::KeyPair::generate().unwrap(),
            Key::Ed25519 => rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap(),
        };
        let (ca_pem, certs) = chain(&rcgen::KeyPair::generate().unwrap(), &key);

        let mut server_crypto = rustls::crypto::ring::default_provider();
        server_crypto.cipher_suites = vec![suite];
        server_crypto.kx_groups = vec![group];
        let server = rustls::ServerConfig::builder_with_provider(Arc::new(server_crypto))
            .with_protocol_versions(&[version])?
            .with_no_client_auth()
            .with_single_cert(
                certs.into_iter().map(CertificateDer::from).collect(),
                PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
            )?;
        let mut roots = rustls::RootCertStore::empty();
        for item in ureq::tls::parse_pem(ca_pem.as_bytes()) {
            if let Ok(PemItem::Certificate(c)) = item {
                roots.add(CertificateDer::from(c.der().to_vec())).unwrap();
            }
        }
        let client = rustls::ClientConfig::builder_with_provider(Arc::new(provider()))
            .with_protocol_versions(rustls::ALL_VERSIONS)?
            .with_root_certificates(roots)
            .with_no_client_auth();

        let mut c = ClientConnection::new(Arc::new(client), "localhost".try_into().unwrap())?;
        let mut s = ServerConnection::new(Arc::new(server))?;
        for _ in 0..10 {
            if !c.is_handshaking() && !s.is_handshaking() {
                return Ok((
                    c.negotiated_cipher_suite().unwrap().suite(),
                    c.negotiated_key_exchange_group().unwrap().name(),
                ));
            }
            let mut wire = Vec::new();
            while c.wants_write() {
                c.write_tls(&mut wire).unwrap();
            }
            let mut bytes = &wire[..];
            while !bytes.is_empty() {
                s.read_tls(&mut bytes).unwrap();
            }
            let server_said = s.process_new_packets();
            wire.clear();
            while s.wants_write() {
                s.write_tls(&mut wire).unwrap();
            }
            let mut bytes = &wire[..];
            while !bytes.is_empty() {
                c.read_tls(&mut bytes).unwrap();
            }
            c.process_new_packets()?;
            server_said?;
        }
        panic!("no handshake after 10 round trips");
    }

    /// Every suite of the narrowed provider, over the TLS version it belongs to, with an
    /// ECDSA P-256 certificate (ECDHE-ECDSA) or an RSA 2048 one (ECDHE-RSA, RSA-PSS in
    /// TLS 1.3), and each key exchange.
    #[test]
    fn every_suite_and_key_exchange_completes_a_handshake() {
        use rustls::version::{TLS12, TLS13};
        let groups: Vec<_> = KX_GROUPS.iter().map(|g| g.name()).collect();
        assert_eq!(
            groups,
            [rustls::NamedGroup::X25519, rustls::NamedGroup::secp256r1]
        );
        let names: Vec<String> = CIPHER_SUITES
            .iter()
            .map(|s| format!("{:?}", s.suite()))
            .collect();
        assert_eq!(
            names,
            [
                "TLS13_AES_256_GCM_SHA384",
                "TLS13_AES_128_GCM_SHA256",
                "TLS13_CHACHA20_POLY1305_SHA256",
                "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
                "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
                "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
                "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
            ]
        );
        for &suite in CIPHER_SUITES {
            let name = format!("{:?}", suite.suite());
            let (version, keys): (_, &[Key]) = match &name {
                n if n.starts_with("TLS13_") => (&TLS13, &[Key::P256, Key::Rsa]),
                n if n.contains("_ECDSA_") => (&TLS12, &[Key::P256]),
                _ => (&TLS12, &[Key::Rsa]),
            };
            for &key in keys {
                for &group in KX_GROUPS {
                    let agreed = handshake(suite, group, version, key).unwrap_or_else(|e| {
                        panic!("{name} with {:?} and {key:?}: {e}", group.name())
                    });
                    assert_eq!(agreed, (suite.suite(), group.name()));
                }
            }
        }
    }

    /// What was left out is refused: a server that offers only P-384 key exchange (in
    /// TLS 1.3 and 1.2) or only an Ed25519 certificate; and no client key can be loaded.
    #[test]
    fn what_was_left_out_is_refused() {
        use rustls::crypto::ring::cipher_suite as cs;
        use rustls::crypto::ring::kx_group::{SECP256R1, SECP384R1};
        use rustls::version::{TLS12, TLS13};
        let aes = cs::TLS13_AES_128_GCM_SHA256;
        let ecdhe = cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256;
        for (suite, group, version, key) in [
            (aes, SECP384R1, &TLS13, Key::P256),
            (ecdhe, SECP384R1, &TLS12, Key::P256),
            (aes, SECP256R1, &TLS13, Key::Ed25519),
        ] {
            let e = handshake(suite, group, version, key).unwrap_err();
            assert_eq!(
                e,
                rustls::Error::AlertReceived(rustls::AlertDescription::HandshakeFailure),
                "{:?}, {:?} and {key:?}",
                suite.suite(),
                group.name()
            );
        }
        let ed25519 = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
        let key = rustls::pki_types::PrivatePkcs8KeyDer::from(ed25519.serialize_der());
        assert!(
            provider()
                .key_provider
                .load_private_key(key.into())
                .is_err()
        );
        let schemes = provider()
            .signature_verification_algorithms
            .supported_schemes();
        assert!(!schemes.contains(&SignatureScheme::ED25519), "{schemes:?}");
        assert!(
            schemes.contains(&SignatureScheme::RSA_PSS_SHA256),
            "{schemes:?}"
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
