//! Seeded users (`--seed-users N`): realistic, deterministic users put
//! straight into the directory, so that a test of an export or a listing
//! at scale needs no million CreateUser calls.
//!
//! User `n` (from 1) is always the same, whatever the count and whatever
//! else the directory holds: its values come from a generator seeded with
//! [`SEED`] and `n`. Its login and email are `user-<n, 6 digits>@seed.example`;
//! its id is `00u` and 17 letters and digits; its names come from short
//! lists; one user in ten is a Service user; statuses are a fixed mix
//! (mostly `ACTIVE`, some `PROVISIONED`, `STAGED`, `PASSWORD_EXPIRED`,
//! `LOCKED_OUT`, `RECOVERY`, `SUSPENDED` and `DEPROVISIONED`); timestamps
//! are fixed points from 2020 on, with seven fractional digits as the
//! service writes them. A seeded user whose login or id is already taken
//! (an earlier start with the same state file seeded it) is skipped, so a
//! restart with the same flags adds nothing.

use identity_models::{UserResponse, UserStatus, UserType};
use time::{Duration, OffsetDateTime};

use super::{Directory, stamps};

/// The domain of every seeded login.
pub(crate) const SEED_LOGIN_DOMAIN: &str = "seed.example";

/// The generator's fixed seed (mixed with each user's number).
const SEED: u64 = 0x1d3e_7717_5eed_0001;

const FIRST_NAMES: [&str; 32] = [
    "Ada",
    "Alan",
    "Barbara",
    "Claude",
    "Dennis",
    "Donald",
    "Edsger",
    "Frances",
    "Grace",
    "Guido",
    "Hedy",
    "Ivan",
    "James",
    "John",
    "Katherine",
    "Ken",
    "Leslie",
    "Linus",
    "Margaret",
    "Mary",
    "Niklaus",
    "Radia",
    "Richard",
    "Robin",
    "Sophie",
    "Tim",
    "Tony",
    "Ursula",
    "Vint",
    "Whitfield",
    "Yukihiro",
    "Zhores",
];

const LAST_NAMES: [&str; 32] = [
    "Allen",
    "Backus",
    "Berners-Lee",
    "Cerf",
    "Diffie",
    "Dijkstra",
    "Floyd",
    "Goldwasser",
    "Hamilton",
    "Hoare",
    "Hopper",
    "Johnson",
    "Kahn",
    "Karp",
    "Knuth",
    "Lamarr",
    "Lamport",
    "Liskov",
    "Lovelace",
    "Matsumoto",
    "McCarthy",
    "Milner",
    "Perlman",
    "Ritchie",
    "Rossum",
    "Shannon",
    "Sutherland",
    "Thompson",
    "Torvalds",
    "Turing",
    "Wilson",
    "Wirth",
];

/// Statuses and their weights (out of 100).
const STATUSES: [(UserStatus, u32); 8] = [
    (UserStatus::Active, 60),
    (UserStatus::Provisioned, 12),
    (UserStatus::Staged, 5),
    (UserStatus::PasswordExpired, 6),
    (UserStatus::LockedOut, 4),
    (UserStatus::Recovery, 4),
    (UserStatus::Suspended, 4),
    (UserStatus::Deprovisioned, 5),
];

/// The first seeded user's creation time: 2020-01-01T00:00:00Z.
const EPOCH: i64 = 1_577_836_800;

/// The login of seeded user `n`.
pub(crate) fn login(n: u64) -> String {
    format!("user-{n:06}@{SEED_LOGIN_DOMAIN}")
}

/// Seeded user `n` (from 1).
pub(crate) fn user(n: u64) -> UserResponse {
    let mut rng = fastrand::Rng::with_seed(SEED ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let mut id = String::with_capacity(20);
    id.push_str("00u");
    id.extend(std::iter::repeat_with(|| rng.alphanumeric()).take(17));
    let login = login(n);
    let user_type = if rng.u32(..10) == 0 {
        UserType::Service
    } else {
        UserType::Personal
    };
    let mut pick = rng.u32(..100);
    let status = STATUSES
        .iter()
        .find(|(_, weight)| {
            let found = pick < *weight;
            pick = pick.saturating_sub(*weight);
            found
        })
        .map_or(UserStatus::Active, |(status, _)| status.clone());
    let seconds = i64::try_from(n).unwrap_or(i64::MAX / 64).saturating_mul(37);
    let nanos = i64::from(rng.u32(..10_000_000)) * 100;
    let created = stamps::ticks(
        OffsetDateTime::UNIX_EPOCH
            + Duration::seconds(EPOCH.saturating_add(seconds))
            + Duration::nanoseconds(nanos),
    );
    let changed = stamps::ticks(created + Duration::seconds(i64::from(rng.u32(1..30_000_000))));
    let active_before = !matches!(
        status,
        UserStatus::Staged | UserStatus::Provisioned | UserStatus::Deprovisioned
    );
    UserResponse {
        id,
        alternative_user_ids: None,
        email_address: login.clone(),
        second_email_address: None,
        login,
        first_name: FIRST_NAMES[rng.usize(..FIRST_NAMES.len())].to_owned(),
        last_name: LAST_NAMES[rng.usize(..LAST_NAMES.len())].to_owned(),
        roles: Some(Vec::new()),
        user_type,
        status,
        external: false,
        last_login: active_before.then_some(changed),
        last_updated: Some(changed),
        created: Some(created),
        password_changed: active_before.then_some(created),
        user_expiry: None,
        links: None,
    }
}

impl Directory {
    /// Adds seeded users 1 to `count`, skipping those whose login or id is
    /// taken; answers how many were added. Notes no effects: the caller
    /// writes a snapshot after.
    pub(crate) fn seed(&mut self, count: u64) -> u64 {
        let mut added = 0;
        if let Ok(more) = usize::try_from(count) {
            self.by_id.reserve(more);
            self.by_login.reserve(more);
        }
        for n in 1..=count {
            let user = user(n);
            if self.by_login.contains_key(&user.login) || self.by_id.contains_key(&user.id) {
                continue;
            }
            self.insert_new(user);
            added += 1;
        }
        added
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_users_are_valid_deterministic_and_varied() {
        assert_eq!(user(7), user(7));
        assert_ne!(user(7).id, user(8).id);
        let users: Vec<UserResponse> = (1..=2_000).map(user).collect();
        assert_eq!(users[0].login, "user-000001@seed.example");
        for user in &users {
            assert!(identity_models::is_valid_user_id(&user.id), "{}", user.id);
            let request = identity_models::UpdateUserRequest::from_user(user);
            assert!(request.validate().is_ok(), "{user:?}");
            assert!(request.validate_for(&user.user_type).is_ok(), "{user:?}");
        }
        let service = users
            .iter()
            .filter(|user| user.user_type == UserType::Service)
            .count();
        assert!((100..=300).contains(&service), "{service} Service users");
        for (status, _) in &STATUSES {
            assert!(
                users.iter().any(|user| user.status == *status),
                "no {status} user"
            );
        }
    }

    #[test]
    fn seeding_again_adds_nothing_and_keeps_other_users() {
        let mut directory = Directory::default();
        directory
            .create(identity_models::CreateUserRequest::personal(
                "Ada",
                "Lovelace",
                "ada@example.com",
            ))
            .unwrap();
        assert_eq!(directory.seed(100), 100);
        assert_eq!(directory.seed(150), 50);
        assert_eq!(directory.len(), 151);
        assert_eq!(
            directory.get_by_login("USER-000150@seed.example").unwrap(),
            &user(150)
        );
    }
}
