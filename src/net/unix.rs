//! HTTP over a unix socket: a ureq connector that opens the socket for every connection
//! (the URL's host only fills the `Host` header), and a resolver that resolves nothing.
//! TLS, when the URL says `https`, is layered on top by ureq's rustls connector.

use std::io::Read;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;

use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, LazyBuffers, NextTimeout, Transport,
};

/// Connects every request to one unix socket.
#[derive(Debug)]
pub(super) struct UnixConnector(pub(super) PathBuf);

impl<In: Transport> Connector<In> for UnixConnector {
    type Out = UnixTransport;

    fn connect(
        &self,
        details: &ConnectionDetails,
        _chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let stream = UnixStream::connect(&self.0)?;
        let buffers = LazyBuffers::new(
            details.config.input_buffer_size(),
            details.config.output_buffer_size(),
        );
        Ok(Some(UnixTransport { stream, buffers }))
    }
}

/// No name resolution for a unix socket: one placeholder address.
#[derive(Debug)]
pub(super) struct UnixResolver;

impl Resolver for UnixResolver {
    fn resolve(
        &self,
        _uri: &ureq::http::Uri,
        _config: &ureq::config::Config,
        _timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let mut v = self.empty();
        v.push(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
        Ok(v)
    }
}

#[derive(Debug)]
pub(super) struct UnixTransport {
    stream: UnixStream,
    buffers: LazyBuffers,
}

fn io_err(e: std::io::Error, reason: ureq::Timeout) -> ureq::Error {
    match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
            ureq::Error::Timeout(reason)
        }
        _ => ureq::Error::Io(e),
    }
}

impl Transport for UnixTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        let t = timeout.for_write();
        self.stream.set_write_timeout(t.not_zero().map(|d| *d))?;
        let mut out = &self.buffers.output()[..amount];
        // send(MSG_NOSIGNAL), not write: a peer that closed the socket is an error here, never
        // a SIGPIPE (the command-line tools run with SIGPIPE's default action, which would end
        // the process).
        while !out.is_empty() {
            match rustix::net::send(&self.stream, out, rustix::net::SendFlags::NOSIGNAL) {
                Ok(0) => {
                    return Err(ureq::Error::Io(std::io::Error::from(
                        std::io::ErrorKind::WriteZero,
                    )));
                }
                Ok(n) => out = &out[n..],
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(io_err(std::io::Error::from(e), t.reason)),
            }
        }
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        let t = timeout.for_read();
        self.stream.set_read_timeout(t.not_zero().map(|d| *d))?;
        let input = self.buffers.input_append_buf();
        let n = loop {
            match self.stream.read(input) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_err(e, t.reason)),
            }
        };
        self.buffers.input_appended(n);
        Ok(n > 0)
    }

    fn is_open(&mut self) -> bool {
        // Open when a non-blocking read would block: no EOF and no unrequested bytes.
        if self.stream.set_nonblocking(true).is_err() {
            return false;
        }
        let mut b = [0u8; 1];
        let open = matches!(self.stream.read(&mut b), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock);
        open && self.stream.set_nonblocking(false).is_ok()
    }
}
