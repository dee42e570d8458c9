//! validate(): each rule of the contract broken once and met once, several
//! broken at once (all reported), lengths in characters, and the user id rule.

use std::collections::BTreeMap;

use identity_models::{
    CreateUserRequest, RoleId, UpdateUserRequest, UpdateUserSchemaRequest, UserSchemaProperty,
    UserType, ValidationErrors, is_valid_user_id,
};

/// The violations of a result, as a map (empty when valid).
fn violations(result: Result<(), ValidationErrors>) -> BTreeMap<String, Vec<String>> {
    result
        .err()
        .map(ValidationErrors::into_map)
        .unwrap_or_default()
}

/// Asserts exactly one violation: `field` with `message`.
fn assert_only(result: Result<(), ValidationErrors>, field: &str, message: &str) {
    let found = violations(result);
    let expected = BTreeMap::from([(field.to_owned(), vec![message.to_owned()])]);
    assert_eq!(found, expected);
}

fn personal() -> CreateUserRequest {
    CreateUserRequest::personal("Ada", "Lovelace", "ada@example.com")
}

fn service() -> CreateUserRequest {
    CreateUserRequest::service("Batch", "Loader", "ops@example.com", "batch-loader")
}

fn update() -> UpdateUserRequest {
    UpdateUserRequest::new("Ada", "Lovelace", "ada@example.com", "ada@example.com")
}

fn chars(c: char, n: usize) -> String {
    std::iter::repeat_n(c, n).collect()
}

#[test]
fn well_formed_requests_are_valid() {
    assert_eq!(personal().validate(), Ok(()));
    assert_eq!(service().validate(), Ok(()));
    assert_eq!(update().validate(), Ok(()));
    assert_eq!(update().validate_for(&UserType::Personal), Ok(()));
}

#[test]
fn first_name_is_1_to_50_characters() {
    let message = "The field firstName must be between 1 and 50 characters long.";
    for bad in [String::new(), chars('a', 51)] {
        let request = CreateUserRequest {
            first_name: bad,
            ..personal()
        };
        assert_only(request.validate(), "firstName", message);
    }
    for good in [chars('a', 1), chars('a', 50)] {
        let request = CreateUserRequest {
            first_name: good,
            ..personal()
        };
        assert_eq!(request.validate(), Ok(()));
    }
}

#[test]
fn last_name_is_2_to_50_characters() {
    let message = "The field lastName must be between 2 and 50 characters long.";
    for bad in [chars('b', 1), chars('b', 51)] {
        let request = CreateUserRequest {
            last_name: bad,
            ..personal()
        };
        assert_only(request.validate(), "lastName", message);
    }
    for good in [chars('b', 2), chars('b', 50)] {
        let request = CreateUserRequest {
            last_name: good,
            ..personal()
        };
        assert_eq!(request.validate(), Ok(()));
    }
}

#[test]
fn lengths_count_characters_not_bytes() {
    // 50 characters, 100 bytes in UTF-8: valid.
    let request = CreateUserRequest {
        first_name: chars('é', 50),
        ..personal()
    };
    assert_eq!(request.validate(), Ok(()));
    // 51 characters: invalid, whatever the bytes.
    let request = CreateUserRequest {
        first_name: chars('漢', 51),
        ..personal()
    };
    assert!(violations(request.validate()).contains_key("firstName"));
    // 2 characters of 4 bytes each: a valid last name.
    let request = CreateUserRequest {
        last_name: "🙂🙂".into(),
        ..personal()
    };
    assert_eq!(request.validate(), Ok(()));
}

#[test]
fn email_address_and_login_are_5_to_80_characters() {
    let email_message = "The field emailAddress must be between 5 and 80 characters long.";
    let login_message = "The field login must be between 5 and 80 characters long.";
    for bad in [chars('e', 4), chars('e', 81)] {
        let request = CreateUserRequest {
            email_address: bad.clone(),
            ..service()
        };
        assert_only(request.validate(), "emailAddress", email_message);
        let request = CreateUserRequest {
            login: bad,
            ..service()
        };
        assert_only(request.validate(), "login", login_message);
    }
    for good in [chars('e', 5), chars('e', 80)] {
        let request = CreateUserRequest {
            email_address: good.clone(),
            login: good,
            ..service()
        };
        assert_eq!(request.validate(), Ok(()));
    }
}

#[test]
fn second_email_address_is_5_to_80_characters() {
    let message = "The field secondEmailAddress must be between 5 and 80 characters long.";
    for bad in [chars('s', 4), chars('s', 81)] {
        let request = service().with_second_email_address(bad);
        assert_only(request.validate(), "secondEmailAddress", message);
    }
    for good in [chars('s', 5), chars('s', 80)] {
        assert_eq!(service().with_second_email_address(good).validate(), Ok(()));
    }
}

