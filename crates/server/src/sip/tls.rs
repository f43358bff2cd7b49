//! SIP over TLS (RFC 3261 §26.2, RFC 5630): the rustls server configuration of the `sips`
//! listener, read once at start-up from `tls_cert_file` / `tls_key_file` (PEM) and, for
//! mutual TLS, `tls_client_ca_file`.
//!
//! Every problem is one line naming the file and what is wrong with it (missing, no
//! certificate in it, no key, a key that does not match the certificate, a CA file without a
//! usable certificate), so a server that cannot serve TLS does not start half-configured.
//! TLS 1.2 and 1.3 with rustls's safe defaults on the ring provider.

use std::path::Path;
use std::sync::Arc;

use anyhow::{anyhow, Context};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::sign::CertifiedKey;
use rustls::{RootCertStore, ServerConfig};

use crate::config::Config;

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn certificates(path: &Path, what: &str) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    std::fs::metadata(path).with_context(|| format!("cannot read the {what} {}", path.display()))?;
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| anyhow!("cannot read the {what} {}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(anyhow!("the {what} {} holds no PEM certificate", path.display()));
    }
    Ok(certs)
}

/// The TLS configuration of the `sips` listener, or `None` when `sips` is not set.
pub fn server_config(config: &Config) -> anyhow::Result<Option<Arc<ServerConfig>>> {
    if config.sips.is_none() {
        return Ok(None);
    }
    let (Some(cert_path), Some(key_path)) = (&config.tls_cert_file, &config.tls_key_file) else {
        return Err(anyhow!("sips needs tls_cert_file and tls_key_file"));
    };
    let chain = certificates(cert_path, "TLS certificate file (tls_cert_file)")?;
    std::fs::metadata(key_path)
        .with_context(|| format!("cannot read the TLS key file (tls_key_file) {}", key_path.display()))?;
    let key = PrivateKeyDer::from_pem_file(key_path).map_err(|e| {
        anyhow!(
            "the TLS key file (tls_key_file) {} holds no usable PEM private key: {e}",
            key_path.display()
        )
    })?;
    let provider = provider();
    CertifiedKey::from_der(chain.clone(), key.clone_key(), &provider).map_err(|e| {
        anyhow!(
            "the TLS key {} does not fit the certificate {}: {e}",
            key_path.display(),
            cert_path.display()
        )
    })?;
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?;
    let builder = match &config.tls_client_ca_file {
        None => builder.with_no_client_auth(),
        Some(ca_path) => {
            let mut roots = RootCertStore::empty();
            let what = "client CA file (tls_client_ca_file)";
            for cert in certificates(ca_path, what)? {
                roots
                    .add(cert)
                    .map_err(|e| anyhow!("the {what} {} holds a bad certificate: {e}", ca_path.display()))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| anyhow!("the {what} {}: {e}", ca_path.display()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let server = builder
        .with_single_cert(chain, key)
        .map_err(|e| anyhow!("the TLS certificate {}: {e}", cert_path.display()))?;
    Ok(Some(Arc::new(server)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dir: &Path) -> Config {
        Config {
            sips: Some("127.0.0.1:0".parse().expect("addr")),
            tls_cert_file: Some(dir.join("cert.pem")),
            tls_key_file: Some(dir.join("key.pem")),
            ..Config::default()
        }
    }

    fn message(c: &Config) -> String {
        match server_config(c) {
            Ok(_) => panic!("expected an error"),
            Err(e) => format!("{e:#}"),
        }
    }

    #[test]
    fn certificate_problems_are_one_clear_line() {
        let dir = tempfile::tempdir().expect("dir");
        let c = config(dir.path());
        let e = message(&c);
        assert!(
            e.contains("cannot read the TLS certificate file") && e.contains("cert.pem"),
            "missing: {e}"
        );
        std::fs::write(dir.path().join("cert.pem"), "not a certificate\n").expect("write");
        let e = message(&c);
        assert!(e.contains("holds no PEM certificate"), "garbage: {e}");
        assert!(!e.contains('\n'), "one line: {e}");
        assert!(
            server_config(&Config::default()).expect("no sips").is_none(),
            "no listener, no TLS"
        );
    }
}
