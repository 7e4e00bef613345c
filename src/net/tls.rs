//! TLS settings of a client, and the one place PEM material is read: from a file or from
//! base64 text, each source carrying the name of the option it came from so that every error
//! says which setting (and which file) to fix.

use std::path::PathBuf;

use base64::Engine as _;
use ureq::tls::{Certificate, ClientCert, PemItem, PrivateKey, RootCerts, TlsConfig};

use super::NetError;

/// Where a PEM blob comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PemOrigin {
    /// A file, read when the client is built.
    File(PathBuf),
    /// Base64 of the PEM text (whitespace ignored).
    Base64(String),
}

/// One piece of PEM material and the option that named it (`ca_certs`,
/// `election.etcd.key_file`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PemSource {
    pub option: &'static str,
    pub origin: PemOrigin,
}

impl PemSource {
    /// PEM read from `path`.
    pub fn file(option: &'static str, path: impl Into<PathBuf>) -> PemSource {
        PemSource {
            option,
            origin: PemOrigin::File(path.into()),
        }
    }

    /// PEM given as base64 text.
    pub fn base64(option: &'static str, text: impl Into<String>) -> PemSource {
        PemSource {
            option,
            origin: PemOrigin::Base64(text.into()),
        }
    }

    /// A file when `path` is set, else base64 when `text` is set, else nothing: the usual
    /// pair of options (`cert` / `cert_base64`).
    pub fn file_or_base64(
        file_option: &'static str,
        path: &str,
        base64_option: &'static str,
        text: &str,
    ) -> Option<PemSource> {
        if !path.is_empty() {
            Some(PemSource::file(file_option, path))
        } else if !text.trim().is_empty() {
            Some(PemSource::base64(base64_option, text))
        } else {
            None
        }
    }

    /// A file when `path` is set.
    pub fn file_if_set(option: &'static str, path: &str) -> Option<PemSource> {
        (!path.is_empty()).then(|| PemSource::file(option, path))
    }

    /// How errors name the origin: the path, or "the base64 value".
    fn describe(&self) -> String {
        match &self.origin {
            PemOrigin::File(p) => p.display().to_string(),
            PemOrigin::Base64(_) => "the base64 value".to_string(),
        }
    }

    /// The PEM bytes.
    fn load(&self) -> Result<Vec<u8>, NetError> {
        match &self.origin {
            PemOrigin::File(path) => std::fs::read(path).map_err(|source| NetError::ReadPem {
                option: self.option,
                path: path.clone(),
                cause: source,
            }),
            PemOrigin::Base64(text) => {
                let clean: String = text.chars().filter(|c| !c.is_whitespace()).collect();
                base64::engine::general_purpose::STANDARD
                    .decode(clean)
                    .map_err(|source| NetError::Base64 {
                        option: self.option,
                        cause: source,
                    })
            }
        }
    }

    /// Every certificate in the blob; a malformed block or none at all is an error.
    fn certificates(&self) -> Result<Vec<Certificate<'static>>, NetError> {
        let pem = self.load()?;
        let mut certs = Vec::new();
        for item in ureq::tls::parse_pem(&pem) {
            match item {
                Ok(PemItem::Certificate(c)) => certs.push(c),
                Ok(_) => {}
                Err(source) => {
                    return Err(NetError::Pem {
                        option: self.option,
                        origin: self.describe(),
                        cause: source,
                    });
                }
            }
        }
        if certs.is_empty() {
            return Err(NetError::NoCertificate {
                option: self.option,
                origin: self.describe(),
            });
        }
        Ok(certs)
    }

    /// The certificates in the blob, DER-encoded (for clients that are not ureq's).
    pub fn der_certificates(&self) -> Result<Vec<Vec<u8>>, NetError> {
        Ok(self
            .certificates()?
            .iter()
            .map(|c| c.der().to_vec())
            .collect())
    }

    /// The private key in the blob, DER-encoded (PKCS#1, PKCS#8 or SEC1).
    pub fn der_private_key(&self) -> Result<Vec<u8>, NetError> {
        Ok(self.private_key()?.der().to_vec())
    }

    /// The private key in the blob.
    fn private_key(&self) -> Result<PrivateKey<'static>, NetError> {
        let pem = self.load()?;
        PrivateKey::from_pem(&pem).map_err(|source| NetError::PrivateKey {
            option: self.option,
            origin: self.describe(),
            cause: source,
        })
    }
}