#[test]
fn type_is_personal_or_service() {
    let length = "The field type must be between 1 and 20 characters long.";
    let pattern = "The field type must match the regular expression '^[a-zA-Z]*$'.";
    let known = "The field type must be either 'Personal' or 'Service'.";
    let type_errors = |user_type: &str| {
        let request = CreateUserRequest {
            user_type: UserType::from(user_type),
            ..service()
        };
        violations(request.validate())
    };
    for bad in [String::new(), chars('T', 21)] {
        assert_eq!(
            type_errors(&bad),
            BTreeMap::from([("type".to_owned(), vec![length.to_owned(), known.to_owned()])])
        );
    }
    for bad in ["Robot1", "Ma chine", "Sérvice"] {
        assert_eq!(
            type_errors(bad),
            BTreeMap::from([(
                "type".to_owned(),
                vec![pattern.to_owned(), known.to_owned()]
            )])
        );
    }
    // Letters the service does not create are refused before sending, as
    // the service refuses them (a newer service's type read from an answer
    // is kept, never sent back in a create).
    for bad in ["Robot", "Machine", "personal"] {
        assert_only(
            CreateUserRequest {
                user_type: UserType::from(bad),
                ..service()
            }
            .validate(),
            "type",
            known,
        );
    }
    assert_eq!(service().validate(), Ok(()));
    assert_eq!(personal().validate(), Ok(()));
}

fn roles(n: usize) -> Vec<RoleId> {
    (0..n)
        .map(|i| RoleId::new("default", format!("role{i}")))
        .collect()
}

#[test]
fn at_most_20_roles() {
    let message = "The field roles must have at most 20 items.";
    let request = CreateUserRequest {
        roles: Some(roles(21)),
        ..personal()
    };
    assert_only(request.validate(), "roles", message);
    let request = UpdateUserRequest {
        roles: Some(roles(21)),
        ..update()
    };
    assert_only(request.validate(), "roles", message);

    let request = CreateUserRequest {
        roles: Some(roles(20)),
        ..personal()
    };
    assert_eq!(request.validate(), Ok(()));
    let request = UpdateUserRequest {
        roles: Some(roles(20)),
        ..update()
    };
    assert_eq!(request.validate(), Ok(()));
}

#[test]
fn role_scope_and_code_are_3_to_100_characters() {
    let request = personal()
        .with_role(RoleId::new("default", "ok-role"))
        .with_role(RoleId::new("ab", chars('c', 101)));
    let found = violations(request.validate());
    assert_eq!(
        found,
        BTreeMap::from([
            (
                "roles[1].scope".to_owned(),
                vec!["The field scope must be between 3 and 100 characters long.".to_owned()]
            ),
            (
                "roles[1].code".to_owned(),
                vec!["The field code must be between 3 and 100 characters long.".to_owned()]
            ),
        ])
    );
    let request = personal().with_role(RoleId::new("abc", chars('c', 100)));
    assert_eq!(request.validate(), Ok(()));
}

#[test]
fn personal_login_equals_email_address() {
    let message = "For Personal users the field login must be equal to emailAddress.";
    let request = CreateUserRequest {
        login: "someone-else".into(),
        ..personal()
    };
    assert_only(request.validate(), "login", message);
    assert_eq!(personal().validate(), Ok(()));
    // A Service user may have a login of its own.
    assert_eq!(service().validate(), Ok(()));

    let request = UpdateUserRequest {
        login: "someone-else".into(),
        ..update()
    };
    assert_only(request.validate_for(&UserType::Personal), "login", message);
    assert_eq!(request.validate_for(&UserType::Service), Ok(()));
    // Without the type, the rule cannot apply.
    assert_eq!(request.validate(), Ok(()));
}

#[test]
fn second_email_address_only_for_service_users() {
    let message = "The field secondEmailAddress is only allowed for Service users.";
    let request = personal().with_second_email_address("other@example.com");
    assert_only(request.validate(), "secondEmailAddress", message);
    let request = service().with_second_email_address("other@example.com");
    assert_eq!(request.validate(), Ok(()));

    let request = update().with_second_email_address("other@example.com");
    assert_only(
        request.validate_for(&UserType::Personal),
        "secondEmailAddress",
        message,
    );
    assert_eq!(request.validate_for(&UserType::Service), Ok(()));
}

#[test]
fn update_has_the_same_length_limits() {
    let request = UpdateUserRequest {
        first_name: String::new(),
        last_name: "L".into(),
        email_address: "a@b".into(),
        login: chars('l', 81),
        second_email_address: Some("x".into()),
        ..update()
    };
    let found = violations(request.validate());
    let fields: Vec<&str> = found.keys().map(String::as_str).collect();
    assert_eq!(
        fields,
        [
            "emailAddress",
            "firstName",
            "lastName",
            "login",
            "secondEmailAddress"
        ]
    );
}

