use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use super::testing::{pts, setup};
use super::*;

fn feed(points: Vec<crate::point::Point>) -> (Feed, Ack) {
    let (tx, rx) = tokio::sync::oneshot::channel();
    (
        Feed {
            points,
            encoded: None,
            ack: Some(tx),
        },
        rx,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn points_are_batched_and_delivered() {
    let (io, rec, stats) = setup(None);
    let q = io.queues();
    for i in 0..10 {
        let (f, _) = feed(pts(25, i * 25));
        q.send(Category::Metric, f).await.unwrap();
    }
    let (f, ack) = feed(pts(5, 250));
    q.send(Category::Metric, f).await.unwrap();
    ack.await.unwrap();
    io.shutdown(Instant::now() + Duration::from_secs(5)).await;
    assert_eq!(rec.seqs(), (0..255).collect::<Vec<_>>());
    let bodies = rec.bodies.lock().unwrap();
    assert!(bodies.len() >= 3, "batched by max_cache_count");
    assert!(String::from_utf8_lossy(&bodies[0].payload).starts_with("m seq="));
    let s = stats.snapshot();
    assert_eq!(s.io["metric"].points_sent, 255);
    assert_eq!(s.io["metric"].points_in, 255);
    assert_eq!(s.io["metric"].queued, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_sends_go_to_disk_and_replay_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (io, rec, stats) = setup(Some(dir.path()));
    rec.fail.store(true, Relaxed);
    let q = io.queues();
    for i in 0..6 {
        let (f, ack) = feed(pts(50, i * 50));
        q.send(Category::Metric, f).await.unwrap();
        ack.await.unwrap();
    }
    assert!(stats.snapshot().io["metric"].points_queued_on_disk >= 300);
    rec.fail.store(false, Relaxed);
    let t0 = Instant::now();
    while rec.seqs().len() < 300 && t0.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    io.shutdown(Instant::now() + Duration::from_secs(5)).await;
    assert_eq!(rec.seqs(), (0..300).collect::<Vec<_>>());
    let snap = stats.snapshot();
    assert_eq!(snap.outputs[0].disk_queue_bodies, 0);
    assert!(snap.outputs[0].healthy);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_bodies_are_dropped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let (io, rec, stats) = setup(Some(dir.path()));
    rec.refuse.store(true, Relaxed);
    let (f, ack) = feed(pts(10, 0));
    io.queues().send(Category::Metric, f).await.unwrap();
    ack.await.unwrap();
    io.shutdown(Instant::now() + Duration::from_secs(5)).await;
    let s = stats.snapshot();
    assert_eq!(s.io["metric"].dropped["refused_4xx"], 10);
    assert_eq!(s.drops[0].origin, "output/rec", "{:?}", s.drops);
    assert_eq!(s.outputs[0].disk_queue_bodies, 0, "4xx is never queued");
    assert_eq!(rec.calls.load(Relaxed), 1, "4xx is never retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_io_refuses_feeds_and_uncounts_them() {
    let (io, _rec, stats) = setup(None);
    let q = io.queues();
    io.shutdown(Instant::now() + Duration::from_secs(5)).await;
    let (f, _) = feed(pts(3, 0));
    assert!(q.send(Category::Metric, f).await.is_err());
    let s = stats.snapshot();
    assert!(
        s.io.get("metric")
            .is_none_or(|c| c.queued == 0 && c.points_in == 0)
    );
}
