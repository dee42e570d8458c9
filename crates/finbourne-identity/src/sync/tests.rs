//! The planner on users in memory: every kind of entry, and the guard.

use std::convert::Infallible;

use futures_util::stream;
use identity_models::{CreateUserRequest, UserResponse, UserType};
use serde_json::json;

use super::*;

fn user(id: &str, login: &str, last: &str, kind: &str, status: &str) -> UserResponse {
    serde_json::from_value(json!({
        "id": id, "emailAddress": login, "login": login, "firstName": "F", "lastName": last,
        "type": kind, "status": status, "external": false,
        "alternativeUserIds": {"employeeId": format!("E-{id}")},
    }))
    .unwrap()
}

fn person(login: &str, last: &str) -> CreateUserRequest {
    CreateUserRequest::personal("F", last, login)
}

async fn planned(
    desired: Vec<Desired>,
    domain: Vec<UserResponse>,
    options: SyncOptions,
) -> (Plan, Vec<Change>) {
    let desired = stream::iter(desired.into_iter().map(Ok::<_, Infallible>));
    let domain = stream::iter(domain.into_iter().map(Ok));
    let plan = plan_against(desired, domain, &options, "http://test/identity")
        .await
        .unwrap();
    let changes = plan.changes().map(Result::unwrap).collect();
    (plan, changes)
}

fn actions(changes: &[Change]) -> Vec<String> {
    changes
        .iter()
        .map(|change| format!("{} {}", change.action(), change.login().unwrap_or("-")))
        .collect()
}

#[tokio::test]
async fn by_login_each_kind_of_entry_and_an_unchanged_directory_plans_nothing() {
    let domain = vec![
        user("u1", "Ann@acme.com", "Lee", "Personal", "ACTIVE"),
        user("u2", "bob@acme.com", "Ray", "Personal", "ACTIVE"),
        user("u3", "gone@acme.com", "Old", "Personal", "DEPROVISIONED"),
        user("u4", "bot@acme.com", "Bot", "Service", "ACTIVE"),
        user("u5", "cy@acme.com", "Cy", "Personal", "PROVISIONED"),
    ];
    let desired = vec![
        Desired::user(1, person("ann@ACME.com", "Lee")),
        Desired::user(2, person("bob@acme.com", "Ray-Smith")),
        Desired::user(3, person("gone@acme.com", "Old")),
        Desired::user(4, person("bot@acme.com", "Bot")),
        Desired::user(5, person("new@acme.com", "New")),
        Desired::user(6, person("x", "Bad")),
    ];
    let (plan, changes) = planned(desired, domain.clone(), SyncOptions::new()).await;
    assert_eq!(
        actions(&changes),
        [
            "update bob@acme.com",
            "conflict bot@acme.com",
            "keep cy@acme.com",
            "conflict gone@acme.com",
            "create new@acme.com",
            "invalid x",
        ]
    );
    let summary = plan.summary();
    assert_eq!(
        (summary.create, summary.update, summary.unchanged),
        (1, 1, 1)
    );
    assert_eq!((summary.conflict, summary.invalid, summary.keep), (2, 1, 1));
    assert_eq!(summary.domain_users, 4);
    let Change::Update {
        changes: fields,
        number,
        ..
    } = &changes[0]
    else {
        panic!()
    };
    assert_eq!(*number, 1);
    assert_eq!(fields[0].field, UserField::LastName);
    assert_eq!(
        (fields[0].old.as_deref(), fields[0].new.as_deref()),
        (Some("Ray"), Some("Ray-Smith"))
    );

    // The domain as the directory says: nothing to do.
    let desired = domain
        .iter()
        .filter(|user| user.status != UserStatus::Deprovisioned)
        .enumerate()
        .map(|(at, user)| {
            let mut request = person(&user.login, &user.last_name);
            request.user_type = user.user_type.clone();
            request.alternative_user_ids = user.alternative_user_ids.clone();
            Desired::user(at as u64 + 1, request)
        })
        .collect();
    let (plan, _) = planned(desired, domain, SyncOptions::new()).await;
    assert!(plan.summary().is_empty(), "{:?}", plan.summary());
    assert_eq!(plan.summary().unchanged, 4);
}

