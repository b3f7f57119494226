//! Usage per client per day and secrets' last use: counted in the isolate, written in the
//! background at a bounded rate, and shown in admin reads.

use edgeauth::Method;
use serde_json::{json, Value};

use crate::*;

/// T0 (2027-01-15T08:00:00Z) as a date, and the days after it.
const DAY0: &str = "2027-01-15";
const DAY1: &str = "2027-01-16";

fn issue(h: &Harness, id: &str, secret: &str) {
    let r = h.token_basic(id, secret, "grant_type=client_credentials");
    assert_eq!(r.status, 200);
}

fn day(usage: &Value, date: &str) -> Value {
    usage["days"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["date"] == date)
        .cloned()
        .unwrap_or(Value::Null)
}

#[test]
fn usage_is_counted_per_day_and_written_at_most_once_a_minute() {
    let h = Harness::new();
    let (id, secret) = h.create(json!({"client_name": "c"}));
    issue(&h, &id, &secret);
    assert_eq!(
        h.store.keys("usage:").len(),
        1,
        "the first token is written at once"
    );
    issue(&h, &id, &secret);
    issue(&h, &id, &secret);
    let path = format!("/admin/clients/{id}/usage");
    let (status, v) = h.admin(Method::Get, &path, None);
    assert_eq!(status, 200);
    assert_eq!(
        day(&v, DAY0),
        json!({"date": DAY0, "tokens": 1}),
        "within the minute"
    );
    h.clock.advance(60);
    let (_, v) = h.admin(Method::Get, &path, None);
    assert_eq!(
        day(&v, DAY0)["tokens"],
        1,
        "this request carries the write out"
    );
    let (_, v) = h.admin(Method::Get, &path, None);
    assert_eq!(day(&v, DAY0)["tokens"], 3);
    // The next UTC day is its own bucket.
    h.clock.advance(16 * 3600);
    issue(&h, &id, &secret);
    let (_, v) = h.admin(Method::Get, &path, None);
    let days = v["days"].as_array().unwrap();
    assert_eq!(days.len(), 30);
    assert_eq!(days[29], json!({"date": DAY1, "tokens": 1}));
    assert_eq!(days[28], json!({"date": DAY0, "tokens": 3}));
    assert_eq!(days[0], json!({"date": "2026-12-18", "tokens": 0}));
    for k in h.store.keys("usage:") {
        assert_eq!(h.store.ttl(&k), Some(35 * 86_400), "{k}");
    }
}

#[test]
fn usage_sums_the_keys_of_every_isolate() {
    let h = Harness::new();
    let (id, secret) = h.create(json!({"client_name": "c"}));
    issue(&h, &id, &secret);
    let keys = h.store.keys(&format!("usage:{id}:{DAY0}:"));
    assert_eq!(keys.len(), 1);
    h.store
        .put_raw(&format!("usage:{id}:{DAY0}:another-isolate"), "41");
    let (_, v) = h.admin(Method::Get, &format!("/admin/clients/{id}/usage"), None);
    assert_eq!(day(&v, DAY0)["tokens"], 42);
    let (status, _) = h.admin(
        Method::Get,
        "/admin/clients/0f8fad5b-d9cb-469f-a165-70867728950e/usage",
        None,
    );
    assert_eq!(status, 404);
}

#[test]
fn last_use_is_written_once_an_hour_beside_the_client_record() {
    let h = Harness::new();
    let (id, secret) = h.create(json!({"client_name": "c"}));
    let record = h.store.get_raw(&format!("client:{id}")).unwrap();
    let secrets = format!("/admin/clients/{id}/secrets");
    let (_, v) = h.admin(Method::Get, &secrets, None);
    assert_eq!(v["secrets"][0]["last_used_at"], Value::Null);
    issue(&h, &id, &secret);
    let (_, v) = h.admin(Method::Get, &secrets, None);
    assert_eq!(v["secrets"][0]["last_used_at"], T0);
    h.clock.advance(3599);
    issue(&h, &id, &secret);
    let (_, v) = h.admin(Method::Get, &format!("/admin/clients/{id}"), None);
    assert_eq!(
        v["secrets"][0]["last_used_at"], T0,
        "not again within the hour"
    );
    h.clock.advance(1);
    issue(&h, &id, &secret);
    let (_, v) = h.admin(Method::Get, &format!("/admin/clients/{id}"), None);
    assert_eq!(v["secrets"][0]["last_used_at"], T0 + 3600);
    assert_eq!(
        h.store.get_raw(&format!("client:{id}")).unwrap(),
        record,
        "the token path never rewrites the client record"
    );
    let sid = v["secrets"][0]["secret_id"].as_str().unwrap();
    h.admin(Method::Delete, &format!("/admin/clients/{id}"), None);
    assert!(h.store.get_raw(&format!("used:{id}:{sid}")).is_none());
}
