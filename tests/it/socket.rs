//! The `socket` input end to end: the agent checks real listeners started on free ports (a TCP
//! server, one that accepts and resets, a UDP socket), a closed TCP port and a closed UDP port,
//! a name that does not resolve, and — in a network namespace of the test's own, with a TUN
//! device that swallows everything — a black-holed address; the points are checked at the fake
//! DataWay (or, in the namespace, in the agent's file output).

use std::io::Read;
use std::net::{TcpListener, UdpSocket};
use std::time::{Duration, Instant};

use crate::support::dataway::{FakeDataway, Received, Val};
use crate::support::{Agent, Workdir};

const TOKEN: &str = "tkn_0123456789abcdef0123456789abcdef";

fn int(p: &Received, k: &str) -> i64 {
    match p.fields.get(k) {
        Some(Val::I(v)) => *v,
        other => panic!("{k}: {other:?} in {p:?}"),
    }
}

fn tag<'a>(p: &'a Received, k: &str) -> &'a str {
    p.tags.get(k).map_or("", String::as_str)
}

/// A port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn real_listeners_closed_ports_resets_and_bad_names() {
    // A TCP server, and one that accepts and resets at once (SO_LINGER 0).
    let open = TcpListener::bind("127.0.0.1:0").unwrap();
    let open_port = open.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for c in open.incoming().flatten() {
            let mut c = c;
            let _ = c.read(&mut [0u8; 16]);
        }
    });
    let reset = TcpListener::bind("127.0.0.1:0").unwrap();
    let reset_port = reset.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for c in reset.incoming().flatten() {
            let s = socket2::SockRef::from(&c);
            let _ = s.set_linger(Some(Duration::ZERO));
            // Reset once the probe has seen its connection made: a reset that beats the
            // connecting side's check of the handshake is a failed connect (as in the original).
            std::thread::sleep(Duration::from_millis(300));
            drop(c);
        }
    });
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let udp_port = udp.local_addr().unwrap().port();
    let tcp_closed = closed_port();
    let udp_closed = closed_port();

    let dw = FakeDataway::start(TOKEN);
    let w = Workdir::new();
    w.write(
        "conf.d/datakit.conf",
        &format!(
            "default_enabled_inputs = []\n[dataway]\n  urls = [\"{}\"]\n[io]\n  flush_interval = \"100ms\"\n",
            dw.url()
        ),
    );
    w.write(
        "conf.d/socket.conf",
        &format!(
            "[[inputs.socket]]\n  dest_url = [\"tcp://127.0.0.1:{open_port}\", \"tcp://127.0.0.1:{reset_port}\", \
             \"tcp://127.0.0.1:{tcp_closed}\", \"udp://127.0.0.1:{udp_port}\", \"udp://127.0.0.1:{udp_closed}\", \
             \"tcp://no-such-host.invalid:80\"]\n  tcp_timeout = \"3s\"\n  udp_timeout = \"3s\"\n\
             [inputs.socket.tags]\n  team = \"ops\"\n"
        ),
    );
    let mut a = Agent::start(&w, &[]);
    a.wait_api();
    // The first check runs at the start.
    dw.wait_for(Duration::from_secs(20), "one point per target", |p| {
        p.iter()
            .filter(|p| p.name == "tcp" || p.name == "udp")
            .count()
            >= 6
    });
    let pts = dw.points();
    let find = |name: &str, host: &str, port: u16| -> &Received {
        pts.iter()
            .find(|p| {
                p.name == name
                    && tag(p, "dest_host") == host
                    && tag(p, "dest_port") == port.to_string()
            })
            .unwrap_or_else(|| panic!("{name} {host}:{port} in {pts:#?}"))
    };
    let ok = find("tcp", "127.0.0.1", open_port);
    assert_eq!(int(ok, "success"), 1);
    assert!(int(ok, "response_time") > 0);
    assert_eq!(
        int(ok, "response_time_with_dns"),
        int(ok, "response_time"),
        "no lookup for an address"
    );
    assert_eq!(tag(ok, "proto"), "tcp");
    assert_eq!(tag(ok, "team"), "ops");
    assert!(
        !tag(ok, "host").is_empty(),
        "loopback target: the agent's host tag"
    );
    assert_eq!(
        int(find("tcp", "127.0.0.1", reset_port), "success"),
        1,
        "accepted, then reset"
    );
    let refused = find("tcp", "127.0.0.1", tcp_closed);
    assert_eq!(
        (int(refused, "success"), int(refused, "response_time")),
        (-1, 0)
    );
    let u = find("udp", "127.0.0.1", udp_port);
    assert_eq!(int(u, "success"), 1);
    assert_eq!(u.fields.len(), 1, "udp has `success` only");
    let mut buf = [0u8; 4];
    udp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let (n, _) = udp.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"X", "the probe reached the listener");
    assert_eq!(int(find("udp", "127.0.0.1", udp_closed), "success"), -1);
    let bad = find("tcp", "no-such-host.invalid", 80);
    assert_eq!(int(bad, "success"), -1);
    assert_eq!(
        tag(bad, "host"),
        "no-such-host.invalid",
        "a remote target is the host"
    );
    // Each failing target is an error that names it.
    let out = crate::support::datakit()
        .args([
            "monitor",
            "--json",
            "--to",
            &format!("127.0.0.1:{}", a.port),
        ])
        .output()
        .unwrap();
    let snap: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        snap["inputs"]["socket"]["errors"].as_u64().unwrap_or(0) >= 3,
        "{snap}"
    );
    let log = a.log();
    for want in [
        format!("tcp://127.0.0.1:{tcp_closed}: connect to 127.0.0.1:{tcp_closed}:"),
        format!(
            "udp://127.0.0.1:{udp_closed}: 127.0.0.1:{udp_closed}: the host answers \"port unreachable\""
        ),
        "tcp://no-such-host.invalid:80:".to_string(),
    ] {
        assert!(log.contains(&want), "{want} not in the log:\n{log}");
    }
    assert_eq!(a.stop(), Some(0));
}

