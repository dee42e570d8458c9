//! Arbitrary strategies for every model type, for the property tests: any
//! Unicode text (non-ASCII included), unknown enum values, datetimes with
//! nanosecond precision and random whole-minute offsets.

use std::collections::BTreeMap;

use identity_models::{
    CreateUserRequest, ErrorDetail, Link, ListUsersResponse, LusidProblemDetails,
    LusidValidationProblemDetails, RoleId, RoleResponse, TemporaryPassword, UpdateUserRequest,
    UpdateUserSchemaRequest, UserResponse, UserSchemaProperty, UserSchemaResponse, UserStatus,
    UserSummary, UserType,
};
use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use time::{OffsetDateTime, UtcOffset};

/// Any text: ASCII, accents, CJK, emoji, control characters.
pub(crate) fn text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[a-zA-Z0-9 éüßÅ漢字🙂\"\\\\/]{0,12}"]
}

fn opt_text() -> impl Strategy<Value = Option<String>> {
    option::of(text())
}

/// A status: a known one or any other text (kept as `Other`).
pub(crate) fn user_status() -> impl Strategy<Value = UserStatus> {
    prop_oneof![
        Just(UserStatus::Staged),
        Just(UserStatus::Provisioned),
        Just(UserStatus::Active),
        Just(UserStatus::Recovery),
        Just(UserStatus::PasswordExpired),
        Just(UserStatus::LockedOut),
        Just(UserStatus::Suspended),
        Just(UserStatus::Deprovisioned),
        // From<String> maps a known text to its variant, so values stay canonical.
        text().prop_map(UserStatus::from),
    ]
}

/// A user type: a known one or any other text (kept as `Other`).
pub(crate) fn user_type() -> impl Strategy<Value = UserType> {
    prop_oneof![
        Just(UserType::Personal),
        Just(UserType::Service),
        text().prop_map(UserType::from),
    ]
}

/// A datetime between years 0001 and 9998 to the nanosecond, at an offset of
/// up to ±23:59 in whole minutes (RFC 3339 has no seconds in offsets).
pub(crate) fn datetime() -> impl Strategy<Value = OffsetDateTime> {
    const FIRST: i128 = -62_135_596_800 + 86_400; // 0001-01-02T00:00:00Z
    const LAST: i128 = 253_370_764_800 - 86_400; // 9998-12-31T00:00:00Z
    let max_minutes = 23 * 60 + 59;
    (
        (FIRST * 1_000_000_000)..(LAST * 1_000_000_000),
        -max_minutes..=max_minutes,
    )
        .prop_map(|(nanos, minutes)| {
            let utc = OffsetDateTime::from_unix_timestamp_nanos(nanos)
                .unwrap_or(OffsetDateTime::UNIX_EPOCH);
            let offset = UtcOffset::from_whole_seconds(minutes * 60).unwrap_or(UtcOffset::UTC);
            utc.to_offset(offset)
        })
}

fn opt_datetime() -> impl Strategy<Value = Option<OffsetDateTime>> {
    option::of(datetime())
}

fn alternative_ids() -> impl Strategy<Value = Option<BTreeMap<String, Option<String>>>> {
    option::of(btree_map(text(), opt_text(), 0..4))
}

/// Any role id.
pub(crate) fn role_id() -> impl Strategy<Value = RoleId> {
    (text(), text()).prop_map(|(scope, code)| RoleId { scope, code })
}

/// Any role.
pub(crate) fn role_response() -> impl Strategy<Value = RoleResponse> {
    (text(), role_id(), text(), text(), opt_text(), opt_text()).prop_map(
        |(id, role_id, source, name, description, saml_name)| RoleResponse {
            id,
            role_id,
            source,
            name,
            description,
            saml_name,
        },
    )
}

/// Any link.
pub(crate) fn link() -> impl Strategy<Value = Link> {
    (text(), text(), opt_text(), text()).prop_map(|(relation, href, description, method)| Link {
        relation,
        href,
        description,
        method,
    })
}

fn links() -> impl Strategy<Value = Option<Vec<Link>>> {
    option::of(vec(link(), 0..3))
}

/// Any user.
pub(crate) fn user_response() -> impl Strategy<Value = UserResponse> {
    let identity = (
        text(),
        alternative_ids(),
        text(),
        opt_text(),
        text(),
        text(),
        text(),
    );
    let state = (
        option::of(vec(role_response(), 0..3)),
        user_type(),
        user_status(),
        any::<bool>(),
        links(),
    );
    let times = (
        opt_datetime(),
        opt_datetime(),
        opt_datetime(),
        opt_datetime(),
        opt_datetime(),
    );
    (identity, state, times).prop_map(
        |(
            (
                id,
                alternative_user_ids,
                email_address,
                second_email_address,
                login,
                first_name,
                last_name,
            ),
            (roles, user_type, status, external, links),
            (last_login, last_updated, created, password_changed, user_expiry),
        )| UserResponse {
            id,
            alternative_user_ids,
            email_address,
            second_email_address,
            login,
            first_name,
            last_name,
            roles,
            user_type,
            status,
            external,
            last_login,
            last_updated,
            created,
            password_changed,
            user_expiry,
            links,
        },
    )
}

