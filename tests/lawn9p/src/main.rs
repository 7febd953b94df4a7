// SPDX-License-Identifier: GPL-2.0
//! zc9p-lawn9p: serves ROOT with lawn-9p's server and POSIX backend, which
//! speak 9P2000 (errors as Rerror strings), 9P2000.u (Rerror string + errno)
//! and 9P2000.L, whichever the client's Tversion asks for.
//!
//!   zc9p-lawn9p ROOT -l HOST:PORT    tcp: every connection accepted, each its own session
//!   zc9p-lawn9p ROOT -l /PATH        the same on a unix socket
//!   zc9p-lawn9p ROOT --rfd R --wfd W one session on these descriptors (trans=fd)
//!   -v                               lawn's trace of every message, on stderr
//!
//! Every session attaches to ROOT whatever uname and aname the client sends
//! (lawn's backend keeps walks inside it).
use lawn_constants::logger::{LogFormat, LogLevel, Logger};
use lawn_fs::auth::{AuthenticationInfo, Authenticator, AuthenticatorHandle};
use lawn_fs::backend::Metadata;
use std::os::unix::io::FromRawFd;
use std::sync::Arc;

struct Log {
    verbose: bool,
}

impl Logger for Log {
    fn level(&self) -> LogLevel {
        if self.verbose {
            LogLevel::Trace
        } else {
            LogLevel::Error
        }
    }
    fn format(&self) -> LogFormat {
        LogFormat::Text
    }
    fn fatal(&self, msg: &str) {
        eprintln!("fatal: {}", msg);
    }
    fn error(&self, msg: &str) {
        eprintln!("error: {}", msg);
    }
    fn message(&self, msg: &str) {
        eprintln!("{}", msg);
    }
    fn info(&self, msg: &str) {
        eprintln!("{}", msg);
    }
    fn debug(&self, msg: &str) {
        eprintln!("{}", msg);
    }
    fn trace(&self, msg: &str) {
        if self.verbose {
            eprintln!("{}", msg);
        }
    }
}

/// No authentication: every attach gets ROOT.
struct Root {
    dir: Vec<u8>,
}

struct RootHandle {
    dir: Vec<u8>,
    id: Option<u32>,
}

impl AuthenticatorHandle for RootHandle {
    fn read(&self, _data: &mut [u8]) -> Result<u32, lawn_constants::Error> {
        Err(lawn_constants::Error::EOPNOTSUPP)
    }
    fn write(&self, _data: &[u8]) -> Result<u32, lawn_constants::Error> {
        Err(lawn_constants::Error::EOPNOTSUPP)
    }
    fn info(&self) -> Option<AuthenticationInfo<'_>> {
        Some(AuthenticationInfo::new(
            self.id, b"root", &self.dir, &self.dir,
        ))
    }
}

impl Authenticator for Root {
    fn create(
        &self,
        _meta: &Metadata,
        _uname: &[u8],
        _aname: &[u8],
        nuname: Option<u32>,
    ) -> Box<dyn AuthenticatorHandle + Send + Sync> {
        Box::new(RootHandle {
            dir: self.dir.clone(),
            id: nuname,
        })
    }
}

const MAX_SIZE: u32 = 1024 * 1024;

async fn session<R, W>(log: Arc<Log>, root: Arc<Root>, rd: R, wr: W)
where
    R: tokio::io::AsyncReadExt + Unpin + Send + Sync,
    W: tokio::io::AsyncWriteExt + Unpin + Send + Sync,
{
    let fs = Arc::new(lawn_fs::backend::libc::LibcBackend::new(
        log.clone(),
        root,
        MAX_SIZE,
    ));
    let backend = lawn_9p::backend::libc::LibcBackend::new(log.clone(), fs, MAX_SIZE);
    let mut server = lawn_9p::server::Server::new(log, backend, rd, wr);
    if let Err(e) = server.run().await {
        eprintln!("session ended: {}", e);
    }
}

fn usage() -> ! {
    eprintln!("usage: zc9p-lawn9p ROOT [-v] (-l HOST:PORT | -l /PATH | --rfd R --wfd W)");
    std::process::exit(2);
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 2 {
        usage();
    }
    let (mut listen, mut rfd, mut wfd, mut verbose) = (None, None, None, false);
    let mut i = 2;
    while i < args.len() {
        let val = || args.get(i + 1).cloned().unwrap_or_else(|| usage());
        match args[i].as_str() {
            "-v" => {
                verbose = true;
                i += 1;
                continue;
            }
            "-l" => listen = Some(val()),
            "--rfd" => rfd = Some(val().parse::<i32>().unwrap_or_else(|_| usage())),
            "--wfd" => wfd = Some(val().parse::<i32>().unwrap_or_else(|_| usage())),
            _ => usage(),
        }
        i += 2;
    }
    let dir = std::fs::canonicalize(&args[1]).unwrap_or_else(|e| {
        eprintln!("{}: {}", args[1], e);
        std::process::exit(2);
    });
    let root = Arc::new(Root {
        dir: std::os::unix::ffi::OsStrExt::as_bytes(dir.as_os_str()).to_vec(),
    });
    let log = Arc::new(Log { verbose });

    match (listen, rfd, wfd) {
        (Some(addr), None, None) if addr.starts_with('/') => {
            let _ = std::fs::remove_file(&addr);
            let l = tokio::net::UnixListener::bind(&addr).unwrap_or_else(|e| {
                eprintln!("{}: {}", addr, e);
                std::process::exit(2);
            });
            loop {
                match l.accept().await {
                    Ok((s, _)) => {
                        let (rd, wr) = s.into_split();
                        tokio::spawn(session(log.clone(), root.clone(), rd, wr));
                    }
                    Err(e) => eprintln!("accept: {}", e),
                }
            }
        }
        (Some(addr), None, None) => {
            let l = tokio::net::TcpListener::bind(&addr)
                .await
                .unwrap_or_else(|e| {
                    eprintln!("{}: {}", addr, e);
                    std::process::exit(2);
                });
            loop {
                match l.accept().await {
                    Ok((s, _)) => {
                        let _ = s.set_nodelay(true);
                        let (rd, wr) = s.into_split();
                        tokio::spawn(session(log.clone(), root.clone(), rd, wr));
                    }
                    Err(e) => eprintln!("accept: {}", e),
                }
            }
        }
        (None, Some(r), Some(w)) => {
            // A socketpair's one descriptor serves both ways: a duplicate for
            // the writer, so each half owns its own.
            let w = if w == r { unsafe { libc::dup(w) } } else { w };
            let rd = tokio::fs::File::from_std(unsafe { std::fs::File::from_raw_fd(r) });
            let wr = tokio::fs::File::from_std(unsafe { std::fs::File::from_raw_fd(w) });
            session(log, root, rd, wr).await;
        }
        _ => usage(),
    }
}
