//! A faithful local FINBOURNE Identity service, for tests and development:
//! every operation of the Users API with the service's rules, an OAuth2
//! token endpoint, bearer-token checks, a request log and fault injection,
//! over real HTTP (HTTP/1.1 and cleartext HTTP/2) on a loopback socket.
//!
//! Start it in-process on a free port and point a client at its URLs:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), identity_emulator::EmulatorError> {
//! use identity_emulator::{EmulatorConfig, Fault, FaultRule, FaultWhen};
//!
//! let emulator = identity_emulator::start(EmulatorConfig {
//!     access_tokens: vec!["test-token".into()],
//!     ..EmulatorConfig::default()
//! })
//! .await?;
//! let base_url = emulator.base_url(); // http://127.0.0.1:<port>/identity
//! let token_url = emulator.token_url(); // http://127.0.0.1:<port>/oauth2/token
//! # let _ = (base_url, token_url);
//! // The next two CreateUser calls answer 429 with Retry-After: 1.
//! emulator.set_faults(vec![
//!     FaultRule::new(Some("CreateUser"), Fault::Status { status: 429, retry_after: Some("1".into()) })
//!         .when(FaultWhen::Next { n: 2 }),
//! ]);
//! emulator.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! # What it serves
//!
//! - `/identity/api/...`: the Users API of the service's contract
//!   (CreateUser answers 200, void operations 204, ListUsers and
//!   ListRunnableUsers a bare array), each call needing
//!   `Authorization: Bearer <token>` (a static token of the configuration,
//!   or one issued by the token endpoint and unexpired).
//!   Errors are problem details (`application/problem+json`) with the
//!   service's codes (see the table below); every answer carries
//!   `lusid-meta-requestId`. Bodies are accepted as `application/json`,
//!   `text/json`, `application/json-patch+json` or any `application/*+json`
//!   (others: 415); query booleans as `true`/`false` in any case.
//! - `/oauth2/token`: the password and refresh_token grants (RFC 6749).
//! - `/_emulator/...`: hooks for tests, the same as the methods of
//!   [`Emulator`], neither in the request log nor faulted nor rate-limited:
//!
//! | hook | what it does |
//! |---|---|
//! | `GET /_emulator/health` | 200 `{"status":"ok","version":"<crate version>"}`, never needs a token |
//! | `PUT /_emulator/users/{id}/status` `{"status":"LOCKED_OUT"}` | sets a user's status |
//! | `GET` / `DELETE /_emulator/requests` | the request log / clears it |
//! | `GET` / `PUT /_emulator/faults` `{"rules":[...]}` | the fault rules |
//! | `GET` / `PUT /_emulator/rate-limit` `{"requestsPerSecond":N}` | the rate limit (`null`: none) |
//! | `POST /_emulator/reset` | forgets users, schema, tokens, faults and the log |
//!
//! The hooks take the API's tokens. They **need** one (a static token, or
//! one issued by the token endpoint; 401 without) when the emulator runs
//! with `allow_remote` (`--allow-remote`) or a `state_file`
//! (`--state-file`): then other hosts may reach it, or what a hook does
//! outlives it. Otherwise they take a valid token or none, for local tests.
//! The health check never needs one: it reveals nothing.
//!
//! # Limits
//!
//! Nothing a caller sends, with a token or without, makes the emulator hold
//! more than its [`Limits`] (each a flag of the binary): a request head
//! longer than `max_head_bytes` is answered 431 unread; a head has
//! `head_timeout` to arrive, an idle connection is kept `idle_timeout`
//! (longer than the SDK's pool keeps one, [`SDK_POOL_IDLE_TIMEOUT`], so
//! that a reused connection never meets its close); at `max_connections`
//! a new connection takes the place of the one that has waited longest, or
//! is answered 503 with `Retry-After` before it is read when every one has
//! a request in flight; the request log is bounded per entry, in entries
//! and in bytes, and records a request after its bearer check; the token
//! form, its scope and the grants kept are bounded, expired ones swept.
//!
//! # Scale, rate limit and seeded users
//!
//! Users are indexed by id and by lower-cased login, so lookups and the
//! uniqueness checks cost the same at a million users as at a hundred
//! (ListUsers keeps creation order). [`EmulatorConfig::seed_users`]
//! (`--seed-users N`) starts with N realistic, deterministic users
//! (`user-000001@seed.example`, ...). [`EmulatorConfig::rate_limit`]
//! (`--rate-limit N`) allows N requests per second per bearer token (per
//! client at the token endpoint) and answers 429 with a fractional
//! `Retry-After` beyond; [`Emulator::set_rate_limit`] and
//! `PUT /_emulator/rate-limit` change it at run time.
//!
//! # Who may call it
//!
//! A page in the developer's browser must not drive a local emulator, so
//! every request is checked before the request log, the fault rules, a
//! route or a hook sees it (refusals are logged at `warn`):
//!
//! - **Exposure.** `allow_remote` on an address other machines can reach
//!   refuses to start with the public default password or client secret, or
//!   a static token shorter than [`MIN_REMOTE_TOKEN_CHARS`]
//!   ([`EmulatorError::GuessableCredentials`]).
//! - **Host.** Unless `allow_remote`, `Host` (HTTP/2: `:authority`) must
//!   name `localhost`, `127.0.0.1`, `[::1]` or the bound IP address, on any
//!   port (a port forward on this machine may put another port there; no one
//!   else can make a loopback name mean their host). Any other name (a page
//!   whose DNS name was rebound to 127.0.0.1) or none is answered
//!   **421 Misdirected Request**: the emulator is not the server for that
//!   name, which 421 says where 403 would say the right credentials could
//!   help. With `allow_remote` any host is served, since other hosts reach
//!   the emulator under names it cannot know; the hooks then need a token.
//! - **Origin.** A request whose `Origin` is not one of the emulator's own
//!   (`http://` and one of the names above, with the bound port) is answered
//!   **403**, API calls, the token endpoint and hooks alike, with or without
//!   `allow_remote`. Browsers send `Origin` on every cross-origin request and
//!   every request other than GET and HEAD; the SDKs send none. The emulator
//!   never sends `Access-Control-Allow-*` headers, so no CORS preflight
//!   succeeds and no cross-origin answer can be read.
//!
//! # The state file
//!
//! With a `state_file` (`--state-file PATH`), `PATH` holds a snapshot of the
//! users, roles and schema, and `PATH.journal` a JSON line per change made
//! since (what the change did, not the request). A change is answered once
//! its line is flushed to disk, so its cost does not grow with the domain;
//! the journal is folded into a new snapshot at start, at graceful shutdown
//! and when it outgrows the snapshot; a line cut short by a crash was never
//! acknowledged and is ignored. A journal of JSON Lines rather than an
//! embedded database (SQLite, redb): no C build and no new dependency, the
//! snapshot stays the JSON file people read and edit, and "acknowledged
//! means on disk" is one append and one flush. Both files are written with mode 0600 (on Unix)
//! through temporary files created new under random names beside them,
//! never through a link planted there.
//!
//! # Error answers
//!
//! | code | name | HTTP status |
//! |---|---|---|
//! | 151 | InvalidParameterValue | 400, with `errors` naming the parameter |
//! | 157 | InvalidRequestFailure | 400, with `errors` naming each bad field (`"$"`: the body as a whole); 415 for a body that is not JSON |
//! | 657 | UserNotFound | 404 |
//! | 658 | UserAlreadyExists | 400 |
//! | 705 | UserDeleted | 400 |
//! | 706 | UserNotLockedOut | 400 |
//! | 707 | UserAlreadyActivated | 400 |
//! | 717 | UserStatusInvalid | 400 |
//! | 718 | UserStatusInvalidForPasswordReset | 400 |
//! | 719 | UserStatusInvalidForPasswordExpiry | 400 |
//! | 786 | ActionNotValidForUserType | 400 |
//! | 0 | the status's reason phrase | injected status faults; 500 when the state file cannot be written |
//! | 0 | TooManyRequests | 429, over the rate limit, with `Retry-After` |
//! | 0 | MisdirectedRequest | 421, a request naming another host (see "Who may call it") |
//! | 0 | CrossOriginRequestRefused | 403, a request from another web origin |
//!
//! A missing, unknown or expired bearer token is a 401 with an empty body
//! and `WWW-Authenticate: Bearer` (with `error="invalid_token"` when a token
//! was sent). `Retry-After` is sent by an injected status fault that asks
//! for it, and with every 429 of the rate limit (seconds, fractional).
//!
//! # Choices where the service's documents are silent
//!
//! - A path id outside the contract's pattern (1-64 of `[A-Za-z0-9_-]`,
//!   after one percent-decoding) is answered 404, code 657, like an unknown
//!   user: `GET /identity/api/users/..%2Froles` is GetUser of the id
//!   `../roles`, never another resource.
//! - Lifecycle refusals follow the service's lifecycle table. A deleted
//!   (`DEPROVISIONED`) user can still be read and deleted again (or purged),
//!   and SendActivationEmail re-provisions it; UpdateUser and the other
//!   lifecycle operations answer 705. SendActivationEmail on a user activated
//!   before answers 707 (717 when `SUSPENDED`). ResetFactors on a Service
//!   user answers 786 (service accounts have no MFA enrolment); every other
//!   operation is valid for both user types.
//! - Validation is `identity-models`' `validate()`, plus `type` limited to
//!   `Personal`/`Service` and `alternativeUserIds` keys limited to the user
//!   schema's properties. Logins are unique case-insensitively, deleted users
//!   included.
//! - Roles given at create (or update, which replaces them when given) are
//!   answered by GetUser with `includeRoles=true` as source `LUSID`, name
//!   `scope/code`, and an id stable per role.
//! - Refresh tokens are not rotated and live 24 times the access token
//!   lifetime.
//! - Timestamps have .NET's 100 ns resolution and are written with seven
//!   fractional digits (in UTC, written `Z`).
//!
//! # Command line (feature `cli`, on by default)
//!
//! `fbn-identity emulator [--bind 127.0.0.1:8080] [--access-token T]... [--username U]
//! [--password P] [--client-id C] [--client-secret S] [--token-ttl-secs N]
//! [--state-file PATH] [--fault JSON]... [--rate-limit N] [--seed-users N]
//! [--ready-json] [--allow-remote] [limits]` (`cargo install identity-cli`;
//! this crate's `identity-emulator` binary is an alias); the flags are
//! [`EmulatorArgs`] (the limits [`LimitArgs`]), reusable by other command
//! lines with [`run`], each also read from an `IDENTITY_EMULATOR_*`
//! variable (the flag wins). Without the `cli` feature the crate is the
//! library alone, with no clap and no tracing-subscriber: the SDK's
//! `testing` feature takes it so. Settings no clock can
//! hold are refused at start with an error naming the flag
//! ([`EmulatorConfig::validate`]): a token lifetime beyond
//! [`MAX_TOKEN_TTL`] (10 years), a delay fault beyond [`MAX_FAULT_DELAY_MS`]
//! (a day), an empty access token, more than [`MAX_SEED_USERS`] seeded
//! users; every configuration it cannot start with is an error for which
//! [`EmulatorError::is_configuration`] holds (exit code 2). With
//! `--ready-json` it prints one JSON line on stdout once it listens (URLs
//! and the credentials that were not given to it, for a test suite in any
//! language) and nothing else there; neither it nor the banner prints back
//! a password, client secret or token it was given. SIGTERM and SIGINT stop it gracefully (in-flight
//! requests finish, the journal is folded, exit code 0). The binary logs to
//! stderr (warnings by default; `RUST_LOG=identity_emulator::requests=info`
//! adds one line per request, with no secret, header value or raw path).

