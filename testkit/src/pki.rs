//! A throw-away certificate authority for the TLS tests, made with the `openssl` command-line
//! tool in a temporary directory: a CA, a server certificate for `127.0.0.1`, and client
//! certificates for mutual TLS. P-256 keys (PKCS #8, which rustls and Python's `ssl` both
//! load), valid for two days.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The extensions of each kind of certificate, as `openssl` reads them from a config file.
const CONFIG: &str = "\
[req]
distinguished_name = dn
prompt = no
[dn]
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = DNS:dmap-worker
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
";

/// A certificate and its private key, both PEM files.
pub struct Pair {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// A CA able to issue server and client certificates.
pub struct Authority {
    dir: PathBuf,
    name: String,
    pub ca: Pair,
    serial: u32,
}

impl Authority {
    /// A new self-signed CA called `name`, its files in `dir`.
    pub fn new(dir: &Path, name: &str) -> Authority {
        let config = dir.join("openssl.cnf");
        std::fs::write(&config, CONFIG).expect("write the openssl config");
        let ca = Pair { cert: dir.join(format!("{name}-ca.pem")), key: key(dir, &format!("{name}-ca")) };
        openssl(
            &format!("req -x509 -new -days 2 -extensions ca -subj /CN={name}-test-ca"),
            &[("-config", &config), ("-key", &ca.key), ("-out", &ca.cert)],
        );
        Authority { dir: dir.to_path_buf(), name: name.to_string(), ca, serial: 1 }
    }

    /// A server certificate for `127.0.0.1`.
    pub fn server(&mut self) -> Pair {
        self.issue("server", "127.0.0.1")
    }

    /// A client certificate (for mutual TLS).
    pub fn client(&mut self) -> Pair {
        self.issue("client", "dmap-worker")
    }

    fn issue(&mut self, kind: &str, common_name: &str) -> Pair {
        self.serial += 1;
        let stem = format!("{}-{kind}-{}", self.name, self.serial);
        let config = self.dir.join("openssl.cnf");
        let csr = self.dir.join(format!("{stem}.csr"));
        let pair = Pair { cert: self.dir.join(format!("{stem}.pem")), key: key(&self.dir, &stem) };
        openssl(
            &format!("req -new -subj /CN={common_name}"),
            &[("-config", &config), ("-key", &pair.key), ("-out", &csr)],
        );
        openssl(
            &format!("x509 -req -days 2 -set_serial {} -extensions {kind}", self.serial),
            &[
                ("-in", &csr),
                ("-CA", &self.ca.cert),
                ("-CAkey", &self.ca.key),
                ("-extfile", &config),
                ("-out", &pair.cert),
            ],
        );
        pair
    }
}

/// A new P-256 private key (PKCS #8 PEM) in `dir/{stem}.key`.
fn key(dir: &Path, stem: &str) -> PathBuf {
    let path = dir.join(format!("{stem}.key"));
    openssl("genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256", &[("-out", &path)]);
    path
}

/// Runs `openssl` with the words of `command` and then each option with its file; a missing
/// tool or a failure panics with its output.
fn openssl(command: &str, files: &[(&str, &Path)]) {
    let mut c = Command::new("openssl");
    c.args(command.split_whitespace());
    for (option, path) in files {
        c.arg(option).arg(path);
    }
    let out = c.output().unwrap_or_else(|e| panic!("the TLS tests need the `openssl` command-line tool ({e})"));
    assert!(
        out.status.success(),
        "openssl {command} {files:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