fn roles() -> impl Strategy<Value = Option<Vec<RoleId>>> {
    option::of(vec(role_id(), 0..4))
}

/// Any create request (not necessarily valid: serde does not validate).
pub(crate) fn create_user_request() -> impl Strategy<Value = CreateUserRequest> {
    (
        (text(), text(), text(), opt_text(), text()),
        (alternative_ids(), roles(), user_type(), opt_datetime()),
    )
        .prop_map(
            |(
                (first_name, last_name, email_address, second_email_address, login),
                (alternative_user_ids, roles, user_type, user_expiry),
            )| CreateUserRequest {
                first_name,
                last_name,
                email_address,
                second_email_address,
                login,
                alternative_user_ids,
                roles,
                user_type,
                user_expiry,
            },
        )
}

/// Any update request.
pub(crate) fn update_user_request() -> impl Strategy<Value = UpdateUserRequest> {
    (
        (text(), text(), text(), opt_text(), text()),
        (alternative_ids(), roles(), opt_datetime()),
    )
        .prop_map(
            |(
                (first_name, last_name, email_address, second_email_address, login),
                (alternative_user_ids, roles, user_expiry),
            )| UpdateUserRequest {
                first_name,
                last_name,
                email_address,
                second_email_address,
                login,
                alternative_user_ids,
                roles,
                user_expiry,
            },
        )
}

/// Any user summary.
pub(crate) fn user_summary() -> impl Strategy<Value = UserSummary> {
    (
        (
            opt_text(),
            opt_text(),
            opt_text(),
            opt_text(),
            opt_text(),
            opt_text(),
        ),
        (option::of(user_type()), alternative_ids(), links()),
    )
        .prop_map(
            |(
                (id, login, email, second_email, first_name, last_name),
                (user_type, alternative_user_ids, links),
            )| UserSummary {
                id,
                login,
                email,
                second_email,
                first_name,
                last_name,
                user_type,
                alternative_user_ids,
                links,
            },
        )
}

/// Any error detail.
pub(crate) fn error_detail() -> impl Strategy<Value = ErrorDetail> {
    (opt_text(), opt_text(), opt_text()).prop_map(|(id, error_type, detail)| ErrorDetail {
        id,
        error_type,
        detail,
    })
}

/// Any FindUsersById answer.
pub(crate) fn list_users_response() -> impl Strategy<Value = ListUsersResponse> {
    (
        opt_text(),
        option::of(btree_map(text(), user_summary(), 0..3)),
        option::of(btree_map(text(), error_detail(), 0..3)),
        links(),
    )
        .prop_map(|(href, values, failed, links)| ListUsersResponse {
            href,
            values,
            failed,
            links,
        })
}

/// Any temporary password.
pub(crate) fn temporary_password() -> impl Strategy<Value = TemporaryPassword> {
    text().prop_map(|password| TemporaryPassword { password })
}

/// Any user schema property.
pub(crate) fn user_schema_property() -> impl Strategy<Value = UserSchemaProperty> {
    (text(), text()).prop_map(|(name, description)| UserSchemaProperty { name, description })
}

/// Any user schema.
pub(crate) fn user_schema_response() -> impl Strategy<Value = UserSchemaResponse> {
    option::of(vec(user_schema_property(), 0..4)).prop_map(|alternative_user_ids| {
        UserSchemaResponse {
            alternative_user_ids,
        }
    })
}

/// Any schema update.
pub(crate) fn update_user_schema_request() -> impl Strategy<Value = UpdateUserSchemaRequest> {
    vec(user_schema_property(), 0..4).prop_map(|alternative_user_ids| UpdateUserSchemaRequest {
        alternative_user_ids,
    })
}

/// Any problem details.
pub(crate) fn problem_details() -> impl Strategy<Value = LusidProblemDetails> {
    (
        (
            text(),
            option::of(vec(btree_map(text(), text(), 0..3), 0..3)),
            any::<i32>(),
        ),
        (
            opt_text(),
            opt_text(),
            opt_text(),
            opt_text(),
            option::of(any::<i32>()),
        ),
    )
        .prop_map(
            |((name, error_details, code), (problem_type, title, detail, instance, status))| {
                LusidProblemDetails {
                    name,
                    error_details,
                    code,
                    problem_type,
                    title,
                    detail,
                    instance,
                    status,
                }
            },
        )
}

/// Any validation problem details.
pub(crate) fn validation_problem_details() -> impl Strategy<Value = LusidValidationProblemDetails> {
    (
        problem_details(),
        btree_map(text(), vec(text(), 0..3), 0..4),
    )
        .prop_map(|(problem, errors)| LusidValidationProblemDetails { problem, errors })
}
