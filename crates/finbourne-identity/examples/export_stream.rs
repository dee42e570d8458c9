//! Stream every user of the domain to standard output as JSON Lines, one
//! user at a time: memory does not grow with the size of the domain, and a
//! domain of any size streams whole (a streamed list is bounded per user and
//! by the read timeout between pieces, not by the whole-body limit).
//!
//! ```sh
//! cargo run -p identity-cli -- emulator --access-token demo-token &
//! FBN_IDENTITY_URL=http://127.0.0.1:8080/identity FBN_ACCESS_TOKEN=demo-token \
//!     cargo run -p finbourne-identity --example export_stream > users.jsonl
//! ```

use std::io::Write;

use finbourne_identity::prelude::*;
use futures_util::StreamExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = IdentityClient::from_env()?;
    let mut users = std::pin::pin!(
        client
            .users()
            .list_users()
            .include_deactivated(true)
            .stream()
    );
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut count = 0usize;
    while let Some(user) = users.next().await {
        serde_json::to_writer(&mut out, &user?)?;
        out.write_all(b"\n")?;
        count += 1;
    }
    out.flush()?;
    eprintln!("exported {count} users");
    Ok(())
}
