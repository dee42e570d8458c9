//! Decoding bodies written after the contract's examples, checked field by
//! field: a user with roles and a seven-digit datetime, a FindUsersById
//! answer, a validation problem, and a user from a newer service (unknown
//! status and type, extra fields).

use identity_models::{
    ListUsersResponse, LusidValidationProblemDetails, RoleId, UpdateUserRequest, UserResponse,
    UserStatus, UserType,
};
use time::macros::{datetime, offset};

const USER_WITH_ROLES: &str = include_str!("../fixtures/user_with_roles.json");
const FIND_USERS_BY_ID: &str = include_str!("../fixtures/find_users_by_id.json");
const VALIDATION_PROBLEM: &str = include_str!("../fixtures/validation_problem.json");
const USER_UNKNOWN_STATUS: &str = include_str!("../fixtures/user_unknown_status.json");

#[test]
fn user_with_roles_and_a_seven_digit_datetime() {
    let user: UserResponse = serde_json::from_str(USER_WITH_ROLES).unwrap();
    assert_eq!(user.id, "00u7f3kq2wXbT9pL1d5");
    let alternative = user.alternative_user_ids.as_ref().unwrap();
    assert_eq!(alternative.len(), 2);
    assert_eq!(alternative["employeeNumber"].as_deref(), Some("E-10442"));
    assert_eq!(alternative["badgeId"], None);
    assert_eq!(user.email_address, "grace.hopper@example.org");
    assert_eq!(user.second_email_address, None);
    assert_eq!(user.login, "grace.hopper@example.org");
    assert_eq!(user.first_name, "Grace");
    assert_eq!(user.last_name, "Hopper");
    assert_eq!(user.user_type, UserType::Personal);
    assert_eq!(user.status, UserStatus::Active);
    assert!(!user.external);

    let roles = user.roles.as_ref().unwrap();
    assert_eq!(roles.len(), 2);
    assert_eq!(roles[0].id, "rol2x9");
    assert_eq!(
        roles[0].role_id,
        RoleId::new("default", "portfolio-manager")
    );
    assert_eq!(roles[0].source, "LUSID");
    assert_eq!(roles[0].name, "Portfolio Manager");
    assert_eq!(
        roles[0].description.as_deref(),
        Some("Manages portfolios in the default scope")
    );
    assert_eq!(roles[0].saml_name.as_deref(), Some("pm-default"));
    assert_eq!(roles[1].role_id, RoleId::new("audit", "read-only"));
    assert_eq!(roles[1].description, None);
    assert_eq!(roles[1].saml_name, None);

    let last_login = user.last_login.unwrap();
    assert_eq!(last_login, datetime!(2024-03-01 09:30:12.1234567 UTC));
    assert_eq!(last_login.nanosecond(), 123_456_700);
    let last_updated = user.last_updated.unwrap();
    assert_eq!(last_updated, datetime!(2024-02-28 17:05:00.5 -05:00));
    assert_eq!(last_updated.offset(), offset!(-05:00));
    assert_eq!(user.created, Some(datetime!(2023-11-15 08:00:00 UTC)));
    assert_eq!(user.password_changed, None);
    assert_eq!(user.user_expiry, None);

    let links = user.links.as_ref().unwrap();
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].relation, "Self");
    assert_eq!(
        links[0].href,
        "https://example.lusid.com/identity/api/users/00u7f3kq2wXbT9pL1d5"
    );
    assert_eq!(links[0].description, None);
    assert_eq!(links[0].method, "GET");
}

#[test]
fn update_from_the_fixture_user_keeps_its_details_and_role_ids() {
    let user: UserResponse = serde_json::from_str(USER_WITH_ROLES).unwrap();
    let update = UpdateUserRequest::from_user(&user);
    assert_eq!(update.first_name, "Grace");
    assert_eq!(update.last_name, "Hopper");
    assert_eq!(update.email_address, user.email_address);
    assert_eq!(update.login, user.login);
    assert_eq!(update.second_email_address, None);
    assert_eq!(update.alternative_user_ids, user.alternative_user_ids);
    assert_eq!(update.user_expiry, None);
    assert_eq!(
        update.roles,
        Some(vec![
            RoleId::new("default", "portfolio-manager"),
            RoleId::new("audit", "read-only"),
        ])
    );
    assert_eq!(UpdateUserRequest::from(&user), update);
    assert_eq!(update.validate_for(&user.user_type), Ok(()));
}

