//! Unit tests of the directory's rules (the HTTP tests check the wiring).

use super::*;

fn ada() -> CreateUserRequest {
    CreateUserRequest::personal("Ada", "Lovelace", "ada@example.com")
}

fn bot() -> CreateUserRequest {
    CreateUserRequest::service("Build", "Bot", "ops@example.com", "build-bot")
}

fn invalid_fields(error: DomainError) -> Vec<String> {
    match error {
        DomainError::InvalidRequest(errors) => errors.into_keys().collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[test]
fn create_provisions_with_generated_id_and_stamps() {
    let mut directory = Directory::default();
    let user = directory.create(ada()).unwrap();
    assert!(user.id.starts_with("00u") && user.id.len() == 20);
    assert_eq!(user.status, UserStatus::Provisioned);
    assert!(!user.external);
    assert!(user.created.is_some() && user.created == user.last_updated);
    assert_eq!(directory.get(&user.id).unwrap(), &user);
}

#[test]
fn every_violation_is_reported_at_once() {
    let mut directory = Directory::default();
    let mut request = CreateUserRequest::personal("", "X", "ada@example.com")
        .with_alternative_user_id("employeeNo", "42");
    request.user_type = UserType::Other("Robot".into());
    let fields = invalid_fields(directory.create(request).unwrap_err());
    assert_eq!(
        fields,
        ["alternativeUserIds", "firstName", "lastName", "type"]
    );
    assert_eq!(directory.len(), 0);
}

#[test]
fn logins_are_unique_case_insensitively_even_after_delete() {
    let mut directory = Directory::default();
    let user = directory.create(ada()).unwrap();
    let shouting = CreateUserRequest::personal("Ada", "Lovelace", "ADA@example.com");
    assert_eq!(
        directory.create(shouting.clone()),
        Err(DomainError::AlreadyExists("ADA@example.com".into()))
    );
    directory.delete(&user.id, false).unwrap();
    assert!(matches!(
        directory.create(shouting.clone()),
        Err(DomainError::AlreadyExists(_))
    ));
    directory.delete(&user.id, true).unwrap();
    assert!(directory.create(shouting).is_ok());
}

/// The users a list answer holds: those at the directory's places that the
/// listing keeps, as the list body reads them.
fn listed(directory: &Directory, listing: Listing) -> Vec<&UserResponse> {
    directory
        .places()
        .into_iter()
        .filter_map(|place| directory.at_place(place))
        .filter(|user| listing.keeps(user))
        .collect()
}

fn users(include_deactivated: bool) -> Listing {
    Listing::Users {
        include_deactivated,
    }
}

#[test]
fn delete_keeps_the_user_listed_only_with_deactivated_and_purge_removes_it() {
    let mut directory = Directory::default();
    let user = directory.create(ada()).unwrap();
    directory.delete(&user.id, false).unwrap();
    assert!(listed(&directory, users(false)).is_empty());
    assert_eq!(
        listed(&directory, users(true))[0].status,
        UserStatus::Deprovisioned
    );
    directory.delete(&user.id, false).unwrap();
    directory.delete(&user.id, true).unwrap();
    assert!(listed(&directory, users(true)).is_empty());
    assert_eq!(
        directory.delete(&user.id, true),
        Err(DomainError::UserNotFound(user.id))
    );
}

#[test]
fn runnable_users_are_live_service_users() {
    let mut directory = Directory::default();
    directory.create(ada()).unwrap();
    let live = directory.create(bot()).unwrap();
    let gone = directory
        .create(CreateUserRequest::service(
            "Old",
            "Bot",
            "old@example.com",
            "old-bot",
        ))
        .unwrap();
    directory.delete(&gone.id, false).unwrap();
    let runnable: Vec<_> = listed(&directory, Listing::Runnable)
        .into_iter()
        .map(|user| user.id.clone())
        .collect();
    assert_eq!(runnable, [live.id]);
}

#[test]
fn alternative_ids_must_be_schema_properties() {
    let mut directory = Directory::default();
    let request = ada().with_alternative_user_id("employeeNo", "42");
    assert_eq!(
        invalid_fields(directory.create(request.clone()).unwrap_err()),
        ["alternativeUserIds"]
    );
    directory
        .update_schema(UpdateUserSchemaRequest::new(vec![UserSchemaProperty::new(
            "employeeNo",
            "HR number",
        )]))
        .unwrap();
    let user = directory.create(request).unwrap();
    assert_eq!(
        user.alternative_user_ids.unwrap()["employeeNo"].as_deref(),
        Some("42")
    );
}

#[test]
fn schema_updates_are_validated_and_names_unique() {
    let mut directory = Directory::default();
    let bad = UpdateUserSchemaRequest::new(vec![
        UserSchemaProperty::new("bad name", "x"),
        UserSchemaProperty::new("dup", "x"),
        UserSchemaProperty::new("DUP", "x"),
    ]);
    let fields = invalid_fields(directory.update_schema(bad).unwrap_err());
    assert_eq!(fields, ["alternativeUserIds", "alternativeUserIds[0].name"]);
    assert_eq!(directory.schema().alternative_user_ids, Some(vec![]));
}

#[test]
fn update_replaces_details_and_checks_type_rules_login_and_deletion() {
    let mut directory = Directory::default();
    let user = directory
        .create(ada().with_role(RoleId::new("default", "analyst")))
        .unwrap();
    let other = directory.create(bot()).unwrap();

    let mut change = UpdateUserRequest::from_user(&user);
    change.first_name = "Augusta".into();
    change.roles = None;
    let updated = directory.update(&user.id, change.clone()).unwrap();
    assert_eq!(updated.first_name, "Augusta");
    assert_eq!(
        updated.roles.as_ref().map(Vec::len),
        Some(1),
        "roles kept when not given"
    );
    assert!(updated.last_updated >= user.last_updated);

    let mut personal_rule = change.clone();
    personal_rule.login = "someone@example.com".into();
    assert_eq!(
        invalid_fields(directory.update(&user.id, personal_rule).unwrap_err()),
        ["login"]
    );

    let mut taken = UpdateUserRequest::from_user(&other);
    taken.login = "ADA@example.com".into();
    assert!(matches!(
        directory.update(&other.id, taken),
        Err(DomainError::AlreadyExists(_))
    ));

    assert!(matches!(
        directory.update("00uMissing", change.clone()),
        Err(DomainError::UserNotFound(_))
    ));
    directory.delete(&user.id, false).unwrap();
    assert!(matches!(
        directory.update(&user.id, change),
        Err(DomainError::Refused {
            refusal: Refusal::Deleted,
            ..
        })
    ));
}

#[test]
fn roles_keep_one_id_across_users_and_show_only_when_asked() {
    let mut directory = Directory::default();
    let role = RoleId::new("default", "analyst");
    let first = directory
        .create(ada().with_role(role.clone()).with_role(role.clone()))
        .unwrap();
    let second = directory.create(bot().with_role(role)).unwrap();
    let first_roles = first.roles.clone().unwrap();
    assert_eq!(first_roles.len(), 1);
    assert_eq!(first_roles[0].name, "default/analyst");
    assert_eq!(first_roles[0].source, "LUSID");
    assert_eq!(first_roles[0].id, second.roles.clone().unwrap()[0].id);
    assert_eq!(present(&first, false).roles, None);
    assert_eq!(present(&first, true).roles, Some(first_roles));
}

#[test]
fn find_splits_found_and_missing_and_limits_the_count() {
    let mut directory = Directory::default();
    let user = directory
        .create(bot().with_second_email_address("second@example.com"))
        .unwrap();
    let found = directory
        .find(&[user.id.clone(), "00uMissing".into()])
        .unwrap();
    let summary = &found.values.unwrap()[&user.id];
    assert_eq!(summary.email.as_deref(), Some("ops@example.com"));
    assert_eq!(summary.second_email.as_deref(), Some("second@example.com"));
    assert!(found.failed.unwrap().contains_key("00uMissing"));
    let many: Vec<String> = (0..=MAX_FIND_IDS).map(|n| format!("id{n}")).collect();
    assert!(matches!(
        directory.find(&many),
        Err(DomainError::InvalidParameter(_))
    ));
    assert!(directory.find(&many[..MAX_FIND_IDS]).is_ok());
}

#[test]
fn lifecycle_applies_the_table_and_expire_answers_a_password() {
    let mut directory = Directory::default();
    let user = directory.create(ada()).unwrap();
    let refused = directory
        .lifecycle(&user.id, LifecycleAction::Unlock)
        .unwrap_err();
    assert!(matches!(
        refused,
        DomainError::Refused {
            refusal: Refusal::NotLockedOut,
            ..
        }
    ));
    directory.set_status(&user.id, UserStatus::Active).unwrap();
    let password = directory.expire_password(&user.id).unwrap();
    assert!(password.password.len() >= 12);
    let expired = directory.get(&user.id).unwrap();
    assert_eq!(expired.status, UserStatus::PasswordExpired);
    assert!(expired.password_changed.is_some());
    assert_eq!(
        directory.lifecycle(&user.id, LifecycleAction::ResetPassword),
        Ok(())
    );
    assert_eq!(
        directory.get(&user.id).unwrap().status,
        UserStatus::Recovery
    );
    assert!(matches!(
        directory.lifecycle("00uMissing", LifecycleAction::Activate),
        Err(DomainError::UserNotFound(_))
    ));
}

#[test]
fn the_state_round_trips_through_json_and_rejects_other_formats() {
    let mut directory = Directory::default();
    directory
        .create(ada().with_role(RoleId::new("default", "analyst")))
        .unwrap();
    let gone = directory.create(bot()).unwrap();
    directory
        .create(CreateUserRequest::personal("Cyd", "Dee", "cy@example.com"))
        .unwrap();
    directory.delete(&gone.id, true).unwrap();
    directory.seq = 7;
    let text = serde_json::to_string(&directory).unwrap();
    let again: Directory = serde_json::from_str(&text).unwrap();
    assert_eq!(again, directory);
    assert_eq!(
        again.get_by_login("CY@example.com").unwrap().first_name,
        "Cyd"
    );
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value["format"], STATE_FORMAT);
    assert_eq!(value["journalSeq"], 7);
    let mut other = value.clone();
    other["format"] = "something-else".into();
    assert!(serde_json::from_value::<Directory>(other).is_err());
    // A file written before the journal has no journalSeq.
    let mut older = value.clone();
    older.as_object_mut().unwrap().remove("journalSeq");
    assert_eq!(serde_json::from_value::<Directory>(older).unwrap().seq, 0);
    // Two users with one id or one login are refused.
    let mut twice = value;
    let first = twice["users"][0].clone();
    twice["users"].as_array_mut().unwrap().push(first);
    let error = serde_json::from_value::<Directory>(twice).unwrap_err();
    assert!(error.to_string().contains("twice"), "{error}");
}

/// The users' own ids and logins are scrambled, so that only the indexes
/// still name them: a lookup that scanned the users would find none.
#[test]
fn lookups_and_uniqueness_checks_go_through_the_indexes() {
    let mut directory = Directory::default();
    let ada = directory.create(ada()).unwrap();
    let bot = directory.create(bot()).unwrap();
    // Scramble the users' own fields: only the indexes still name them.
    for user in directory.users.values_mut() {
        user.login = format!("scrambled-{}", user.login);
        user.id = format!("scrambled-{}", user.id);
    }
    assert_eq!(directory.get(&ada.id).unwrap().first_name, "Ada");
    assert_eq!(
        directory.get_by_login("BUILD-BOT").unwrap().last_name,
        "Bot"
    );
    assert!(matches!(
        directory.create(CreateUserRequest::personal(
            "Ann",
            "Bell",
            "Ada@Example.com"
        )),
        Err(DomainError::AlreadyExists(_))
    ));
    assert!(
        directory
            .lifecycle(&bot.id, LifecycleAction::Activate)
            .is_ok()
    );
    let found = directory.find(std::slice::from_ref(&ada.id)).unwrap();
    assert!(found.values.unwrap().contains_key(&ada.id));
}

#[test]
fn the_indexes_follow_login_changes_purges_and_resets() {
    let mut directory = Directory::default();
    let user = directory.create(ada()).unwrap();
    let mut change = UpdateUserRequest::from_user(&user);
    change.email_address = "augusta@example.com".into();
    change.login = "augusta@example.com".into();
    directory.update(&user.id, change).unwrap();
    assert!(directory.get_by_login("ada@example.com").is_err());
    assert_eq!(
        directory.get_by_login("AUGUSTA@example.com").unwrap().id,
        user.id
    );
    assert!(
        directory.create(ada()).is_ok(),
        "the old login is free again"
    );
    directory.delete(&user.id, true).unwrap();
    assert!(directory.get(&user.id).is_err());
    assert!(directory.get_by_login("augusta@example.com").is_err());
    let order: Vec<_> = directory.users().map(|user| user.login.clone()).collect();
    assert_eq!(order, ["ada@example.com"]);
    directory.clear();
    assert_eq!(directory.len(), 0);
    assert!(directory.get_by_login("ada@example.com").is_err());
}

#[test]
fn replaying_the_noted_effects_gives_the_same_directory() {
    let mut live = Directory::default();
    live.record_effects(true);
    let mut replayed = Directory::default();
    let replay = |live: &mut Directory, replayed: &mut Directory| {
        for effect in live.take_effects() {
            let line = serde_json::to_string(&effect).unwrap();
            replayed.apply_effect(serde_json::from_str(&line).unwrap());
        }
    };
    live.update_schema(UpdateUserSchemaRequest::new(vec![UserSchemaProperty::new(
        "employeeNo",
        "HR number",
    )]))
    .unwrap();
    let ada = live
        .create(ada().with_role(RoleId::new("default", "analyst")))
        .unwrap();
    let bot = live.create(bot()).unwrap();
    let cy = live
        .create(CreateUserRequest::personal("Cyd", "Dee", "cy@example.com"))
        .unwrap();
    live.set_status(&ada.id, UserStatus::Active).unwrap();
    live.expire_password(&ada.id).unwrap();
    live.delete(&bot.id, false).unwrap();
    live.delete(&cy.id, true).unwrap();
    replay(&mut live, &mut replayed);
    assert_eq!(replayed, live);
    live.clear();
    live.create(CreateUserRequest::personal("Dian", "Eve", "di@example.com"))
        .unwrap();
    replay(&mut live, &mut replayed);
    assert_eq!(replayed, live);
    assert_eq!(
        replayed.get_by_login("di@example.com").unwrap().first_name,
        "Dian"
    );
}

#[test]
fn a_directory_not_recording_notes_nothing() {
    let mut directory = Directory::default();
    directory.create(ada()).unwrap();
    assert!(directory.take_effects().is_empty());
}

#[test]
fn many_seeded_users_are_found_by_id_and_login() {
    let mut directory = Directory::default();
    assert_eq!(directory.seed(20_000), 20_000);
    let last = seed::user(20_000);
    assert_eq!(directory.get(&last.id).unwrap(), &last);
    assert_eq!(
        directory.get_by_login(&last.login.to_uppercase()).unwrap(),
        &last
    );
    assert_eq!(directory.users().next().unwrap().login, seed::login(1));
    assert!(matches!(
        directory.create(CreateUserRequest::personal("Ann", "Bell", seed::login(42))),
        Err(DomainError::AlreadyExists(_))
    ));
}
