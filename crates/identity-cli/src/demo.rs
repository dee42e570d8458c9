//! `fbn-identity demo`: a newcomer's tour of the whole user lifecycle,
//! through the SDK, against an emulator embedded in the process. It needs
//! no configuration and no network.
//!
//! A [`Tour`] runs each step: it prints the step's title, runs it, and
//! prints what came back. Where the service's lifecycle needs something
//! only a person can do (complete the set-up, get locked out), the
//! emulator's test hook sets the user's status, and the step says so.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::future::Future;

use finbourne_identity::{
    CreateUserRequest, IdentityClient, RoleId, UpdateUserRequest, UpdateUserSchemaRequest,
    UserResponse, UserSchemaProperty, UserStatus,
};
use identity_emulator::{Emulator, EmulatorConfig};

use crate::errors::CliError;
use crate::output::{alternative_ids, plural, print_text, role_list};

/// An id no user has, for the lookup that finds nothing.
const MISSING_ID: &str = "00uDoesNotExist";

/// Runs the tour.
pub(crate) async fn run() -> Result<(), CliError> {
    let config = EmulatorConfig::default();
    let emulator = identity_emulator::start(config.clone())
        .await
        .map_err(CliError::Emulator)?;
    say(&format!(
        "The FINBOURNE Identity SDK, a tour. An emulator of the service is running at {}.\n\
         The SDK signs in with the password grant (the emulator's test credentials),\n\
         then every step below is one or two calls of the Users API.\n",
        emulator.base_url()
    ))?;
    let client = IdentityClient::builder()
        .environment(false)
        .base_url(emulator.base_url())
        .token_url(emulator.token_url())
        .username(config.username.as_str())
        .password(config.password.as_str())
        .client_id(config.client_id.as_str())
        .client_secret(config.client_secret.as_str())
        .build()?;
    let tour = Tour {
        client: &client,
        emulator: &emulator,
        steps: Cell::new(0),
    };
    let outcome = tour.walk().await;
    let steps = tour.steps.get();
    let requests = emulator.requests();
    let tokens = requests
        .iter()
        .filter(|request| request.operation.as_deref() == Some("Token"))
        .count();
    emulator.shutdown().await;
    outcome?;
    say(&format!(
        "\nTour complete: {steps} steps, {} API calls and {tokens} token request{} to the emulator.\n\
         Next: run `fbn-identity emulator --access-token dev-token` in one terminal and\n\
         `fbn-identity --base-url http://127.0.0.1:8080/identity --access-token dev-token users list`\n\
         in another, or point FBN_IDENTITY_URL and FBN_ACCESS_TOKEN at your own domain.",
        requests.len() - tokens,
        plural(tokens),
    ))?;
    Ok(())
}

/// Prints a line of the tour on stdout.
fn say(text: &str) -> Result<(), CliError> {
    Ok(print_text(&format!("{text}\n"))?)
}

/// The tour: its client, its emulator and how many steps it has taken.
struct Tour<'a> {
    client: &'a IdentityClient,
    emulator: &'a Emulator,
    steps: Cell<usize>,
}

