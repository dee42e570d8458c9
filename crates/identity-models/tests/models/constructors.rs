//! Building requests: the Personal and Service constructors, the `with_*`
//! setters, and UpdateUserRequest built from a user as read.

use std::collections::BTreeMap;

use identity_models::{
    CreateUserRequest, RoleId, RoleResponse, UpdateUserRequest, UpdateUserSchemaRequest,
    UserResponse, UserSchemaProperty, UserStatus, UserType,
};
use time::macros::datetime;

#[test]
fn personal_user_logs_in_with_its_email_address() {
    let request = CreateUserRequest::personal("Ada", "Lovelace", "ada@example.com");
    assert_eq!(request.first_name, "Ada");
    assert_eq!(request.last_name, "Lovelace");
    assert_eq!(request.email_address, "ada@example.com");
    assert_eq!(request.login, "ada@example.com");
    assert_eq!(request.user_type, UserType::Personal);
    assert_eq!(request.second_email_address, None);
    assert_eq!(request.roles, None);
    assert_eq!(request.alternative_user_ids, None);
    assert_eq!(request.user_expiry, None);
}

#[test]
fn service_user_has_its_own_login() {
    let request = CreateUserRequest::service("Batch", "Loader", "ops@example.com", "batch-loader");
    assert_eq!(request.email_address, "ops@example.com");
    assert_eq!(request.login, "batch-loader");
    assert_eq!(request.user_type, UserType::Service);
}

#[test]
fn setters_chain_and_accumulate() {
    let expiry = datetime!(2030-01-01 00:00 UTC);
    let request = CreateUserRequest::service("Batch", "Loader", "ops@example.com", "batch-loader")
        .with_second_email_address("alerts@example.com")
        .with_role(RoleId::new("default", "loader"))
        .with_role(RoleId::new("default", "reader"))
        .with_alternative_user_id("badge", "B-1")
        .with_alternative_user_id("employeeNumber", "E-2")
        .with_user_expiry(expiry);
    assert_eq!(
        request.second_email_address.as_deref(),
        Some("alerts@example.com")
    );
    assert_eq!(
        request.roles,
        Some(vec![
            RoleId::new("default", "loader"),
            RoleId::new("default", "reader")
        ])
    );
    let ids = request.alternative_user_ids.as_ref().unwrap();
    assert_eq!(ids["badge"].as_deref(), Some("B-1"));
    assert_eq!(ids["employeeNumber"].as_deref(), Some("E-2"));
    assert_eq!(request.user_expiry, Some(expiry));

    let update = UpdateUserRequest::new("A", "Bb", "a@b.cd", "login")
        .with_second_email_address("c@d.ef")
        .with_role(RoleId::new("sc1", "co1"))
        .with_alternative_user_id("k", "v")
        .with_user_expiry(expiry);
    assert_eq!(update.login, "login");
    assert_eq!(update.second_email_address.as_deref(), Some("c@d.ef"));
    assert_eq!(update.roles, Some(vec![RoleId::new("sc1", "co1")]));
    assert_eq!(
        update.alternative_user_ids,
        Some(BTreeMap::from([("k".to_owned(), Some("v".to_owned()))]))
    );
    assert_eq!(update.user_expiry, Some(expiry));
}

fn user(roles: Option<Vec<RoleResponse>>) -> UserResponse {
    UserResponse {
        id: "00u1".into(),
        alternative_user_ids: Some(BTreeMap::from([("badge".to_owned(), None)])),
        email_address: "ops@example.com".into(),
        second_email_address: Some("alerts@example.com".into()),
        login: "batch-loader".into(),
        first_name: "Batch".into(),
        last_name: "Loader".into(),
        roles,
        user_type: UserType::Service,
        status: UserStatus::Active,
        external: false,
        last_login: None,
        last_updated: None,
        created: None,
        password_changed: None,
        user_expiry: Some(datetime!(2031-05-06 07:08:09.123 +02:00)),
        links: None,
    }
}

#[test]
fn update_from_user_copies_details_and_maps_roles_to_role_ids() {
    let role = RoleResponse {
        id: "r1".into(),
        role_id: RoleId::new("default", "loader"),
        source: "LUSID".into(),
        name: "Loader".into(),
        description: None,
        saml_name: None,
    };
    let read = user(Some(vec![role]));
    let update = UpdateUserRequest::from_user(&read);
    assert_eq!(update.first_name, read.first_name);
    assert_eq!(update.last_name, read.last_name);
    assert_eq!(update.email_address, read.email_address);
    assert_eq!(update.second_email_address, read.second_email_address);
    assert_eq!(update.login, read.login);
    assert_eq!(update.alternative_user_ids, read.alternative_user_ids);
    assert_eq!(update.user_expiry, read.user_expiry);
    assert_eq!(update.roles, Some(vec![RoleId::new("default", "loader")]));
    assert_eq!(UpdateUserRequest::from(&read), update);

    // A change is then a plain field assignment.
    let changed = UpdateUserRequest {
        last_name: "Unloader".into(),
        ..update
    };
    assert_eq!(changed.validate_for(&read.user_type), Ok(()));
}

#[test]
fn update_from_user_without_listed_roles_sends_no_roles() {
    let update = UpdateUserRequest::from_user(&user(None));
    assert_eq!(update.roles, None);
    assert!(
        serde_json::to_value(&update)
            .unwrap()
            .get("roles")
            .is_none()
    );
}

#[test]
fn schema_request_and_property_constructors() {
    let request = UpdateUserSchemaRequest::new(vec![UserSchemaProperty::new("badge", "Badge")]);
    assert_eq!(request.alternative_user_ids[0].name, "badge");
    assert_eq!(request.alternative_user_ids[0].description, "Badge");
}
