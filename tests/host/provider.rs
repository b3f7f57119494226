//! Resources know their provider: `provider_client_id` names the client that serves the API,
//! is checked against the registry, and keeps its client from being deleted.

use edgeauth::Method;
use serde_json::{json, Value};

use crate::*;

const UNKNOWN: &str = "provider_client_id must be the client_id of a registered client";

fn resource(h: &Harness, body: Value) -> (u16, Value) {
    h.admin(Method::Post, "/admin/resources", Some(body))
}

fn invalid(v: &Value) -> Value {
    json!({"error": "invalid_client_metadata", "error_description": v})
}

#[test]
fn a_resource_has_no_provider_by_default_and_names_one_on_create() {
    let h = Harness::new();
    let (status, v) = resource(&h, json!({"identifier": "urn:api:a", "name": "A"}));
    assert_eq!(status, 201);
    assert_eq!(v["provider_client_id"], Value::Null);
    let (api, _) = h.create(json!({"client_name": "billing api"}));
    let (status, v) = resource(
        &h,
        json!({"identifier": "urn:api:b", "name": "B", "provider_client_id": api}),
    );
    assert_eq!(status, 201, "{v}");
    let id = v["resource_id"].as_str().unwrap();
    assert_eq!(
        v,
        json!({"resource_id": id, "identifier": "urn:api:b", "name": "B", "scopes": [],
               "access_token_lifetime": null, "provider_client_id": api,
               "created_at": T0, "updated_at": T0})
    );
    let (_, read) = h.admin(Method::Get, &format!("/admin/resources/{id}"), None);
    assert_eq!(read, v);
}

#[test]
fn the_provider_is_set_changed_and_removed_by_patch() {
    let h = Harness::new();
    let (_, v) = resource(&h, json!({"identifier": "urn:api:a", "name": "A"}));
    let path = format!("/admin/resources/{}", v["resource_id"].as_str().unwrap());
    let (first, _) = h.create(json!({"client_name": "one"}));
    let (second, _) = h.create(json!({"client_name": "two"}));
    for provider in [&first, &second] {
        let (status, v) = h.admin(
            Method::Patch,
            &path,
            Some(json!({"provider_client_id": provider})),
        );
        assert_eq!((status, &v["provider_client_id"]), (200, &json!(provider)));
    }
    let (_, v) = h.admin(Method::Patch, &path, Some(json!({"name": "renamed"})));
    assert_eq!(v["provider_client_id"], json!(second), "absent leaves it");
    let (status, v) = h.admin(
        Method::Patch,
        &path,
        Some(json!({"provider_client_id": null})),
    );
    assert_eq!((status, &v["provider_client_id"]), (200, &Value::Null));
}

#[test]
fn a_provider_must_be_a_registered_client() {
    let h = Harness::new();
    let (_, v) = resource(&h, json!({"identifier": "urn:api:a", "name": "A"}));
    let path = format!("/admin/resources/{}", v["resource_id"].as_str().unwrap());
    let nobody = "0f8fad5b-d9cb-469f-a165-70867728950e";
    for bad in [
        json!(nobody),
        json!("not-a-uuid"),
        json!(nobody.to_uppercase()),
    ] {
        let body = json!({"identifier": "urn:api:b", "name": "B", "provider_client_id": bad});
        assert_eq!(resource(&h, body), (422, invalid(&json!(UNKNOWN))), "{bad}");
        let patch = json!({"provider_client_id": bad});
        assert_eq!(
            h.admin(Method::Patch, &path, Some(patch)),
            (422, invalid(&json!(UNKNOWN))),
            "{bad}"
        );
    }
    let (status, _) = h.admin(
        Method::Post,
        "/admin/resources",
        Some(json!({"identifier": "urn:api:c", "name": "C", "provider_client_id": 7})),
    );
    assert_eq!(status, 400, "not a string: malformed JSON for the field");
    let (_, list) = h.admin(Method::Get, "/admin/resources", None);
    assert_eq!(
        list["resources"].as_array().unwrap().len(),
        1,
        "nothing stored"
    );
}

#[test]
fn a_client_providing_a_resource_cannot_be_deleted() {
    let h = Harness::new();
    let (api, _) = h.create(json!({"client_name": "api"}));
    let mut paths = Vec::new();
    for i in 0..2 {
        let (_, v) = resource(
            &h,
            json!({"identifier": format!("urn:api:{i}"), "name": "A", "provider_client_id": api}),
        );
        paths.push(format!(
            "/admin/resources/{}",
            v["resource_id"].as_str().unwrap()
        ));
    }
    let client = format!("/admin/clients/{api}");
    assert_eq!(
        h.admin(Method::Delete, &client, None),
        (
            409,
            json!({"error": "conflict", "error_description": "the client provides 2 resources; clear their provider_client_id first"})
        )
    );
    h.admin(
        Method::Patch,
        &paths[0],
        Some(json!({"provider_client_id": null})),
    );
    assert_eq!(
        h.admin(Method::Delete, &client, None).1["error_description"],
        "the client provides 1 resource; clear their provider_client_id first"
    );
    assert_eq!(h.admin(Method::Get, &client, None).0, 200, "still there");
    h.admin(Method::Delete, &paths[1], None);
    assert_eq!(h.admin(Method::Delete, &client, None), (204, Value::Null));
}

#[test]
fn setting_the_provider_is_audited_by_field_name() {
    let h = Harness::new();
    let (api, _) = h.create(json!({"client_name": "api"}));
    let (_, v) = resource(
        &h,
        json!({"identifier": "urn:api:a", "name": "A", "provider_client_id": api}),
    );
    let (_, events) = h.admin(Method::Get, "/admin/audit", None);
    let created = &events["events"][0];
    assert_eq!(created["action"], "resource.created");
    assert_eq!(created["resource_id"], v["resource_id"]);
    assert_eq!(
        created["detail"],
        "resource urn:api:a created with identifier, name, provider_client_id"
    );
}