#[test]
fn find_users_by_id_answer_with_values_and_failed() {
    let answer: ListUsersResponse = serde_json::from_str(FIND_USERS_BY_ID).unwrap();
    assert_eq!(
        answer.href.as_deref(),
        Some("https://example.lusid.com/identity/api/directory/users?id=00uA1&id=00uB2&id=00uZZ")
    );
    let values = answer.values.as_ref().unwrap();
    assert_eq!(values.len(), 2);
    let ines = &values["00uA1"];
    assert_eq!(ines.id.as_deref(), Some("00uA1"));
    assert_eq!(ines.login.as_deref(), Some("ines@example.org"));
    assert_eq!(ines.email.as_deref(), Some("ines@example.org"));
    assert_eq!(ines.second_email, None);
    assert_eq!(ines.first_name.as_deref(), Some("Inès"));
    assert_eq!(ines.last_name.as_deref(), Some("Müller"));
    assert_eq!(ines.user_type, Some(UserType::Personal));
    assert_eq!(ines.alternative_user_ids, None);
    assert_eq!(ines.links, None);
    let loader = &values["00uB2"];
    assert_eq!(loader.login.as_deref(), Some("batch-loader"));
    assert_eq!(
        loader.second_email.as_deref(),
        Some("ops-alerts@example.org")
    );
    assert_eq!(loader.user_type, Some(UserType::Service));
    assert_eq!(loader.links, None);

    let failed = answer.failed.as_ref().unwrap();
    assert_eq!(failed.len(), 1);
    let missing = &failed["00uZZ"];
    assert_eq!(missing.id.as_deref(), Some("00uZZ"));
    assert_eq!(missing.error_type.as_deref(), Some("UserNotFound"));
    assert_eq!(
        missing.detail.as_deref(),
        Some("No user with id 00uZZ exists.")
    );
    assert_eq!(answer.links, Some(vec![]));
}

#[test]
fn validation_problem_with_field_errors() {
    let problem: LusidValidationProblemDetails = serde_json::from_str(VALIDATION_PROBLEM).unwrap();
    let details = &problem.problem;
    assert_eq!(details.name, "ValidationError");
    assert_eq!(details.code, 151);
    assert_eq!(
        details.problem_type.as_deref(),
        Some("https://docs.lusid.com/#section/Error-Codes/151")
    );
    assert_eq!(
        details.title.as_deref(),
        Some("One or more validation errors occurred.")
    );
    assert_eq!(details.status, Some(400));
    assert_eq!(
        details.detail.as_deref(),
        Some("The request body is invalid.")
    );
    assert_eq!(
        details.instance.as_deref(),
        Some("https://example.lusid.com/app/insights/logs/0HMVQ2B3:00000007")
    );
    let error_details = details.error_details.as_ref().unwrap();
    assert_eq!(error_details.len(), 1);
    assert_eq!(error_details[0]["field"], "firstName");
    assert_eq!(error_details[0]["reason"], "length");

    assert_eq!(problem.errors.len(), 2);
    assert_eq!(
        problem.errors["firstName"],
        ["The field firstName must be between 1 and 50 characters long."]
    );
    assert_eq!(
        problem.errors["login"],
        [
            "The field login must be between 5 and 80 characters long.",
            "For Personal users the field login must be equal to emailAddress.",
        ]
    );
}

#[test]
fn user_from_a_newer_service_keeps_unknown_values_and_ignores_extra_fields() {
    let user: UserResponse = serde_json::from_str(USER_UNKNOWN_STATUS).unwrap();
    assert_eq!(user.id, "00uQ8");
    assert_eq!(user.email_address, "robot@example.org");
    assert_eq!(user.login, "robot-7");
    assert_eq!(user.first_name, "Robo");
    assert_eq!(user.last_name, "Seven");
    assert_eq!(user.status, UserStatus::Other("PENDING_REVIEW".to_owned()));
    assert_eq!(user.user_type, UserType::Other("Machine".to_owned()));
    assert!(user.external);
    assert_eq!(user.alternative_user_ids, None);
    assert_eq!(user.roles, None);
    assert_eq!(user.last_login, None);
    assert_eq!(user.links, None);

    // Written back, the unknown values are unchanged; the unknown fields are gone.
    let written = serde_json::to_value(&user).unwrap();
    assert_eq!(written["status"], "PENDING_REVIEW");
    assert_eq!(written["type"], "Machine");
    assert!(written.get("riskScore").is_none());
    assert!(written.get("preferences").is_none());
}
