//! `users export`: every user as JSON lines on stdout, written as the
//! ListUsers answer streams in, so memory does not grow with the domain.
//! Each line holds the service's exact text, with no control character raw
//! ([`write_json`]).

use std::io::{self, BufWriter, Write};

use finbourne_identity::IdentityClient;
use futures_util::StreamExt;

use crate::errors::CliError;
use crate::escape::write_json;
use crate::output::{note, plural};

/// Writes each user as one line of JSON on stdout.
pub(crate) async fn run(
    client: &IdentityClient,
    include_deactivated: bool,
) -> Result<(), CliError> {
    let users = client
        .users()
        .list_users()
        .include_deactivated(include_deactivated)
        .stream();
    let mut users = std::pin::pin!(users);
    let mut out = BufWriter::new(io::stdout());
    let mut count = 0_usize;
    while let Some(user) = users.next().await {
        let user = match user {
            Ok(user) => user,
            Err(error) => {
                // What was written stays written; say how far it got.
                out.flush()?;
                note(&format!(
                    "export stopped after {count} user{}",
                    plural(count)
                ));
                return Err(error.into());
            }
        };
        write_json(&mut out, &user, false)?;
        out.write_all(b"\n")?;
        count += 1;
    }
    out.flush()?;
    note(&format!("exported {count} user{}", plural(count)));
    Ok(())
}
