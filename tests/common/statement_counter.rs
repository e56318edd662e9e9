//! A TCP proxy that counts statements, shared by tests/e2e.rs and
//! tests/scale.rs.

use std::net::TcpListener;
use std::sync::{Arc, Condvar, Mutex};

/// A TCP proxy in front of the shared PostgreSQL that counts the statements
/// its clients execute (simple `Query` and extended `Execute` messages), so
/// a test can count the statements a request costs without a server
/// extension. Clients connect with `sslmode=disable`: the messages are read
/// in the clear. It can also hold an answer of the server back
/// ([`StatementCounter::hold`]): a statement has then run, and its client
/// waits for the result for as long as the test likes.
pub struct StatementCounter {
    port: u16,
    count: Arc<std::sync::atomic::AtomicUsize>,
    /// The local port of each connection to the server: its
    /// `pg_stat_activity.client_port`.
    server_ports: Arc<Mutex<Vec<u16>>>,
    held: Arc<Held>,
}

/// The bytes whose answer is to be held back, and whether one is.
#[derive(Default)]
struct Held {
    state: Mutex<(Option<Vec<u8>>, bool)>,
    changed: Condvar,
}

impl Held {
    /// Passes `bytes` on to the client, after holding them back if they
    /// contain the bytes asked for, until released.
    fn pass(&self, bytes: &[u8]) {
        let mut state = self.state.lock().unwrap();
        let wanted = state.0.as_ref().is_some_and(|needle| {
            bytes
                .windows(needle.len())
                .any(|window| window == &needle[..])
        });
        if wanted {
            state.1 = true;
            self.changed.notify_all();
            while state.0.is_some() {
                state = self.changed.wait(state).unwrap();
            }
        }
    }
}

impl StatementCounter {
    pub fn start() -> StatementCounter {
        Self::start_for(5432)
    }

    /// A proxy in front of the PostgreSQL on `127.0.0.1:<upstream>`. While
    /// that server is down, a client's connection is closed at once, as if
    /// refused.
    pub fn start_for(upstream: u16) -> StatementCounter {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = count.clone();
        let server_ports = Arc::new(Mutex::new(Vec::new()));
        let ports = server_ports.clone();
        let held = Arc::new(Held::default());
        let holding = held.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().map_while(Result::ok) {
                let Ok(server) = std::net::TcpStream::connect(("127.0.0.1", upstream)) else {
                    continue;
                };
                ports
                    .lock()
                    .unwrap()
                    .push(server.local_addr().unwrap().port());
                let (mut from_server, mut to_client) =
                    (server.try_clone().unwrap(), client.try_clone().unwrap());
                let holding = holding.clone();
                std::thread::spawn(move || {
                    use std::io::{Read, Write};
                    let mut buf = [0u8; 16 * 1024];
                    while let Ok(n) = from_server.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        holding.pass(&buf[..n]);
                        if to_client.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = to_client.shutdown(std::net::Shutdown::Both);
                });
                let counted = counted.clone();
                std::thread::spawn(move || {
                    let _ = Self::relay(client, server, &counted);
                });
            }
        });
        StatementCounter {
            port,
            count,
            server_ports,
            held,
        }
    }

    /// From now on, holds back the first answer of the server that contains
    /// `needle` (a row's value: its statement has run), and every later one
    /// on that connection, until [`StatementCounter::release`]; the other
    /// connections' answers pass.
    #[allow(dead_code)]
    pub fn hold(&self, needle: &[u8]) {
        *self.held.state.lock().unwrap() = (Some(needle.to_vec()), false);
    }

    /// Waits until an answer is held back, for at most `within`.
    #[allow(dead_code)]
    pub fn until_held(&self, within: std::time::Duration) {
        let deadline = std::time::Instant::now() + within;
        let mut state = self.held.state.lock().unwrap();
        while !state.1 {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            assert!(!left.is_zero(), "no answer held within {within:?}");
            state = self.held.changed.wait_timeout(state, left).unwrap().0;
        }
    }

    /// Lets the held answer through, and holds no more.
    #[allow(dead_code)]
    pub fn release(&self) {
        *self.held.state.lock().unwrap() = (None, false);
        self.held.changed.notify_all();
    }

    /// Copies one client's messages to the server, counting statements.
    fn relay(
        mut client: std::net::TcpStream,
        mut server: std::net::TcpStream,
        counted: &std::sync::atomic::AtomicUsize,
    ) -> std::io::Result<()> {
        use std::io::{Read, Write};
        // The startup message has no type byte: a length, then the rest.
        let mut len = [0u8; 4];
        client.read_exact(&mut len)?;
        let mut rest = vec![0u8; u32::from_be_bytes(len) as usize - 4];
        client.read_exact(&mut rest)?;
        server.write_all(&len)?;
        server.write_all(&rest)?;
        loop {
            let mut head = [0u8; 5];
            client.read_exact(&mut head)?;
            let len = u32::from_be_bytes(head[1..].try_into().unwrap()) as usize;
            let mut body = vec![0u8; len - 4];
            client.read_exact(&mut body)?;
            if head[0] == b'Q' || head[0] == b'E' {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
            server.write_all(&head)?;
            server.write_all(&body)?;
        }
    }

    /// The `client_port`s of the connections made through the proxy, as an
    /// SQL list; tests/e2e.rs has no use for it.
    #[allow(dead_code)]
    pub fn client_ports(&self) -> String {
        let ports = self.server_ports.lock().unwrap();
        let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
        ports.join(", ")
    }

    pub fn url(&self, db: &str) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/{db}?sslmode=disable",
            self.port
        )
    }

    /// The statements executed through the proxy so far.
    #[allow(dead_code)]
    pub fn count(&self) -> usize {
        self.count.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The fewest statements one of three runs of `request` executed: a
    /// background statement of the service (a pool's new connection, a
    /// purge) only ever adds to a run.
    pub fn statements(&self, mut request: impl FnMut()) -> usize {
        (0..3)
            .map(|_| {
                let before = self.count.load(std::sync::atomic::Ordering::SeqCst);
                request();
                self.count.load(std::sync::atomic::Ordering::SeqCst) - before
            })
            .min()
            .unwrap()
    }
}
