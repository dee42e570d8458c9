//! UserStatus and UserType: known values map to their variants, unknown values
//! are kept in `Other` and written back unchanged, never an error.

use identity_models::{UserStatus, UserType};

#[test]
fn every_known_status_reads_writes_and_displays_as_the_contract_string() {
    let known = [
        (UserStatus::Staged, "STAGED"),
        (UserStatus::Provisioned, "PROVISIONED"),
        (UserStatus::Active, "ACTIVE"),
        (UserStatus::Recovery, "RECOVERY"),
        (UserStatus::PasswordExpired, "PASSWORD_EXPIRED"),
        (UserStatus::LockedOut, "LOCKED_OUT"),
        (UserStatus::Suspended, "SUSPENDED"),
        (UserStatus::Deprovisioned, "DEPROVISIONED"),
    ];
    for (status, text) in known {
        assert_eq!(status.as_str(), text);
        assert_eq!(status.to_string(), text);
        assert_eq!(UserStatus::from(text), status);
        assert_eq!(UserStatus::from(text.to_owned()), status);
        assert_eq!(text.parse::<UserStatus>(), Ok(status.clone()));
        assert_eq!(
            serde_json::to_string(&status).unwrap(),
            format!("\"{text}\"")
        );
        assert_eq!(
            serde_json::from_str::<UserStatus>(&format!("\"{text}\"")).unwrap(),
            status
        );
    }
}

#[test]
fn every_known_type_reads_writes_and_displays_as_the_contract_string() {
    for (user_type, text) in [
        (UserType::Personal, "Personal"),
        (UserType::Service, "Service"),
    ] {
        assert_eq!(user_type.as_str(), text);
        assert_eq!(user_type.to_string(), text);
        assert_eq!(text.parse::<UserType>(), Ok(user_type.clone()));
        assert_eq!(
            serde_json::to_string(&user_type).unwrap(),
            format!("\"{text}\"")
        );
    }
}

#[test]
fn unknown_values_are_kept_exactly() {
    for text in ["ARCHIVED", "active", "", "Désactivé 🙂"] {
        let status: UserStatus = serde_json::from_value(serde_json::json!(text)).unwrap();
        assert_eq!(status, UserStatus::Other(text.to_owned()));
        assert_eq!(status.as_str(), text);
        assert_eq!(
            serde_json::to_value(&status).unwrap(),
            serde_json::json!(text)
        );
    }
    let user_type: UserType = "personal".parse().unwrap();
    assert_eq!(user_type, UserType::Other("personal".to_owned()));
    assert_eq!(serde_json::to_string(&user_type).unwrap(), "\"personal\"");
}

#[test]
fn a_non_string_is_an_error() {
    assert!(serde_json::from_str::<UserStatus>("1").is_err());
    assert!(serde_json::from_str::<UserType>("null").is_err());
}
