//! The `schema` commands: show the user schema, or replace it with the
//! properties given (checked with the SDK's `validate()` first).

use finbourne_identity::{IdentityClient, UpdateUserSchemaRequest};

use crate::args::SchemaCommand;
use crate::errors::CliError;
use crate::output::{Output, note};

/// Runs a `schema` command.
pub(crate) async fn run(
    client: &IdentityClient,
    command: SchemaCommand,
    output: Output,
) -> Result<(), CliError> {
    let users = client.users();
    match command {
        SchemaCommand::Get => output.schema(&users.get_user_schema().send().await?)?,
        SchemaCommand::Set { properties } => {
            let count = properties.len();
            let request = UpdateUserSchemaRequest::new(properties);
            request.validate().map_err(|errors| CliError::Invalid {
                what: "the schema".to_owned(),
                errors,
            })?;
            output.schema(&users.update_user_schema(&request).send().await?)?;
            note(&format!(
                "set the user schema to {count} propert{}",
                if count == 1 { "y" } else { "ies" }
            ));
        }
    }
    Ok(())
}
