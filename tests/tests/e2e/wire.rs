//! What goes over the wire, read back from the emulator's request log:
//! hostile ids stay one encoded segment of the intended route, FindUsersById
//! splits 120 ids into three requests, and the official SDKs' conventions
//! (headers, content type, query encoding) are met.

use finbourne_identity::{CreateUserRequest, RequestOptions};

use crate::support::{self, api_requests, client, create, emulator};

#[tokio::test]
async fn hostile_ids_reach_only_the_intended_path() {
    let emulator = emulator().await;
    let client = client(&emulator.base_url());
    let someone = create(&client, "Kim").await;
    let long = "x".repeat(10_000);
    let hostile = [
        ("../roles", "..%2Froles"),
        ("a/b", "a%2Fb"),
        ("a?b", "a%3Fb"),
        ("a#b", "a%23b"),
        ("%2e%2e", "%252e%252e"),
        ("%", "%25"),
        ("ünïcödé", "%C3%BCn%C3%AFc%C3%B6d%C3%A9"),
        (long.as_str(), long.as_str()),
        (
            &format!("{}/../{}", someone.id, someone.id),
            &format!("{}%2F..%2F{}", someone.id, someone.id),
        ),
    ];
    for (id, encoded) in hostile {
        emulator.clear_requests();
        let error = client.users().get_user(id).send().await.unwrap_err();
        let status = error.status().map(|status| status.as_u16());
        assert!(matches!(status, Some(400 | 404)), "{id:.40}: {error}");
        let log = api_requests(&emulator);
        assert_eq!(log.len(), 1, "{id:.40}");
        assert_eq!(
            log[0].path,
            format!("/identity/api/users/{encoded}"),
            "{id:.40}"
        );
        assert_eq!(log[0].operation.as_deref(), Some("GetUser"), "{id:.40}");
    }
    // And the user next door is untouched.
    assert_eq!(emulator.users().len(), 1);
}

#[tokio::test]
async fn find_users_by_id_with_120_ids_sends_three_requests_and_merges() {
    let emulator = emulator().await;
    let client = client(&emulator.base_url());
    let mut created = Vec::new();
    for n in 0..100 {
        created.push(create(&client, &format!("User{n}")).await.id);
    }
    let mut ids = created.clone();
    ids.extend((0..20).map(|n| format!("00uMissing{n}")));
    ids.extend(created[..5].iter().cloned()); // repeated ids are asked once
    emulator.clear_requests();

    let found = client.users().find_users_by_id(ids).send().await.unwrap();

    let values = found.values.unwrap();
    let failed = found.failed.unwrap();
    assert_eq!(values.len(), 100);
    assert_eq!(failed.len(), 20);
    assert!(created.iter().all(|id| values.contains_key(id)));
    let log = api_requests(&emulator);
    assert_eq!(log.len(), 3, "120 distinct ids in requests of at most 50");
    let mut per_request: Vec<usize> = log
        .iter()
        .map(|request| {
            assert_eq!(request.path, "/identity/api/directory");
            request.query.as_deref().unwrap().split('&').count()
        })
        .collect();
    per_request.sort_unstable();
    assert_eq!(per_request, [20, 50, 50]);
}

#[tokio::test]
async fn the_official_sdks_wire_conventions_are_met() {
    let emulator = emulator().await;
    let client = support::builder(&emulator.base_url())
        .access_token(support::TOKEN)
        .application_name("payroll-sync")
        .correlation_id("client-wide")
        .build()
        .unwrap();
    let users = client.users();
    let user = users
        .create_user(&CreateUserRequest::personal(
            "Wim",
            "Wire",
            "wim@example.com",
        ))
        .send()
        .await
        .unwrap();
    users
        .get_user(&user.id)
        .include_roles(true)
        .options(RequestOptions::new().correlation_id("this-call").unwrap())
        .send()
        .await
        .unwrap();
    users
        .list_users()
        .include_deactivated(false)
        .send()
        .await
        .unwrap();
    users.reset_factors(&user.id).send().await.unwrap();

    let log = api_requests(&emulator);
    let [create, get, list, reset] = &log[..] else {
        panic!("four requests: {log:?}")
    };
    for request in &log {
        let header = |name: &str| request.headers.get(name).map(String::as_str);
        assert_eq!(header("x-lusid-sdk-language"), Some("Rust"));
        assert_eq!(
            header("x-lusid-sdk-version"),
            Some(env!("CARGO_PKG_VERSION"))
        );
        assert_eq!(header("x-lusid-application"), Some("payroll-sync"));
        assert_eq!(header("accept"), Some("application/json"));
        assert!(header("user-agent").unwrap().contains("finbourne-identity"));
        let authorization = header("authorization").unwrap();
        assert!(authorization.starts_with("Bearer "), "{authorization}");
        assert!(!authorization.contains(support::TOKEN), "the log masks it");
    }
    assert_eq!(create.headers["content-type"], "application/json");
    assert_eq!(create.headers["correlationid"], "client-wide");
    assert_eq!(get.headers["correlationid"], "this-call");
    assert_eq!(get.query.as_deref(), Some("includeRoles=true"));
    assert_eq!(list.query.as_deref(), Some("includeDeactivated=false"));
    assert_eq!(
        reset.path,
        format!("/identity/api/users/{}/lifecycle/$resetfactors", user.id)
    );
    assert!(
        !reset.headers.contains_key("content-type"),
        "a lifecycle POST has no body"
    );
}