/// How a client checks servers and proves itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// Accept any server certificate.
    pub insecure_skip_verify: bool,
    /// Roots that replace the built-in ones when any is given.
    pub ca: Vec<PemSource>,
    /// The client certificate chain; used together with `client_key`, ignored alone.
    pub client_cert: Option<PemSource>,
    /// The client certificate's private key.
    pub client_key: Option<PemSource>,
}

impl TlsOptions {
    /// The built-in roots, verification on or off.
    pub fn verify(verify: bool) -> TlsOptions {
        TlsOptions {
            insecure_skip_verify: !verify,
            ..TlsOptions::default()
        }
    }

    /// The ureq TLS configuration, reading every PEM source.
    pub fn build(&self) -> Result<TlsConfig, NetError> {
        let mut b = TlsConfig::builder().disable_verification(self.insecure_skip_verify);
        let mut roots = Vec::new();
        for source in &self.ca {
            roots.extend(source.certificates()?);
        }
        if !roots.is_empty() {
            b = b.root_certs(RootCerts::new_with_certs(&roots));
        }
        if let (Some(cert), Some(key)) = (&self.client_cert, &self.client_key) {
            let chain = cert.certificates()?;
            let key = key.private_key()?;
            b = b.client_cert(Some(ClientCert::new_with_certs(&chain, key)));
        }
        Ok(b.build())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A self-signed certificate for `localhost` and its key (`openssl req -x509 -newkey ec`).
    const CERT: &str = "-----BEGIN CERTIFICATE-----
MIIBfzCCASWgAwIBAgIUPbyNdFe4B5SQXjZd38Tpee7O9mkwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTIwNzE3MzMyOFoYDzIxMjYxMTEz
MTczMzI4WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAT7fWPwTas3L7kSP0oqVu5ToBJeo3ytTUg/VTK9JmOScLYAmSLgQJDc
k7Ev7Q+vfpw9HQK+pYqTxPlDj3ByZoaao1MwUTAdBgNVHQ4EFgQUXFEgM8mCh8pc
5iaSJ3m251vlSXMwHwYDVR0jBBgwFoAUXFEgM8mCh8pc5iaSJ3m251vlSXMwDwYD
VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiA3qjultG+cwDwz318JgYl7
AwEfnbkbLZrYnOkaFWRr9AIhAJqhiNfrkp0D7VpVLTfU0iZNTcd428DNgyIYqvuL
+QrL
-----END CERTIFICATE-----
";
    const KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgchMJjrkhtCj/tCng
WlTDDHgjEo7Azde+0O0rLT7N/I+hRANCAAT7fWPwTas3L7kSP0oqVu5ToBJeo3yt
TUg/VTK9JmOScLYAmSLgQJDck7Ev7Q+vfpw9HQK+pYqTxPlDj3ByZoaa
-----END PRIVATE KEY-----
";

    fn write(dir: &std::path::Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn a_missing_file_names_the_option_and_the_path() {
        let tls = TlsOptions {
            ca: vec![PemSource::file(
                "election.etcd.ca_file",
                "/nonexistent/ca.pem",
            )],
            ..TlsOptions::default()
        };
        let e = tls.build().unwrap_err().to_string();
        assert!(
            e.starts_with("election.etcd.ca_file: cannot read /nonexistent/ca.pem: "),
            "{e}"
        );
    }

    #[test]
    fn a_file_without_certificates_names_the_option_and_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "empty.pem", "not PEM at all\n");
        let tls = TlsOptions {
            ca: vec![PemSource::file("ca_certs", &p)],
            ..TlsOptions::default()
        };
        let e = tls.build().unwrap_err().to_string();
        assert_eq!(
            e,
            format!("ca_certs: no PEM certificate in {}", p.display())
        );
    }

