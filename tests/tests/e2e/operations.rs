//! Every operation of the facade against the emulator over loopback, with
//! the answer checked field by field, and every error path: not found,
//! validation with field errors, invalid lifecycle transitions, 401.

use finbourne_identity::{
    CreateUserRequest, ErrorKind, RoleId, UpdateUserRequest, UpdateUserSchemaRequest,
    UserSchemaProperty, UserStatus, UserType,
};

use crate::support::{self, client, create, emulator, password_client};

#[tokio::test]
async fn the_whole_lifecycle_through_every_operation() {
    let emulator = emulator().await;
    let client = client(&emulator.base_url());
    let users = client.users();

    // Schema first: alternative ids must be properties of it.
    let schema = UpdateUserSchemaRequest::new(vec![UserSchemaProperty::new("ssoId", "SSO id")]);
    let written = users.update_user_schema(&schema).send().await.unwrap();
    assert_eq!(
        written.alternative_user_ids,
        Some(schema.alternative_user_ids.clone())
    );
    let read = users.get_user_schema().send().await.unwrap();
    assert_eq!(read, written);

    // CreateUser, Personal and Service.
    let expiry = time::macros::datetime!(2031-01-02 03:04:05.1234567 +02:00);
    let ann = users
        .create_user(
            &CreateUserRequest::personal("Ann", "Lee", "ann.lee@example.com")
                .with_role(RoleId::new("default", "reader"))
                .with_alternative_user_id("ssoId", "sso-ann")
                .with_user_expiry(expiry),
        )
        .wait_for_reindex(true)
        .send()
        .await
        .unwrap();
    assert!(!ann.id.is_empty());
    assert_eq!(ann.first_name, "Ann");
    assert_eq!(ann.last_name, "Lee");
    assert_eq!(ann.email_address, "ann.lee@example.com");
    assert_eq!(ann.login, "ann.lee@example.com");
    assert_eq!(ann.user_type, UserType::Personal);
    assert_eq!(ann.status, UserStatus::Provisioned);
    assert!(!ann.external);
    assert!(ann.created.is_some());
    assert_eq!(ann.user_expiry, Some(expiry));
    assert_eq!(
        ann.alternative_user_ids.as_ref().unwrap()["ssoId"].as_deref(),
        Some("sso-ann")
    );

    let bot = users
        .create_user(
            &CreateUserRequest::service("Build", "Bot", "ops@example.com", "build-bot")
                .with_second_email_address("oncall@example.com"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(bot.user_type, UserType::Service);
    assert_eq!(bot.login, "build-bot");
    assert_eq!(
        bot.second_email_address.as_deref(),
        Some("oncall@example.com")
    );

    // GetUser, with and without roles; GetUserFromLogin.
    let plain = users.get_user(&ann.id).send().await.unwrap();
    assert!(plain.roles.as_ref().is_none_or(Vec::is_empty));
    let with_roles = users
        .get_user(&ann.id)
        .include_roles(true)
        .send()
        .await
        .unwrap();
    let roles = with_roles.roles.unwrap();
    assert_eq!(roles.len(), 1);
    assert_eq!(roles[0].role_id, RoleId::new("default", "reader"));
    let by_login = users
        .get_user_from_login("ann.lee@example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(by_login.id, ann.id);

    // ListUsers, ListRunnableUsers.
    let listed = users.list_users().send().await.unwrap();
    let mut ids: Vec<_> = listed.iter().map(|user| user.id.as_str()).collect();
    ids.sort_unstable();
    let mut expected = vec![ann.id.as_str(), bot.id.as_str()];
    expected.sort_unstable();
    assert_eq!(ids, expected);
    let runnable = users.list_runnable_users().send().await.unwrap();
    assert_eq!(runnable.len(), 1);
    assert_eq!(runnable[0].id, bot.id);

    // FindUsersById with one missing id.
    let found = users
        .find_users_by_id([ann.id.clone(), bot.id.clone(), "00uMissing".to_owned()])
        .send()
        .await
        .unwrap();
    let values = found.values.unwrap();
    assert_eq!(values.len(), 2);
    assert_eq!(
        values[&ann.id].email.as_deref(),
        Some("ann.lee@example.com")
    );
    assert_eq!(values[&bot.id].login.as_deref(), Some("build-bot"));
    let failed = found.failed.unwrap();
    assert_eq!(failed.keys().collect::<Vec<_>>(), ["00uMissing"]);

    // UpdateUser: get, change, put.
    let mut update = UpdateUserRequest::from_user(&ann);
    update.last_name = "Lee-Smith".into();
    let updated = users.update_user(&ann.id, &update).send().await.unwrap();
    assert_eq!(updated.last_name, "Lee-Smith");
    assert_eq!(updated.first_name, "Ann");
    assert_eq!(
        users.get_user(&ann.id).send().await.unwrap().last_name,
        "Lee-Smith"
    );

    // Lifecycle, following the table of the contract.
    let status = |id: String| {
        let users = users.clone();
        async move { users.get_user(&id).send().await.unwrap().status }
    };
    users.send_activation_email(&ann.id).send().await.unwrap();
    assert_eq!(status(ann.id.clone()).await, UserStatus::Provisioned);

    emulator
        .set_user_status(&ann.id, UserStatus::Active)
        .unwrap();
    let temporary = users.expire_password(&ann.id).send().await.unwrap();
    assert!(!temporary.password.is_empty());
    assert!(!format!("{temporary:?}").contains(&temporary.password));
    assert_eq!(status(ann.id.clone()).await, UserStatus::PasswordExpired);

    users.reset_password(&ann.id).send().await.unwrap();
    assert_eq!(status(ann.id.clone()).await, UserStatus::Recovery);

    users.reset_factors(&ann.id).send().await.unwrap();
    assert_eq!(status(ann.id.clone()).await, UserStatus::Recovery);

    emulator
        .set_user_status(&ann.id, UserStatus::LockedOut)
        .unwrap();
    users.unlock_user(&ann.id).send().await.unwrap();
    assert_eq!(status(ann.id.clone()).await, UserStatus::Active);

    emulator
        .set_user_status(&ann.id, UserStatus::Suspended)
        .unwrap();
    users.unsuspend_user(&ann.id).send().await.unwrap();
    assert_eq!(status(ann.id.clone()).await, UserStatus::Active);

    // DeleteUser: soft, then purge.
    users.delete_user(&ann.id).send().await.unwrap();
    assert_eq!(status(ann.id.clone()).await, UserStatus::Deprovisioned);
    assert_eq!(users.list_users().send().await.unwrap().len(), 1);
    let all = users
        .list_users()
        .include_deactivated(true)
        .send()
        .await
        .unwrap();
    assert!(
        all.iter()
            .any(|user| user.id == ann.id && user.status == UserStatus::Deprovisioned)
    );

    users.delete_user(&ann.id).purge(true).send().await.unwrap();
    let gone = users.get_user(&ann.id).send().await.unwrap_err();
    assert!(gone.is_not_found(), "{gone}");
    let all = users
        .list_users()
        .include_deactivated(true)
        .send()
        .await
        .unwrap();
    assert!(all.iter().all(|user| user.id != ann.id));
}

#[tokio::test]
async fn a_missing_user_is_a_typed_404_with_code_and_request_id() {
    let emulator = emulator().await;
    let error = client(&emulator.base_url())
        .users()
        .get_user("00uNobody")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound);
    assert!(error.is_not_found());
    assert_eq!(
        error.api().unwrap().code(),
        Some(finbourne_identity::ErrorCode::UserNotFound)
    );
    let request_id = error.request_id().unwrap().to_owned();
    assert!(error.to_string().contains(&request_id), "{error}");
    assert!(!error.is_retryable());
    assert!(error.may_have_been_sent());
}

#[tokio::test]
async fn validation_failures_name_each_field() {
    let emulator = emulator().await;
    let mut bad = CreateUserRequest::personal("", "L", "ann@example.com");
    bad.login = "someone-else@example.com".into();
    let error = client(&emulator.base_url())
        .users()
        .create_user(&bad)
        .send()
        .await
        .unwrap_err();
    assert!(error.is_validation(), "{error}");
    let fields = error.field_errors().unwrap();
    for field in ["firstName", "lastName", "login"] {
        assert!(fields.contains_key(field), "{field} in {fields:?}");
    }
    let text = error.to_string();
    assert!(text.contains("firstName"), "{text}");
    assert!(emulator.users().is_empty(), "nothing created");
}

#[tokio::test]
async fn invalid_lifecycle_transitions_give_the_documented_codes() {
    let emulator = emulator().await;
    let client = client(&emulator.base_url());
    let users = client.users();
    let user = create(&client, "Cas").await; // PROVISIONED

    let code = |result: Result<_, finbourne_identity::Error>| {
        let error = result.unwrap_err();
        assert_eq!(
            error.status().map(|status| status.as_u16()),
            Some(400),
            "{error}"
        );
        error.api().unwrap().code().unwrap().number()
    };
    assert_eq!(code(users.unlock_user(&user.id).send().await), 706);
    assert_eq!(
        code(users.expire_password(&user.id).send().await.map(drop)),
        719
    );
    assert_eq!(code(users.reset_password(&user.id).send().await), 718);
    assert_eq!(code(users.unsuspend_user(&user.id).send().await), 717);
    let duplicate = CreateUserRequest::personal("Cas", "Tester", "cas@example.com");
    assert_eq!(
        code(users.create_user(&duplicate).send().await.map(drop)),
        658
    );

    users.delete_user(&user.id).send().await.unwrap();
    let update = UpdateUserRequest::from_user(&user);
    assert_eq!(
        code(users.update_user(&user.id, &update).send().await.map(drop)),
        705
    );
}

#[tokio::test]
async fn a_refused_static_token_is_a_401_answer() {
    let emulator = emulator().await;
    let client = support::builder(&emulator.base_url())
        .access_token("not-a-token-the-emulator-knows")
        .build()
        .unwrap();
    let error = client.users().list_users().send().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Auth);
    assert!(error.api().unwrap().is_unauthorized(), "{error}");
    // It says which credential was refused, never the token.
    assert!(
        error
            .to_string()
            .contains("the token refused was a personal access token"),
        "{error}"
    );
    assert!(!error.to_string().contains("not-a-token-the-emulator-knows"));
}

#[tokio::test]
async fn a_revoked_token_is_refreshed_and_the_call_replayed_once() {
    let emulator = emulator().await;
    let client = password_client(&emulator);
    client.users().list_users().send().await.unwrap();
    emulator.reset(); // forgets every token the emulator issued
    emulator.clear_requests();

    let listed = client.users().list_users().send().await.unwrap();
    assert!(listed.is_empty());
    let log: Vec<(Option<String>, Option<u16>)> = emulator
        .requests()
        .into_iter()
        .map(|request| (request.operation, request.status))
        .collect();
    let statuses: Vec<_> = log
        .iter()
        .filter(|(operation, _)| operation.as_deref() == Some("ListUsers"))
        .map(|(_, status)| *status)
        .collect();
    assert_eq!(statuses, [Some(401), Some(200)], "{log:?}");
    assert!(
        log.iter().any(
            |(operation, status)| operation.as_deref() == Some("Token") && *status == Some(200)
        )
    );
}

#[tokio::test]
async fn nothing_listening_is_no_answer_and_provably_not_sent() {
    let emulator = emulator().await;
    let root = emulator.base_url();
    emulator.shutdown().await;
    let client = finbourne_identity::IdentityClient::builder()
        .environment(false)
        .base_url(root)
        .access_token(support::TOKEN)
        .transient_retries(0)
        .build()
        .unwrap();
    let error = client.users().list_users().send().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NoAnswer, "{error:?}");
    assert!(!error.may_have_been_sent(), "{error:?}");
}

#[tokio::test]
async fn clones_of_a_client_share_one_token() {
    let emulator = emulator().await;
    let client = password_client(&emulator);
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let clone = client.clone();
            tokio::spawn(async move { clone.users().list_users().send().await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    let token_requests = emulator
        .requests()
        .iter()
        .filter(|request| request.operation.as_deref() == Some("Token"))
        .count();
    assert_eq!(token_requests, 1, "eight clones, one token cache");
}
