//! The loop the agent's pullers share (DataWay's filters, the console's Pipeline scripts, the
//! reference tables): one pull on the blocking pool now, then one every interval, until the
//! agent stops.

use std::time::Duration;

use crate::shutdown::Shutdown;

/// Something pulled again and again.
pub trait Pull: Send + 'static {
    type Error: Send + 'static;
    /// What the log lines call it (`filters`, `reference tables`, …).
    const WHAT: &'static str;
    /// One pull (blocking).
    fn pull(&mut self) -> Result<bool, Self::Error>;
    /// How long until the next pull.
    fn interval(&self) -> Duration;
    /// Says a pull failed (each puller logs at most once a minute).
    fn failed(&self, e: &Self::Error);
}

/// Pulls now, then every interval, until `stop`.
pub async fn run<P: Pull>(mut p: P, mut stop: Shutdown) {
    loop {
        let (back, r) = match tokio::task::spawn_blocking(move || {
            let r = p.pull();
            (p, r)
        })
        .await
        {
            Ok(x) => x,
            Err(e) => {
                tracing::error!("{}: the pull task failed: {e}", P::WHAT);
                return;
            }
        };
        p = back;
        if let Err(e) = r {
            p.failed(&e);
        }
        tokio::select! {
            _ = tokio::time::sleep(p.interval()) => {}
            _ = stop.wait() => return,
        }
    }
}

/// The start of an error answer's body, for a message: at most 300 bytes, cut at a character.
pub fn answer_excerpt(body: &[u8]) -> String {
    let mut s = String::from_utf8_lossy(body).into_owned();
    let mut end = s.len().min(300);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_error_answer_cut_inside_a_character_does_not_panic() {
        // The filter puller cut at byte 300 whatever was there: a panic on a multi-byte
        // character across it.
        let body = format!("{}é and more", "x".repeat(299));
        assert_eq!(super::answer_excerpt(body.as_bytes()), "x".repeat(299));
        assert_eq!(super::answer_excerpt(b"short"), "short");
    }
}
