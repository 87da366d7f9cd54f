//! A real S3 server for tests: s3s-fs (the `s3s` S3 protocol stack over a directory), served
//! in-process over HTTP/1.1 on 127.0.0.1 with a port the OS picks. A bucket is a directory
//! under the server's temporary root; objects are files, so tests write them directly.
//!
//! Each server runs on its own thread and runtime, so sync tests and async tests of any flavour
//! can use it. The listener is bound before `start` returns, so the server accepts connections
//! from then on (no polling, no sleeps). Dropping the server stops it and deletes the root.
//!
//! Include it with `#[path = "support/s3.rs"] mod s3;`.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use hyper_util::rt::TokioIo;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;

/// Credentials the server checks (SigV4) on every request.
pub const ACCESS_KEY: &str = "dmap-test";
pub const SECRET_KEY: &str = "dmap-test-secret";

/// S3's answer to a request without the session token the server requires.
const INVALID_TOKEN: &str = "<Error><Code>InvalidToken</Code><Message>The provided token is invalid.</Message></Error>";

pub struct S3Server {
    addr: SocketAddr,
    access_key: String,
    secret_key: String,
    root: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl S3Server {
    /// Starts a server. Panics (failing the test loudly) if it cannot.
    pub fn start() -> S3Server {
        S3Server::start_with_keys(ACCESS_KEY, SECRET_KEY, None)
    }

    /// Starts a server accepting only this key pair and, with `session_token`, only requests
    /// carrying that token in `x-amz-security-token` (temporary credentials; s3s itself checks
    /// only the key pair's signature, so the token is checked here, answering 403 otherwise).
    pub fn start_with_keys(access_key: &str, secret_key: &str, session_token: Option<&str>) -> S3Server {
        let root = tempfile::Builder::new().prefix("dmap-s3-").tempdir().expect("S3 server: temporary root");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("S3 server: bind 127.0.0.1");
        listener.set_nonblocking(true).expect("S3 server: non-blocking listener");
        let addr = listener.local_addr().expect("S3 server: local address");
        let fs = s3s_fs::FileSystem::new(root.path()).expect("S3 server: s3s-fs root");
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let auth = SimpleAuth::from_single(access_key, secret_key);
        let token = session_token.map(str::to_string);
        let thread = std::thread::Builder::new()
            .name(format!("s3-server-{}", addr.port()))
            .spawn(move || {
                let runtime =
                    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("S3 server runtime");
                runtime.block_on(serve(listener, fs, auth, token, stopped));
            })
            .expect("S3 server: thread");
        let (access_key, secret_key) = (access_key.to_string(), secret_key.to_string());
        S3Server { addr, access_key, secret_key, root, stop: Some(stop), thread: Some(thread) }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The directory holding one directory per bucket.
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// A `--bucket` mapping of `bucket` to this server, credentials included.
    pub fn bucket_spec(&self, bucket: &str) -> String {
        format!("{bucket}=http://{}:{}@{}", self.access_key, self.secret_key, self.addr)
    }

    /// Creates `bucket` (a directory) and returns its path.
    pub fn create_bucket(&self, bucket: &str) -> PathBuf {
        let dir = self.root().join(bucket);
        std::fs::create_dir_all(&dir).expect("S3 server: create bucket");
        dir
    }

    /// Writes an object, creating its bucket if needed.
    pub fn put(&self, bucket: &str, key: &str, body: impl AsRef<[u8]>) {
        let path = self.create_bucket(bucket).join(key);
        std::fs::create_dir_all(path.parent().expect("a key has a parent")).expect("S3 server: key directories");
        std::fs::write(path, body).expect("S3 server: write object");
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve(
    listener: std::net::TcpListener,
    fs: s3s_fs::FileSystem,
    auth: SimpleAuth,
    session_token: Option<String>,
    mut stopped: tokio::sync::oneshot::Receiver<()>,
) {
    let listener = tokio::net::TcpListener::from_std(listener).expect("S3 server: tokio listener");
    let mut builder = S3ServiceBuilder::new(fs);
    builder.set_auth(auth);
    let service = builder.build();
    let session_token: Option<std::sync::Arc<str>> = session_token.map(Into::into);
    loop {
        tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let (service, token) = (service.clone(), session_token.clone());
                let checked = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let (service, token) = (service.clone(), token.clone());
                    async move {
                        let sent = req.headers().get("x-amz-security-token").and_then(|v| v.to_str().ok());
                        if token.as_deref().is_some_and(|t| sent != Some(t)) {
                            let body = s3s::Body::from(INVALID_TOKEN.to_string());
                            return Ok(hyper::Response::builder().status(403).body(body).expect("a 403 response"));
                        }
                        service.call(req.map(s3s::Body::from)).await
                    }
                });
                tokio::spawn(async move {
                    let conn = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), checked);
                    let _ = conn.await;
                });
            }
        }
    }
}