/// Runs the agent in a network namespace of its own where 10.99.0.0/24 goes to a TUN device
/// that nothing reads: every packet there vanishes. Needs root (or unprivileged user
/// namespaces) and `ip` (iproute2).
#[test]
fn a_black_holed_address_times_out_and_reports_failure() {
    let w = Workdir::new();
    w.write(
        "conf.d/datakit.conf",
        "default_enabled_inputs = []\n[io]\n  flush_interval = \"100ms\"\n[http_api]\n  listen = \"127.0.0.1:9529\"\n",
    );
    w.write(
        "conf.d/socket.conf",
        "[[inputs.socket]]\n  dest_url = [\"tcp://10.99.0.2:80\", \"udp://10.99.0.2:53\"]\n  tcp_timeout = \"2s\"\n  udp_timeout = \"2s\"\n  election = false\n",
    );
    let bin = assert_cmd::cargo::cargo_bin("datakit");
    let setup = "ip link set lo up && ip tuntap add t0 mode tun && ip link set t0 up && \
                 ip addr add 10.99.0.1/24 dev t0 && exec \"$0\" --workdir \"$1\" run";
    let root = unsafe_root();
    let mut cmd = std::process::Command::new("unshare");
    if !root {
        cmd.arg("--map-root-user");
    }
    let mut child = cmd
        .args(["--net", "sh", "-c", setup])
        .arg(&bin)
        .arg(w.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("unshare (util-linux)");
    let file = w.path().join("data/out/metric.lp");
    let t0 = Instant::now();
    let text = loop {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        if text.lines().any(|l| l.starts_with("tcp,"))
            && text.lines().any(|l| l.starts_with("udp,"))
        {
            break text;
        }
        if let Ok(Some(st)) = child.try_wait() {
            let mut err = String::new();
            let _ = child.stderr.take().unwrap().read_to_string(&mut err);
            panic!("the agent in its namespace ended ({st}): {err}");
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "no points in {}",
            file.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let elapsed = t0.elapsed();
    let _ = rustix::process::kill_process(
        rustix::process::Pid::from_raw(child.id() as i32).unwrap(),
        rustix::process::Signal::TERM,
    );
    let _ = child.wait();
    let tcp = text.lines().find(|l| l.starts_with("tcp,")).unwrap();
    assert!(
        tcp.contains("dest_host=10.99.0.2") && tcp.contains("success=-1i"),
        "{tcp}"
    );
    assert!(tcp.contains("response_time=0i"), "{tcp}");
    assert!(
        elapsed >= Duration::from_secs(2),
        "the check waited for its timeout"
    );
    // UDP cannot tell silence from a listener that does not answer: up, as `nc -uz` says.
    let udp = text.lines().find(|l| l.starts_with("udp,")).unwrap();
    assert!(udp.contains("success=1i"), "{udp}");
    let log = std::fs::read_to_string(w.path().join("log")).unwrap_or_default();
    assert!(
        log.contains(
            "tcp://10.99.0.2:80: connect to 10.99.0.2:80: no answer within 2s (tcp_timeout)"
        ),
        "{log}"
    );
}

fn unsafe_root() -> bool {
    rustix::process::geteuid().is_root()
}