#[test]
fn several_violations_are_all_reported_at_once() {
    let request = CreateUserRequest {
        first_name: String::new(),
        last_name: "X".into(),
        email_address: "a@b".into(),
        second_email_address: Some("s".into()),
        login: "someone".into(),
        alternative_user_ids: None,
        roles: Some(roles(21)),
        user_type: UserType::Personal,
        user_expiry: None,
    };
    let errors = request.validate().unwrap_err();
    assert_eq!(errors.len(), 6);
    assert_eq!(
        errors.get("firstName").unwrap(),
        ["The field firstName must be between 1 and 50 characters long."]
    );
    assert_eq!(
        errors.get("lastName").unwrap(),
        ["The field lastName must be between 2 and 50 characters long."]
    );
    assert_eq!(
        errors.get("emailAddress").unwrap(),
        ["The field emailAddress must be between 5 and 80 characters long."]
    );
    assert_eq!(
        errors.get("login").unwrap(),
        ["For Personal users the field login must be equal to emailAddress."]
    );
    assert_eq!(
        errors.get("secondEmailAddress").unwrap(),
        [
            "The field secondEmailAddress must be between 5 and 80 characters long.",
            "The field secondEmailAddress is only allowed for Service users.",
        ]
    );
    assert_eq!(
        errors.get("roles").unwrap(),
        ["The field roles must have at most 20 items."]
    );
}

#[test]
fn schema_has_at_most_10_properties() {
    let properties = |n: usize| -> Vec<UserSchemaProperty> {
        (0..n)
            .map(|i| UserSchemaProperty::new(format!("prop_{i}"), "a property"))
            .collect()
    };
    assert_only(
        UpdateUserSchemaRequest::new(properties(11)).validate(),
        "alternativeUserIds",
        "The field alternativeUserIds must have at most 10 items.",
    );
    assert_eq!(
        UpdateUserSchemaRequest::new(properties(10)).validate(),
        Ok(())
    );
    assert_eq!(UpdateUserSchemaRequest::new(vec![]).validate(), Ok(()));
}

#[test]
fn schema_property_name_is_1_to_50_of_letters_digits_underscore() {
    let length = "The field name must be between 1 and 50 characters long.";
    let pattern = "The field name must match the regular expression '^[a-zA-Z0-9_]+$'.";
    let one = |name: String| UpdateUserSchemaRequest::new(vec![UserSchemaProperty::new(name, "")]);
    assert_only(
        one(chars('n', 51)).validate(),
        "alternativeUserIds[0].name",
        length,
    );
    for bad in ["has space", "dash-ed", "naïve"] {
        assert_only(
            one(bad.into()).validate(),
            "alternativeUserIds[0].name",
            pattern,
        );
    }
    let empty = violations(one(String::new()).validate());
    assert_eq!(empty["alternativeUserIds[0].name"], [length]);
    for good in ["a", "Employee_No_7", &chars('n', 50)] {
        assert_eq!(one(good.to_owned()).validate(), Ok(()));
    }
}

#[test]
fn schema_property_description_is_at_most_80_characters() {
    let message = "The field description must be at most 80 characters long.";
    let request = UpdateUserSchemaRequest::new(vec![
        UserSchemaProperty::new("ok", "fine"),
        UserSchemaProperty::new("long", chars('d', 81)),
    ]);
    assert_only(
        request.validate(),
        "alternativeUserIds[1].description",
        message,
    );
    let request = UpdateUserSchemaRequest::new(vec![UserSchemaProperty::new("ok", chars('é', 80))]);
    assert_eq!(request.validate(), Ok(()));
}

#[test]
fn user_id_is_1_to_64_of_letters_digits_dash_underscore() {
    for good in [
        "a",
        "00u1abcDEF",
        "with-dash_and_underscore",
        &chars('x', 64),
    ] {
        assert!(is_valid_user_id(good), "{good}");
    }
    for bad in [
        "",
        &chars('x', 65),
        "a/b",
        "a b",
        "a%2Fb",
        "ü",
        "a.b",
        "..",
        "id?x=1",
    ] {
        assert!(!is_valid_user_id(bad), "{bad}");
    }
}

#[test]
fn validation_errors_read_as_a_map_an_iterator_and_a_message() {
    let errors = personal()
        .with_second_email_address("x")
        .validate()
        .unwrap_err();
    assert!(!errors.is_empty());
    assert_eq!(errors.fields().collect::<Vec<_>>(), ["secondEmailAddress"]);
    let (field, messages) = errors.iter().next().unwrap();
    assert_eq!(field, "secondEmailAddress");
    assert_eq!(messages.len(), 2);
    let shown = errors.to_string();
    assert!(shown.contains("secondEmailAddress: The field secondEmailAddress is only allowed"));
    let as_error: &dyn std::error::Error = &errors;
    assert_eq!(as_error.to_string(), shown);
    assert!(ValidationErrors::new().is_empty());
}
