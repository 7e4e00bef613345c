//! A release download server for upgrade tests: serves fixed files over HTTP/1.1 on a free
//! loopback port, and can cut a response short after its headers promised the whole file.
//! Plain std networking on one thread, so a truncated body is exactly what the client sees.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// What a path answers.
#[derive(Clone)]
pub enum Served {
    /// The whole body.
    Full(Vec<u8>),
    /// `Content-Length` of the whole body, then only the first `n` bytes and a closed connection.
    CutAfter(Vec<u8>, usize),
}

type Files = Arc<Mutex<HashMap<String, Served>>>;

pub struct ReleaseServer {
    pub port: u16,
    files: Files,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ReleaseServer {
    pub fn start() -> ReleaseServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().unwrap().port();
        let files: Files = Arc::default();
        let requests: Arc<Mutex<Vec<String>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (f, r, s) = (files.clone(), requests.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(c) = conn {
                    let _ = serve(c, &f, &r);
                }
            }
        });
        ReleaseServer {
            port,
            files,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    /// Serves `body` at `/path`.
    pub fn put(&self, path: &str, served: Served) {
        self.files
            .lock()
            .unwrap()
            .insert(format!("/{}", path.trim_start_matches('/')), served);
    }

    pub fn url(&self, path: &str) -> String {
        format!(
            "http://127.0.0.1:{}/{}",
            self.port,
            path.trim_start_matches('/')
        )
    }

    /// Paths requested so far.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

fn serve(mut c: TcpStream, files: &Files, requests: &Mutex<Vec<String>>) -> std::io::Result<()> {
    c.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
        if c.read(&mut b)? == 0 {
            return Ok(());
        }
        head.push(b[0]);
    }
    let text = String::from_utf8_lossy(&head);
    let path = text.split_whitespace().nth(1).unwrap_or("/").to_string();
    requests.lock().unwrap().push(path.clone());
    let served = files.lock().unwrap().get(&path).cloned();
    match served {
        None => c.write_all(
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found",
        ),
        Some(Served::Full(body)) => {
            write!(
                c,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            c.write_all(&body)
        }
        Some(Served::CutAfter(body, n)) => {
            write!(
                c,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            c.write_all(&body[..n.min(body.len())])?;
            c.flush()?;
            c.shutdown(std::net::Shutdown::Both)
        }
    }
}

impl Drop for ReleaseServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