use identity_models::UserStatus;

#[tokio::test]
async fn a_prune_spares_the_caller_and_service_users_and_the_guard_counts_the_domain() {
    let domain: Vec<UserResponse> = (1..=40)
        .map(|n| {
            user(
                &format!("u{n}"),
                &format!("p{n}@acme.com"),
                "Lo",
                "Personal",
                "ACTIVE",
            )
        })
        .chain([
            user("me", "Me@acme.com", "Me", "Personal", "ACTIVE"),
            user("bot", "bot@acme.com", "Bot", "Service", "ACTIVE"),
        ])
        .collect();
    let desired: Vec<Desired> = (3..=40)
        .map(|n| Desired::user(n, person(&format!("p{n}@acme.com"), "Lo")))
        .collect();
    let prune = SyncOptions::new().prune(Prune::new().caller("me@acme.com"));
    let (plan, changes) = planned(desired.clone(), domain.clone(), prune).await;
    assert_eq!(
        actions(&changes),
        [
            "keep bot@acme.com",
            "keep Me@acme.com",
            "delete p1@acme.com",
            "delete p2@acme.com"
        ]
    );
    assert_eq!(plan.summary().delete, 2);
    // 2 of 42: allowed by 5 %, not by 1 user.
    assert!(Guard::default().check(plan.summary()).is_ok());
    let strict = Guard {
        max_deletes: 1,
        ..Guard::default()
    };
    assert!(
        strict
            .check(plan.summary())
            .unwrap_err()
            .contains("more than the 1 allowed")
    );
    let share = Guard {
        max_deletes: 100,
        max_deletes_percent: 1.0,
    };
    assert_eq!(share.allowed(42), 0);

    let both = SyncOptions::new().prune(
        Prune::new()
            .caller("me@acme.com")
            .types([UserType::Personal, UserType::Service]),
    );
    let (plan, _) = planned(desired.clone(), domain.clone(), both).await;
    assert_eq!(plan.summary().delete, 3);

    // A line whose key cannot be read stops the prune.
    let mut unreadable = desired;
    unreadable.push(Desired::Invalid(InvalidLine {
        line: 99,
        message: "not JSON".into(),
        ..InvalidLine::default()
    }));
    let (plan, _) = planned(
        unreadable,
        domain,
        SyncOptions::new().prune(Prune::new().caller("me@acme.com")),
    )
    .await;
    assert!(
        Guard::default()
            .check(plan.summary())
            .unwrap_err()
            .contains("could not be read")
    );
}

#[tokio::test]
async fn by_an_alternative_id_a_changed_email_is_one_update_and_unkeyed_users_are_not_the_directorys()
 {
    let mut unkeyed = user("u9", "taken@acme.com", "Tk", "Personal", "ACTIVE");
    unkeyed.alternative_user_ids = None;
    let domain = vec![
        user("u1", "ann@acme.com", "Lee", "Personal", "ACTIVE"),
        user("u2", "bob@acme.com", "Ray", "Personal", "ACTIVE"),
        unkeyed,
    ];
    let desired = vec![
        Desired::user(
            1,
            person("ann.lee@acme.com", "Lee").with_alternative_user_id("employeeId", "E-u1"),
        ),
        Desired::user(
            2,
            person("taken@acme.com", "New").with_alternative_user_id("employeeId", "E-new"),
        ),
        Desired::user(3, person("nokey@acme.com", "No")),
    ];
    let options = SyncOptions::new()
        .key(Key::AlternativeUserId("employeeId".into()))
        .prune(Prune::new().caller("admin@acme.com"));
    let (plan, changes) = planned(desired, domain, options).await;
    assert_eq!(
        actions(&changes),
        [
            "invalid nokey@acme.com",
            "conflict taken@acme.com",
            "update ann@acme.com",
            "delete bob@acme.com"
        ]
    );
    let Change::Update {
        changes: fields, ..
    } = &changes[2]
    else {
        panic!()
    };
    let fields: Vec<String> = fields
        .iter()
        .map(|change| change.field.to_string())
        .collect();
    assert_eq!(fields, ["emailAddress", "login"]);
    let Change::Conflict { reason, id, .. } = &changes[1] else {
        panic!()
    };
    assert_eq!(
        (*reason, id.as_deref()),
        (ConflictReason::LoginTaken, Some("u9"))
    );
    assert_eq!(plan.summary().unmanaged, 1);
}