    #[test]
    fn bad_base64_and_bad_keys_name_their_option() {
        let tls = TlsOptions {
            ca: vec![PemSource::base64("ca_certs_base64", "!!not base64!!")],
            ..TlsOptions::default()
        };
        let e = tls.build().unwrap_err().to_string();
        assert!(e.starts_with("ca_certs_base64: invalid base64: "), "{e}");

        let dir = tempfile::tempdir().unwrap();
        let cert = write(dir.path(), "c.pem", CERT);
        let key = write(dir.path(), "k.pem", "-----BEGIN NOTHING-----\n");
        let tls = TlsOptions {
            client_cert: Some(PemSource::file("cert", &cert)),
            client_key: Some(PemSource::file("cert_key", &key)),
            ..TlsOptions::default()
        };
        let e = tls.build().unwrap_err().to_string();
        assert!(
            e.starts_with(&format!(
                "cert_key: no usable private key in {}",
                key.display()
            )),
            "{e}"
        );
    }

    #[test]
    fn a_client_certificate_from_files_or_base64() {
        let dir = tempfile::tempdir().unwrap();
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        for (cert, key) in [
            (
                PemSource::file("cert_file", write(dir.path(), "c.pem", CERT)),
                PemSource::file("key_file", write(dir.path(), "k.pem", KEY)),
            ),
            (
                PemSource::base64("cert_base64", b64(CERT)),
                PemSource::base64("cert_key_base64", b64(KEY)),
            ),
        ] {
            let tls = TlsOptions {
                client_cert: Some(cert),
                client_key: Some(key),
                ..TlsOptions::default()
            };
            let cfg = tls.build().unwrap();
            assert_eq!(cfg.client_cert().map(|c| c.certs().len()), Some(1));
        }
    }

    #[test]
    fn a_certificate_file_or_its_base64_is_accepted_as_roots() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "ca.pem", CERT);
        let b64 = base64::engine::general_purpose::STANDARD.encode(CERT);
        let tls = TlsOptions {
            ca: vec![
                PemSource::file("ca_certs", &p),
                PemSource::base64("ca_certs_base64", b64),
            ],
            ..TlsOptions::default()
        };
        let cfg = tls.build().unwrap();
        match cfg.root_certs() {
            RootCerts::Specific(certs) => assert_eq!(certs.len(), 2),
            other => panic!("custom roots expected, got {other:?}"),
        }
        assert!(!cfg.disable_verification());
        assert!(
            TlsOptions::verify(false)
                .build()
                .unwrap()
                .disable_verification()
        );
    }

    #[test]
    fn half_a_client_certificate_is_ignored() {
        let tls = TlsOptions {
            client_cert: Some(PemSource::file("cert", "/nonexistent/c.pem")),
            ..TlsOptions::default()
        };
        assert!(tls.build().unwrap().client_cert().is_none());
    }

    #[test]
    fn file_or_base64_prefers_the_file() {
        assert_eq!(
            PemSource::file_or_base64("cert", "/c.pem", "cert_base64", "QUJD"),
            Some(PemSource::file("cert", "/c.pem"))
        );
        assert_eq!(
            PemSource::file_or_base64("cert", "", "cert_base64", "QUJD"),
            Some(PemSource::base64("cert_base64", "QUJD"))
        );
        assert_eq!(
            PemSource::file_or_base64("cert", "", "cert_base64", "  "),
            None
        );
        assert_eq!(PemSource::file_if_set("ca_file", ""), None);
    }
}
