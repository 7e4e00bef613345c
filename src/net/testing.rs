//! Test support: a one-connection HTTP server on a unix socket.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixListener;

/// Serves one connection of `listener`: reads the request head, answers `response`, and
/// returns the head it saw.
pub(crate) fn serve_once(
    listener: UnixListener,
    response: Vec<u8>,
) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let (s, _) = listener.accept().unwrap();
        let mut r = BufReader::new(s.try_clone().unwrap());
        let mut head = String::new();
        loop {
            let mut line = String::new();
            if r.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                break;
            }
            head.push_str(&line);
        }
        (&s).write_all(&response).unwrap();
        head
    })
}