#[tokio::test]
async fn a_plan_written_and_read_back_is_the_same_plan() {
    let domain = vec![user("u1", "ann@acme.com", "Lee", "Personal", "ACTIVE")];
    let desired = vec![
        Desired::user(1, person("ann@acme.com", "Lee-Smith")),
        Desired::user(2, person("bo@acme.com", "Chan")),
        Desired::user(3, person("bo@acme.com", "Chan")),
    ];
    let (plan, changes) = planned(desired, domain, SyncOptions::new()).await;
    let mut text = Vec::new();
    plan.write_json(&mut text).unwrap();
    let document: serde_json::Value = serde_json::from_slice(&text).unwrap();
    assert_eq!(document["plan"]["format"], PLAN_FORMAT);
    let back = Plan::read_json(text.as_slice()).unwrap();
    assert_eq!(back.summary(), plan.summary());
    assert_eq!(back.info(), plan.info());
    let again: Vec<Change> = back.changes().map(Result::unwrap).collect();
    assert_eq!(again, changes);
    // Pretty-printed, it reads the same.
    let pretty = serde_json::to_vec_pretty(&document).unwrap();
    assert_eq!(
        Plan::read_json(pretty.as_slice()).unwrap().summary(),
        plan.summary()
    );
    for bad in [
        &b"{\"changes\":[]}"[..],
        b"[1,2]",
        b"{\"plan\":{\"format\":\"other\"}}",
        b"{\"plan\":",
    ] {
        assert!(
            matches!(Plan::read_json(bad), Err(SyncError::NotAPlan(_))),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[tokio::test]
async fn lines_sharing_a_key_are_each_a_conflict_naming_a_few_and_lines_without_one_invalid() {
    let domain = vec![user("u1", "ann@acme.com", "Lee", "Personal", "ACTIVE")];
    // Twenty-five lines with one employee id, then twenty-five with none.
    let mut desired: Vec<Desired> = (1..=25)
        .map(|n| {
            Desired::user(
                n,
                person(&format!("p{n}@acme.com"), "Same")
                    .with_alternative_user_id("employeeId", "E-9"),
            )
        })
        .collect();
    desired.extend((26..=50).map(|n| Desired::user(n, person(&format!("p{n}@acme.com"), "None"))));
    let options = SyncOptions::new().key(Key::AlternativeUserId("employeeId".into()));
    let (plan, changes) = planned(desired, domain, options).await;
    let summary = plan.summary();
    assert_eq!((summary.conflict, summary.invalid), (25, 25));
    let messages: Vec<&str> = changes
        .iter()
        .filter_map(|change| match change {
            Change::Conflict { message, .. } => Some(message.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(messages.len(), 25);
    // Each names ten of the lines (in the order of the sort) and says there
    // are more.
    for message in messages {
        let (lines, rest) = message.split_once(" and more").unwrap();
        assert_eq!(lines.split(", ").count(), 10, "{message}");
        assert_eq!(
            rest,
            " have the same alternative user id employeeId: none of them is synced"
        );
    }
}
