//! `scrape`: one round trip that flushes this instance's aggregate and sums every shard.

use super::*;
use crate::testing::FakeServices;
use futures::executor::block_on;

fn sample(status: u16) -> Sample {
    Sample {
        method: "GET",
        route: "/v1/events",
        status,
        duration_ms: 12,
    }
}

fn add(services: &FakeServices, key: &str, field: &str, by: i64) {
    block_on(
        services
            .redis()
            .exec(Command::new("HINCRBY").arg(key).arg(field).arg(by)),
    )
    .expect("hincrby");
}

#[test]
fn sums_every_shard_and_reads_the_other_hashes() {
    let services = FakeServices::up();
    let _ = pending::take();
    let prefix = services.config().redis.key_prefix.clone();
    add(
        &services,
        &shard_key(&prefix, 0),
        "req|GET|/v1/events|200",
        2,
    );
    add(
        &services,
        &shard_key(&prefix, 15),
        "req|GET|/v1/events|200",
        3,
    );
    add(
        &services,
        &shard_key(&prefix, 7),
        "sum_ms|GET|/v1/events",
        40,
    );
    add(
        &services,
        &format!("{prefix}metrics:http"),
        "req|GET|/v1/events|200",
        100,
    );
    add(
        &services,
        &indexer_cron::metrics::key(&prefix),
        "last_block",
        9,
    );
    let scrape = block_on(scrape(&services)).expect("scrape");
    let get = |fields: &[(String, i64)], name: &str| {
        fields.iter().find(|(f, _)| f == name).map(|(_, v)| *v)
    };
    assert_eq!(get(&scrape.http, "req|GET|/v1/events|200"), Some(5));
    assert_eq!(get(&scrape.http, "sum_ms|GET|/v1/events"), Some(40));
    assert_eq!(get(&scrape.indexer, "last_block"), Some(9));
    let text = render(&scrape.http);
    assert!(
        text.contains(r#"http_requests_total{method="GET",route="/v1/events",status="200"} 5"#),
        "{text}"
    );
}

#[test]
fn a_scrape_flushes_this_instances_samples_first() {
    let services = FakeServices::up();
    let _ = pending::take();
    let policy = pending::FlushPolicy {
        max_age_ms: 60_000,
        max_samples: 1_000,
        every_request: false,
    };
    for status in [200, 200, 503] {
        assert_eq!(pending::record(&sample(status), 0, policy, true), None);
    }
    let scrape = block_on(scrape(&services)).expect("scrape");
    let text = render(&scrape.http);
    assert!(
        text.contains(r#"http_requests_total{method="GET",route="/v1/events",status="200"} 2"#),
        "{text}"
    );
    assert!(text.contains(
        r#"http_request_duration_seconds_bucket{method="GET",route="/v1/events",le="0.025"} 3"#
    ));
    assert_eq!(pending::take(), None, "flushed, not kept");
}

#[test]
fn a_scrape_shows_its_own_samples_even_when_redis_lacked_the_script() {
    let services = FakeServices::up();
    services.redis.script_loaded.set(false);
    let _ = pending::take();
    let policy = pending::FlushPolicy {
        max_age_ms: 60_000,
        max_samples: 1_000,
        every_request: false,
    };
    assert_eq!(pending::record(&sample(200), 0, policy, true), None);
    let first = render(&block_on(scrape(&services)).expect("scrape").http);
    let series = r#"http_requests_total{method="GET",route="/v1/events",status="200"} 1"#;
    assert!(first.contains(series), "{first}");
    assert!(services.redis.script_loaded.get(), "sent by EVAL");
    let second = render(&block_on(scrape(&services)).expect("scrape").http);
    assert!(second.contains(series), "counted once: {second}");
}

#[test]
fn a_scrape_with_redis_down_keeps_the_samples() {
    let mut services = FakeServices::up();
    services.redis.up = false;
    let _ = pending::take();
    let policy = pending::FlushPolicy {
        max_age_ms: 60_000,
        max_samples: 1_000,
        every_request: false,
    };
    assert_eq!(pending::record(&sample(200), 0, policy, true), None);
    assert!(block_on(scrape(&services)).is_err());
    assert_eq!(pending::take().map(|b| b.samples()), Some(1));
}
