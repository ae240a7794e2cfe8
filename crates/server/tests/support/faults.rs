//! Things a fault test breaks on purpose, each its own and cleaned up when dropped: a
//! `redis-server` on a spare port, a TCP proxy to PostgreSQL that can cut its connections, and
//! a small tmpfs. None of them touches the machine's shared services.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Whether a missing tool or privilege must fail the test (`SLOD_REQUIRE_SERVICES=1`).
pub fn services_required() -> bool {
    std::env::var("SLOD_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}

/// A loopback port nobody listens on now.
pub fn spare_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `redis-server` of the test's own on a spare port (stopping it disturbs no other test);
/// killed when dropped.
pub struct OwnRedis {
    pub port: u16,
    child: Option<Child>,
}

impl OwnRedis {
    /// Starts one, or `None` (skipped) when `redis-server` is not installed; a failure under
    /// SLOD_REQUIRE_SERVICES=1.
    pub fn start() -> Option<OwnRedis> {
        let mut redis = OwnRedis {
            port: spare_port(),
            child: None,
        };
        match redis.spawn() {
            Ok(()) => Some(redis),
            Err(e) => {
                assert!(
                    !services_required(),
                    "SLOD_REQUIRE_SERVICES=1 but redis-server cannot be started: {e}"
                );
                eprintln!("skipped: redis-server is not installed ({e})");
                None
            }
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn spawn(&mut self) -> std::io::Result<()> {
        let port = self.port.to_string();
        let child = Command::new("redis-server")
            .args(["--port", &port, "--save", "", "--bind", "127.0.0.1"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    /// Kills it (SIGKILL: no goodbye to its clients).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, empty.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn().expect("redis-server restarts");
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A loopback TCP proxy to `upstream` that the test can cut: while cut, it closes every
/// connection it carries and every new one at once. Stops when dropped.
pub struct Proxy {
    pub port: u16,
    cut: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    pub async fn start(upstream: std::net::SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let cut = watch::Sender::new(false);
        let cuts = cut.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    continue;
                };
                let mut cut = cuts.subscribe();
                if *cut.borrow_and_update() {
                    continue; // dropped: the connection is closed at once
                }
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.wait_for(|cut| *cut) => {}
                    }
                });
            }
        });
        Proxy { port, cut, task }
    }

    /// Closes every connection through the proxy and refuses new ones.
    pub fn cut(&self) {
        self.cut.send_replace(true);
    }

    /// Passes traffic again.
    pub fn restore(&self) {
        self.cut.send_replace(false);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
        self.task.abort();
    }
}

/// A tmpfs of `size` mounted on a fresh directory; unmounted when dropped.
pub struct Tmpfs {
    pub dir: std::path::PathBuf,
}

impl Tmpfs {
    /// Mounts one, or `None` (skipped) when this process may not mount; a failure under
    /// SLOD_REQUIRE_SERVICES=1 (CI runs as root).
    pub fn mount(size: &str) -> Option<Tmpfs> {
        let dir = std::env::temp_dir().join(format!("slod-tmpfs-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .output();
        match out {
            Ok(out) if out.status.success() => Some(Tmpfs { dir }),
            failed => {
                let _ = std::fs::remove_dir(&dir);
                let why = match failed {
                    Ok(out) => String::from_utf8_lossy(&out.stderr).into_owned(),
                    Err(e) => e.to_string(),
                };
                assert!(
                    !services_required(),
                    "SLOD_REQUIRE_SERVICES=1 but a tmpfs cannot be mounted: {why}"
                );
                eprintln!("skipped: cannot mount a tmpfs ({why})");
                None
            }
        }
    }

    /// `mount -o remount,<options>`; panics with mount's complaint when it fails.
    pub fn remount(&self, options: &str) {
        let out = Command::new("mount")
            .args(["-o", &format!("remount,{options}")])
            .arg(&self.dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "remount,{options}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        let _ = std::fs::remove_dir(&self.dir);
    }
}
