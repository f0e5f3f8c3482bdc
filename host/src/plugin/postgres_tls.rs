//! The `postgres` plugin's TLS, from the connection string as libpq reads it: `sslmode`
//! (`disable`, `allow`, `prefer`, `require`, `verify-ca`, `verify-full`) and `sslrootcert`
//! (a PEM file of root certificates, or `system`). tokio-postgres knows neither
//! `verify-*` nor `sslrootcert`, so both are taken out of the string here and turned into
//! a rustls connector (the `ring` provider, as compose-registry's rustls):
//!
//! | `sslmode` | TLS | the server's certificate |
//! |---|---|---|
//! | `disable`, `allow`, `prefer`, none | no (as before TLS was supported) | — |
//! | `require` | yes | not checked; with `sslrootcert`, checked as `verify-ca` (libpq's rule) |
//! | `verify-ca` | yes | signed by a root of `sslrootcert` (default: the system's roots) |
//! | `verify-full` | yes | as `verify-ca`, and issued for the host of the string |

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::sync::Arc;
use tokio_postgres_rustls::MakeRustlsConnect;

/// The TLS a connection string asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tls {
    /// No TLS (`sslmode` `disable`, `allow`, `prefer` or none).
    Off,
    /// TLS: the certificate is checked against `roots` unless they are `None`; its
    /// name is checked when `check_name`.
    On {
        /// Where the roots come from; `None`: no check (`require` without `sslrootcert`).
        roots: Option<Roots>,
        /// Whether the certificate must be issued for the host (`verify-full`).
        check_name: bool,
    },
}

/// Where the root certificates come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Roots {
    /// The system's (rustls-native-certs: `SSL_CERT_FILE`, else the OS's store).
    System,
    /// A PEM file (`sslrootcert=PATH`).
    File(String),
}

/// Splits `sslmode` and `sslrootcert` off connection string `url` (a URL,
/// `postgresql://…?sslmode=verify-full&sslrootcert=/ca.pem`, or `key=value` words):
/// returns the string without them, for tokio-postgres, and the TLS they ask for.
///
/// # Errors
/// An `sslmode` that libpq does not know.
pub(crate) fn split(url: &str) -> Result<(String, Tls), String> {
    let mut mode = None;
    let mut root = None;
    let mut take = |key: &str, value: String| match key {
        "sslmode" => {
            mode = Some(value);
            true
        }
        "sslrootcert" => {
            root = Some(value);
            true
        }
        _ => false,
    };
    let rest = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        match url.split_once('?') {
            None => url.to_owned(),
            Some((base, query)) => {
                let kept: Vec<&str> = query
                    .split('&')
                    .filter(|pair| {
                        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                        !take(key, percent_decode(value))
                    })
                    .collect();
                if kept.is_empty() {
                    base.to_owned()
                } else {
                    format!("{base}?{}", kept.join("&"))
                }
            }
        }
    } else {
        url.split_whitespace()
            .filter(|word| {
                let (key, value) = word.split_once('=').unwrap_or((word, ""));
                !take(key.trim(), value.trim_matches('\'').to_owned())
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let roots = root.map(|r| match r.as_str() {
        "system" => Roots::System,
        _ => Roots::File(r),
    });
    let tls = match mode.as_deref().unwrap_or("prefer") {
        "disable" | "allow" | "prefer" => Tls::Off,
        "require" => Tls::On {
            roots,
            check_name: false,
        },
        "verify-ca" => Tls::On {
            roots: Some(roots.unwrap_or(Roots::System)),
            check_name: false,
        },
        "verify-full" => Tls::On {
            roots: Some(roots.unwrap_or(Roots::System)),
            check_name: true,
        },
        other => {
            return Err(format!(
                "`sslmode={other}` is not one of disable, allow, prefer, require, verify-ca, \
                 verify-full"
            ));
        }
    };
    Ok((rest, tls))
}

/// `%XX` escapes decoded (a path in a URL's query); anything else kept as it is.
fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The rustls connector of `tls` (`None` for [`Tls::Off`]).
///
/// # Errors
/// The root file cannot be read or holds no certificate, the system has no roots, or
/// rustls refuses the configuration.
pub(crate) fn connector(tls: &Tls) -> Result<Option<MakeRustlsConnect>, String> {
    let Tls::On { roots, check_name } = tls else {
        return Ok(None);
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let webpki = match roots {
        None => None,
        Some(roots) => {
            let store = Arc::new(root_store(roots)?);
            let verifier = WebPkiServerVerifier::builder_with_provider(store, provider.clone())
                .build()
                .map_err(|e| format!("cannot check certificates: {e}"))?;
            Some(verifier)
        }
    };
    let verifier = Verifier {
        webpki,
        check_name: *check_name,
        provider: provider.clone(),
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set up TLS: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(Some(MakeRustlsConnect::new(config)))
}

/// The root certificates of `roots`.
fn root_store(roots: &Roots) -> Result<RootCertStore, String> {
    let mut store = RootCertStore::empty();
    match roots {
        Roots::System => {
            let found = rustls_native_certs::load_native_certs();
            store.add_parsable_certificates(found.certs);
            if store.is_empty() {
                return Err(
                    "the system has no root certificates (install ca-certificates, or give \
                     `sslrootcert=PATH`)"
                        .into(),
                );
            }
        }
        Roots::File(path) => {
            let pem = std::fs::read(path)
                .map_err(|e| format!("cannot read `sslrootcert` file `{path}`: {e}"))?;
            for cert in CertificateDer::pem_slice_iter(&pem) {
                let cert = cert.map_err(|e| format!("`sslrootcert` file `{path}`: {e}"))?;
                store
                    .add(cert)
                    .map_err(|e| format!("`sslrootcert` file `{path}`: {e}"))?;
            }
            if store.is_empty() {
                return Err(format!(
                    "`sslrootcert` file `{path}` holds no PEM certificate"
                ));
            }
        }
    }
    Ok(store)
}

/// Checks the server's certificate as the `sslmode` says: not at all (no `webpki`), its
/// chain only (`verify-ca`: a name mismatch is accepted), or chain and name. The
/// handshake's signatures are always checked.
#[derive(Debug)]
struct Verifier {
    webpki: Option<Arc<WebPkiServerVerifier>>,
    check_name: bool,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(webpki) = &self.webpki else {
            return Ok(ServerCertVerified::assertion());
        };
        // webpki checks the chain first, the name last: a name error means a good chain.
        match webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if !self.check_name => Ok(ServerCertVerified::assertion()),
            result => result,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslmode_and_sslrootcert_are_taken_out_of_the_string() {
        let (rest, tls) = split(
            "postgresql://u:p@db:5432/x?sslmode=verify-full&connect_timeout=3&sslrootcert=%2Fca.pem",
        )
        .unwrap();
        assert_eq!(rest, "postgresql://u:p@db:5432/x?connect_timeout=3");
        assert_eq!(
            tls,
            Tls::On {
                roots: Some(Roots::File("/ca.pem".into())),
                check_name: true
            }
        );
        let (rest, tls) = split("host=db user=u sslmode=require").unwrap();
        assert_eq!(rest, "host=db user=u");
        assert_eq!(
            tls,
            Tls::On {
                roots: None,
                check_name: false
            }
        );
        assert_eq!(split("postgresql://db/x").unwrap().1, Tls::Off);
        assert_eq!(
            split("postgresql://db/x?sslmode=verify-ca").unwrap().1,
            Tls::On {
                roots: Some(Roots::System),
                check_name: false
            }
        );
        assert!(split("postgresql://db/x?sslmode=strict").is_err());
    }
}
