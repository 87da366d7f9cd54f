//! `NatsArgs::connect` against real nats-servers (testkit) for each way of authenticating:
//! user/password, token, NKey, TLS with a private CA, and mutual TLS. The right credentials
//! connect and carry a publish/subscribe round-trip; wrong ones fail at once with
//! `ConnectError::Connect` naming the URL and saying why. An address with nothing listening,
//! or with a listener that never speaks NATS, fails within seconds as well.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures::StreamExt as _;
use testkit::{NatsServer, pki};
use worker::nats::connect::{ConnectError, ConnectionState, NatsArgs};

/// Connecting, successful or not, must be decided well within this.
const DECIDED_WITHIN: Duration = Duration::from_secs(10);

fn args(server: &NatsServer) -> NatsArgs {
    NatsArgs { nats: Some(server.url()), ..NatsArgs::default() }
}

/// Connects with `args` and proves the connection carries messages.
async fn connects(args: &NatsArgs) {
    let state = Arc::new(ConnectionState::default());
    let client = tokio::time::timeout(DECIDED_WITHIN, args.connect("nats-auth-test", state.clone()))
        .await
        .expect("connect decided in time")
        .unwrap_or_else(|e| panic!("connect with {args:?}: {e}"));
    assert!(state.connected.load(Ordering::Relaxed), "connected is recorded");
    let mut sub = client.subscribe("dmap.test.auth").await.expect("subscribe");
    client.publish("dmap.test.auth", "ping".into()).await.expect("publish");
    client.flush().await.expect("flush");
    let msg = tokio::time::timeout(DECIDED_WITHIN, sub.next()).await.expect("the message in time").expect("a message");
    assert_eq!(&msg.payload[..], b"ping");
}

/// Connects with `args`, expecting a refusal; returns the reason after checking the URL.
async fn refused(args: &NatsArgs) -> String {
    let state = Arc::new(ConnectionState::default());
    let result = tokio::time::timeout(DECIDED_WITHIN, args.connect("nats-auth-test", state.clone()))
        .await
        .unwrap_or_else(|_| panic!("connect with {args:?} did not fail within {DECIDED_WITHIN:?}"));
    let e = match result {
        Err(e) => e,
        Ok(_) => panic!("connect with {args:?} succeeded"),
    };
    let ConnectError::Connect { url, message } = &e else { panic!("expected ConnectError::Connect, got {e:?}") };
    assert_eq!(Some(url), args.nats.as_ref());
    let text = e.to_string();
    assert!(text.contains(url.as_str()), "the error names the URL: {text}");
    assert!(!state.connected.load(Ordering::Relaxed));
    message.to_lowercase()
}

fn assert_mentions(message: &str, any_of: &[&str]) {
    assert!(any_of.iter().any(|w| message.contains(w)), "{message:?} says none of {any_of:?}");
}

#[tokio::test]
async fn user_and_password() {
    let server = NatsServer::start_with(&["--user", "u", "--pass", "p"]);
    let user = |password: &str| NatsArgs {
        nats_user: Some("u".into()),
        nats_password: Some(password.into()),
        ..args(&server)
    };
    connects(&user("p")).await;
    assert_mentions(&refused(&user("wrong")).await, &["authorization violation"]);
    assert_mentions(&refused(&args(&server)).await, &["authorization violation"]);
}

#[tokio::test]
async fn token() {
    let server = NatsServer::start_with(&["--auth", "s3cr3t-token"]);
    let token = |t: &str| NatsArgs { nats_token: Some(t.into()), ..args(&server) };
    connects(&token("s3cr3t-token")).await;
    assert_mentions(&refused(&token("other-token")).await, &["authorization violation"]);
    assert_mentions(&refused(&args(&server)).await, &["authorization violation"]);
}

#[tokio::test]
async fn nkey() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let known = nkeys::KeyPair::new_user();
    let stranger = nkeys::KeyPair::new_user();
    let config = dir.path().join("nkey.conf");
    std::fs::write(&config, format!("authorization {{\n  users = [ {{ nkey: \"{}\" }} ]\n}}\n", known.public_key()))
        .expect("write the server config");
    // The config file combines with testkit's own flags (address, ports, JetStream, store).
    let server = NatsServer::start_with(&["-c", config.to_str().expect("UTF-8 path")]);
    let seed_file = |name: &str, pair: &nkeys::KeyPair| {
        let path = dir.path().join(name);
        // A trailing newline, as an editor or `echo` leaves it, must not matter.
        std::fs::write(&path, format!("{}\n", pair.seed().expect("seed"))).expect("write the seed");
        NatsArgs { nats_nkey: Some(path), ..args(&server) }
    };
    connects(&seed_file("known.nk", &known)).await;
    assert_mentions(&refused(&seed_file("stranger.nk", &stranger)).await, &["authorization violation"]);
    assert_mentions(&refused(&args(&server)).await, &["authorization violation"]);
}