mod auth;
#[cfg(feature = "cli")]
mod cli;
mod config;
mod connections;
mod emulator;
mod error;
mod extract;
mod faults;
mod guard;
mod limits;
mod log;
mod operations;
mod persist;
mod problems;
mod ratelimit;
#[cfg(feature = "cli")]
mod ready;
mod routes;
#[cfg(feature = "cli")]
mod run;
mod server;
mod service;
mod shared;
mod state;
mod tokens;
mod watched_io;

#[cfg(feature = "cli")]
pub use cli::{EmulatorArgs, FaultRules, LimitArgs};
pub use config::{
    DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_PASSWORD, DEFAULT_TOKEN_TTL,
    DEFAULT_USERNAME, EmulatorConfig, MAX_SEED_USERS, MAX_TOKEN_TTL, MIN_REMOTE_TOKEN_CHARS,
    REFRESH_TOKEN_TTL_FACTOR,
};
pub use emulator::{Emulator, start};
pub use error::EmulatorError;
pub use faults::{Fault, FaultRule, FaultWhen, MAX_FAULT_DELAY_MS};
pub use limits::{Limits, MIN_HEAD_BYTES, SDK_POOL_IDLE_TIMEOUT};
pub use log::{REQUEST_LOG_CAPACITY, RecordedRequest};
#[cfg(feature = "cli")]
pub use run::run;