impl Tour<'_> {
    /// Prints the step's title, runs it, prints what it says came back
    /// (each line indented), and hands back its value.
    async fn step<T>(
        &self,
        title: &str,
        action: impl Future<Output = Result<(T, String), CliError>>,
    ) -> Result<T, CliError> {
        self.steps.set(self.steps.get() + 1);
        say(&format!("{:>2}. {title}", self.steps.get()))?;
        match action.await {
            Ok((value, said)) => {
                for line in said.lines() {
                    say(&format!("      {line}"))?;
                }
                Ok(value)
            }
            Err(error) => {
                say("      failed:")?;
                Err(error)
            }
        }
    }

    /// Sets a user's status with the emulator's test hook.
    fn set_status(&self, id: &str, status: UserStatus) -> Result<(), CliError> {
        self.emulator
            .set_user_status(id, status)
            .map_err(CliError::Emulator)
    }

    /// A user's status, as GetUser answers it.
    async fn status(&self, id: &str) -> Result<UserStatus, CliError> {
        Ok(self.client.users().get_user(id).send().await?.status)
    }

    /// Every step of the tour, in order.
    async fn walk(&self) -> Result<(), CliError> {
        let users = self.client.users();
        let emulator = self.emulator;

        self.step("Authenticate with the password grant, and read the user schema", async {
            let schema = users.get_user_schema().send().await?;
            let tokens = emulator
                .requests()
                .iter()
                .filter(|request| request.operation.as_deref() == Some("Token") && request.status == Some(200))
                .count();
            let properties = schema.alternative_user_ids.map_or(0, |ids| ids.len());
            Ok(((), format!(
                "the token endpoint issued {tokens} bearer token{} (the SDK caches it and renews it before it expires)\n\
                 the schema has {properties} alternative-user-id propert{}",
                plural(tokens),
                if properties == 1 { "y" } else { "ies" },
            )))
        })
        .await?;

        self.step(
            "Set the user schema: users may carry an employeeId",
            async {
                let request = UpdateUserSchemaRequest::new(vec![UserSchemaProperty::new(
                    "employeeId",
                    "The number in the HR system",
                )]);
                let schema = users.update_user_schema(&request).send().await?;
                let names: Vec<String> = schema
                    .alternative_user_ids
                    .iter()
                    .flatten()
                    .map(|property| format!("{} ({})", property.name, property.description))
                    .collect();
                Ok(((), format!("the schema now lists: {}", names.join(", "))))
            },
        )
        .await?;

        let ada = self
            .step(
                "Create a Personal user (the login is the email address)",
                async {
                    let request =
                        CreateUserRequest::personal("Ada", "Lovelace", "ada.lovelace@example.com")
                            .with_alternative_user_id("employeeId", "E1815")
                            .with_role(RoleId::new("default", "analyst"));
                    let user = users.create_user(&request).send().await?;
                    let said = format!("created {}", describe(&user));
                    Ok((user.id, said))
                },
            )
            .await?;

        let service = self
            .step(
                "Create a Service user (a login of its own, a second email)",
                async {
                    let request = CreateUserRequest::service(
                        "Nightly",
                        "Reports",
                        "reports@example.com",
                        "nightly-reports",
                    )
                    .with_second_email_address("ops@example.com");
                    let user = users.create_user(&request).send().await?;
                    let said = format!("created {}", describe(&user));
                    Ok((user.id, said))
                },
            )
            .await?;

        self.step("List the users", async {
            let list = users.list_users().send().await?;
            Ok(((), user_lines(&list)))
        })
        .await?;

        self.step("List the runnable users (those that can run jobs)", async {
            let list = users.list_runnable_users().send().await?;
            Ok(((), user_lines(&list)))
        })
        .await?;

        self.step(
            &format!("Find users by id: both users and {MISSING_ID}"),
            async {
                let found = users
                    .find_users_by_id([ada.as_str(), service.as_str(), MISSING_ID])
                    .send()
                    .await?;
                let values = found.values.unwrap_or_default();
                let failed = found.failed.unwrap_or_default();
                let mut said = format!(
                    "found {}: {}",
                    values.len(),
                    values
                        .values()
                        .map(|user| user.login.clone().unwrap_or_default())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                for (id, failure) in &failed {
                    said.push_str(&format!(
                        "\nnot found: {id} ({})",
                        failure
                            .detail
                            .as_deref()
                            .or(failure.error_type.as_deref())
                            .unwrap_or("no detail")
                    ));
                }
                Ok(((), said))
            },
        )
        .await?;

        self.step("Get the Personal user, with its roles", async {
            let user = users.get_user(&ada).include_roles(true).send().await?;
            let ids = alternative_ids(
                &user
                    .alternative_user_ids
                    .clone()
                    .unwrap_or_else(BTreeMap::new),
            );
            Ok((
                (),
                format!(
                    "{}\nroles: {}; alternative ids: {ids}",
                    describe(&user),
                    role_list(user.roles.as_deref().unwrap_or_default()),
                ),
            ))
        })
        .await?;

        self.step(
            "Update the Personal user: get it, change the first name, put it back",
            async {
                let user = users.get_user(&ada).include_roles(true).send().await?;
                let mut request = UpdateUserRequest::from_user(&user);
                request.first_name = "Augusta Ada".to_owned();
                let updated = users.update_user(&ada, &request).send().await?;
                Ok((
                    (),
                    format!(
                        "first name was {}, is now {}",
                        user.first_name, updated.first_name
                    ),
                ))
            },
        )
        .await?;

        self.step("Send the activation email", async {
            users.send_activation_email(&ada).send().await?;
            Ok((
                (),
                format!(
                    "sent; status {} until Ada completes the set-up",
                    self.status(&ada).await?
                ),
            ))
        })
        .await?;

        self.step("Expire the password (Ada completed the set-up: the emulator's test hook makes her ACTIVE)", async {
            self.set_status(&ada, UserStatus::Active)?;
            let password = users.expire_password(&ada).send().await?;
            Ok(((), format!(
                "temporary password: {} (the emulator's throwaway; Ada must change it at next login)\nstatus {}",
                password.password,
                self.status(&ada).await?
            )))
        })
        .await?;

        self.step("Reset the password", async {
            users.reset_password(&ada).send().await?;
            Ok((
                (),
                format!("reset started; status {}", self.status(&ada).await?),
            ))
        })
        .await?;

        self.step("Reset the MFA factors", async {
            users.reset_factors(&ada).send().await?;
            Ok((
                (),
                format!(
                    "enrolment cleared; status unchanged: {}",
                    self.status(&ada).await?
                ),
            ))
        })
        .await?;

        self.step("Unlock (the emulator's test hook first puts Ada in LOCKED_OUT, as failed logins would)", async {
            self.set_status(&ada, UserStatus::LockedOut)?;
            users.unlock_user(&ada).send().await?;
            Ok(((), format!("unlocked: LOCKED_OUT -> {}", self.status(&ada).await?)))
        })
        .await?;

        self.step(
            "Unsuspend (the emulator's test hook first puts Ada in SUSPENDED)",
            async {
                self.set_status(&ada, UserStatus::Suspended)?;
                users.unsuspend_user(&ada).send().await?;
                Ok((
                    (),
                    format!("unsuspended: SUSPENDED -> {}", self.status(&ada).await?),
                ))
            },
        )
        .await?;

        self.step(
            "Delete the Service user (soft: deactivated, kept for audit)",
            async {
                users.delete_user(&service).send().await?;
                let listed = users.list_users().send().await?;
                Ok((
                    (),
                    format!(
                        "deleted; the user list now has {} user{}",
                        listed.len(),
                        plural(listed.len())
                    ),
                ))
            },
        )
        .await?;

        self.step("List the users, deactivated ones included", async {
            let list = users.list_users().include_deactivated(true).send().await?;
            Ok(((), user_lines(&list)))
        })
        .await?;

        self.step("Purge the Service user (every trace removed)", async {
            users.delete_user(&service).purge(true).send().await?;
            let list = users.list_users().include_deactivated(true).send().await?;
            let gone = list.iter().all(|user| user.id != service);
            Ok((
                (),
                format!(
                    "purged: {}; {} user{} left, deactivated included",
                    if gone {
                        "gone from every list"
                    } else {
                        "STILL LISTED"
                    },
                    list.len(),
                    plural(list.len())
                ),
            ))
        })
        .await?;
        Ok(())
    }
}

/// `Ada Lovelace <login> (id, type, status)`.
fn describe(user: &UserResponse) -> String {
    format!(
        "{} {} <{}> (id {}, {}, {})",
        user.first_name, user.last_name, user.login, user.id, user.user_type, user.status
    )
}

/// A count, then one line per user.
fn user_lines(users: &[UserResponse]) -> String {
    let mut lines = format!("{} user{}", users.len(), plural(users.len()));
    for user in users {
        lines.push_str(&format!("\n  {}", describe(user)));
    }
    lines
}