#[tokio::test]
async fn nkey_file_missing_is_a_file_error() {
    let server = NatsServer::start();
    let missing = std::path::PathBuf::from("/nonexistent/dmap/seed.nk");
    let args = NatsArgs { nats_nkey: Some(missing.clone()), ..args(&server) };
    match args.connect("nats-auth-test", Arc::new(ConnectionState::default())).await {
        Err(ConnectError::File { path, .. }) => assert_eq!(path, missing),
        other => panic!("expected ConnectError::File, got {:?}", other.map(|_| "a client")),
    }
}

#[tokio::test]
async fn tls_with_a_private_ca() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut ca = pki::Authority::new(dir.path(), "dmap");
    let other = pki::Authority::new(dir.path(), "other");
    let cert = ca.server();
    let server = NatsServer::start_with(&[
        "--tls",
        "--tlscert",
        cert.cert.to_str().expect("UTF-8 path"),
        "--tlskey",
        cert.key.to_str().expect("UTF-8 path"),
    ]);
    let trusting = |ca: &pki::Pair| NatsArgs { nats_ca: Some(ca.cert.clone()), ..args(&server) };
    connects(&trusting(&ca.ca)).await;
    // The same, asking for TLS explicitly: by flag and by URL scheme.
    connects(&NatsArgs { nats_tls: true, ..trusting(&ca.ca) }).await;
    let tls_url = NatsArgs { nats: Some(format!("tls://127.0.0.1:{}", server.port)), ..trusting(&ca.ca) };
    connects(&tls_url).await;
    // A CA that did not sign the server's certificate, and the system's CAs (no --nats-ca).
    assert_mentions(&refused(&trusting(&other.ca)).await, &["invalid peer certificate: unknownissuer"]);
    assert_mentions(&refused(&args(&server)).await, &["invalid peer certificate: unknownissuer"]);
}

#[tokio::test]
async fn requiring_tls_from_a_plain_server_fails() {
    let server = NatsServer::start();
    // The reason is whatever the TLS library makes of a plain-text reply (today "received
    // corrupt message of type InvalidContentType"); the refusal and the URL are what count.
    refused(&NatsArgs { nats_tls: true, ..args(&server) }).await;
}

#[tokio::test]
async fn mutual_tls() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut ca = pki::Authority::new(dir.path(), "dmap");
    let mut other = pki::Authority::new(dir.path(), "other");
    let cert = ca.server();
    let server = NatsServer::start_with(&[
        "--tlsverify",
        "--tlscert",
        cert.cert.to_str().expect("UTF-8 path"),
        "--tlskey",
        cert.key.to_str().expect("UTF-8 path"),
        "--tlscacert",
        ca.ca.cert.to_str().expect("UTF-8 path"),
    ]);
    let good = ca.client();
    let trusted = ca.ca.cert.clone();
    let with_client = |client: Option<pki::Pair>| {
        let (nats_cert, nats_key) = client.map(|p| (Some(p.cert), Some(p.key))).unwrap_or_default();
        NatsArgs { nats_ca: Some(trusted.clone()), nats_cert, nats_key, ..args(&server) }
    };
    connects(&with_client(Some(good))).await;
    // No client certificate, and one from a CA the server does not trust.
    // The server's TLS alerts come back as the reason.
    assert_mentions(&refused(&with_client(None)).await, &["certificaterequired"]);
    assert_mentions(&refused(&with_client(Some(other.client()))).await, &["unknownca"]);
}

#[tokio::test]
async fn nothing_listening_fails_quickly_naming_the_url() {
    // A port that was free a moment ago; nothing listens on it now.
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address").port();
    let args = NatsArgs { nats: Some(format!("nats://127.0.0.1:{port}")), ..NatsArgs::default() };
    let message = refused(&args).await;
    assert_mentions(&message, &["refused"]);
}

#[tokio::test]
async fn no_server_given() {
    let result = NatsArgs::default().connect("nats-auth-test", Arc::new(ConnectionState::default())).await;
    assert!(matches!(result, Err(ConnectError::NoServer)), "{:?}", result.map(|_| "a client"));
}

#[tokio::test]
async fn a_server_that_never_answers_fails_within_the_timeout() {
    // The kernel completes the TCP handshake for the backlog, but nobody ever sends INFO.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = silent.local_addr().expect("address").port();
    let args = NatsArgs { nats: Some(format!("nats://127.0.0.1:{port}")), ..NatsArgs::default() };
    assert_mentions(&refused(&args).await, &["timed out"]);
    drop(silent);
}
